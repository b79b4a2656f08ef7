"""Shortcuts for posting tests: translate a raw payload against a loaded org."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from plugin.amazon.models import parse_transaction
from plugin.posting import Document
from plugin.posting import Held
from plugin.posting import PostingContext
from plugin.posting import translate
from tests.common.charts import chart_of
from tests.common.charts import mapping_of
from tests.common.charts import uk_chart
from tests.common.charts import uk_mapping
from tests.common.charts import us_chart
from tests.common.charts import us_mapping


def post_us(raw: dict[str, Any], **options: Any) -> Document | Held:
    """Translate ``raw`` for the US org (``mapping=``/``chart=`` dicts, ``context=`` to vary it)."""
    return _post(raw, us_mapping, us_chart, **options)


def post_uk(raw: dict[str, Any], **options: Any) -> Document | Held:
    """Translate ``raw`` for the UK org (``mapping=``/``chart=`` dicts, ``context=`` to vary it)."""
    return _post(raw, uk_mapping, uk_chart, **options)


def _post(
    raw: dict[str, Any],
    org_mapping: Callable[[], dict[str, Any]],
    org_chart: Callable[[], dict[str, Any]],
    *,
    mapping: dict[str, Any] | None = None,
    chart: dict[str, Any] | None = None,
    context: PostingContext | None = None,
) -> Document | Held:
    return translate(
        parse_transaction(raw),
        mapping_of(mapping or org_mapping()),
        chart_of(chart or org_chart()),
        context,
    )


def document(result: Document | Held) -> Document:
    """Assert ``result`` is a document and return it."""
    assert isinstance(result, Document), f"held: {result}"
    return result


def held(result: Document | Held) -> Held:
    """Assert ``result`` is held and return it."""
    assert isinstance(result, Held), f"posted: {result}"
    return result


def amounts(doc: Document, key: str) -> list[Any]:
    """One field of every line, e.g. ``amounts(doc, "LineAmount")`` (amounts are ``Decimal``)."""
    return [line[key] for line in doc.body["LineItems"]]
