"""Shortcuts for posting tests: translate a raw payload against a loaded org."""

from __future__ import annotations

from typing import Any

from plugin.amazon.models import parse_transaction
from plugin.posting import Document
from plugin.posting import Held
from plugin.posting import PostingContext
from plugin.posting import translate
from tests.unit.charts import chart_of
from tests.unit.charts import mapping_of
from tests.unit.charts import uk_chart
from tests.unit.charts import uk_mapping
from tests.unit.charts import us_chart
from tests.unit.charts import us_mapping


def post_us(
    raw: dict[str, Any],
    *,
    mapping: dict[str, Any] | None = None,
    chart: dict[str, Any] | None = None,
    context: PostingContext | None = None,
) -> Document | Held:
    """Translate ``raw`` for the US org (or the given mapping/chart dicts)."""
    return translate(
        parse_transaction(raw),
        mapping_of(mapping or us_mapping()),
        chart_of(chart or us_chart()),
        context,
    )


def post_uk(
    raw: dict[str, Any],
    *,
    mapping: dict[str, Any] | None = None,
    chart: dict[str, Any] | None = None,
    context: PostingContext | None = None,
) -> Document | Held:
    """Translate ``raw`` for the UK org (or the given mapping/chart dicts)."""
    return translate(
        parse_transaction(raw),
        mapping_of(mapping or uk_mapping()),
        chart_of(chart or uk_chart()),
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


def amounts(doc: Document, key: str) -> list[float]:
    """One field of every line, e.g. ``amounts(doc, "LineAmount")``."""
    return [line[key] for line in doc.body["LineItems"]]
