"""The organisation as Xero describes it (the "chart"), fetched from Xero and cached in Redis.

The chart is kept in the CHART.json shape of design.md §7, Xero's own JSON:
``{"Organisation": {...}, "Accounts": [...], "TaxRates": [...], "Currencies": [...],
"TrackingCategories": [...], "Contact": {"ContactID": "..."}}``, so what the app validates and
posts against can be written to a file as is and replayed with ``flask preview`` by support.
``chart_from_document`` turns it into a ``posting.Chart`` through ``chart_file.load_chart``, so
Xero's data passes the same checks as a CHART.json file.

Decisions:

- Only the fields posting, validation and support need are kept (the fields of the typed models
  of ``plugin.xero.models``): no addresses, phone numbers or bank account numbers end up in Redis
  or in a support file. Rates are ``Decimal``, lock dates ISO dates.
- Archived and deleted accounts and tax rates are kept: a mapping pointing at one must be named
  as such ("archived"), not as unknown. So are archived tracking categories and options
  (``includeArchived=true``).
- The cache holds Xero's part for ``max_age`` seconds (5 minutes) per organisation id
  (``chart:v1:<org id>``). The ``Contact`` comes from ``Organisation.amazon_contact_id`` at every
  read, so repairing the contact needs no cache flush. ``forget_chart`` drops the cached part
  (after a remap in Xero, a webhook, a reconnect).
- Redis being down, or a cached value that is not ours, is not an error: the chart is fetched
  again (and the problem logged).
"""

from __future__ import annotations

import logging
from typing import Any
from typing import Final
from typing import Protocol

import redis
import simplejson

from plugin.infra.keys import chart_cache_key
from plugin.mapping.chart_file import load_chart
from plugin.models import Organisation
from plugin.posting import Chart
from plugin.xero.models import XeroAccount
from plugin.xero.models import XeroCurrency
from plugin.xero.models import XeroOrganisation
from plugin.xero.models import XeroTaxRate
from plugin.xero.models import XeroTrackingCategory

__all__ = [
    "CACHE_SECONDS",
    "ChartSource",
    "cached_chart",
    "cached_chart_document",
    "cached_parts",
    "chart_document",
    "chart_from_document",
    "fetch_chart",
    "forget_chart",
    "payments_enabled_codes",
]

log = logging.getLogger(__name__)

CACHE_SECONDS: Final = 300
XERO_PARTS: Final = ("Organisation", "Accounts", "TaxRates", "Currencies", "TrackingCategories")
"""A cached value without one of these (cached before tracking was read) is fetched again."""


class ChartSource(Protocol):
    """What the chart needs from ``plugin.xero.client.XeroClient``."""

    def organisation(self) -> XeroOrganisation: ...

    def accounts(self, where: str | None = None) -> list[XeroAccount]: ...

    def tax_rates(self) -> list[XeroTaxRate]: ...

    def currencies(self) -> list[XeroCurrency]: ...

    def tracking_categories(self) -> list[XeroTrackingCategory]: ...


def xero_parts(client: ChartSource) -> dict[str, Any]:
    """Fetch Organisation, Accounts, TaxRates, Currencies and TrackingCategories (five calls).

    Each part holds only the fields its model keeps (``plugin.xero.models``), in Xero's shape;
    rates stay ``Decimal`` (the cache writes them as exact JSON numbers).
    """
    return {
        "Organisation": client.organisation().document(),
        "Accounts": [a.document() for a in client.accounts()],
        "TaxRates": [t.document() for t in client.tax_rates()],
        "Currencies": [c.document() for c in client.currencies()],
        "TrackingCategories": [_category(t) for t in client.tracking_categories()],
    }


def _category(category: XeroTrackingCategory) -> dict[str, Any]:
    """A tracking category in Xero's shape, its options a JSON list (as when read back from the
    cache) rather than the model's tuple."""
    document = category.document()
    document["Options"] = list(document.get("Options", ()))
    return document


def with_contact(parts: dict[str, Any], org: Organisation) -> dict[str, Any]:
    """Return the CHART.json document: Xero's parts plus the org's Amazon Business contact."""
    document: dict[str, Any] = {name: parts[name] for name in XERO_PARTS if name in parts}
    if org.amazon_contact_id:
        document["Contact"] = {"ContactID": org.amazon_contact_id}
    return document


def chart_document(client: ChartSource, org: Organisation) -> dict[str, Any]:
    """Fetch the organisation's chart from Xero as a CHART.json document (no cache)."""
    return with_contact(xero_parts(client), org)


def chart_from_document(document: object, source: str = "Xero") -> Chart:
    """Return the ``posting.Chart`` of a CHART.json document (``ChartFileError`` if malformed)."""
    return load_chart(document, source)


def fetch_chart(client: ChartSource, org: Organisation) -> Chart:
    """Fetch the organisation's chart from Xero (no cache)."""
    return chart_from_document(chart_document(client, org))


def payments_enabled_codes(document: dict[str, Any]) -> frozenset[str]:
    """Return the codes of accounts with "Enable payments to this account" ticked."""
    return frozenset(
        str(a["Code"])
        for a in document.get("Accounts") or []
        if isinstance(a, dict) and a.get("EnablePaymentsToAccount") is True and a.get("Code")
    )


def cached_parts(client: redis.Redis, org_id: int) -> dict[str, Any] | None:
    """The organisation's cached chart parts (None: not cached, unreadable, or Redis down)."""
    try:
        raw = client.get(chart_cache_key(org_id))
    except redis.RedisError as exc:
        log.warning("chart cache unavailable for org %s: %s", org_id, exc)
        return None
    if raw is None:
        return None
    try:
        parts = simplejson.loads(raw, use_decimal=True)
    except (ValueError, TypeError):
        parts = None
    if not isinstance(parts, dict) or not all(name in parts for name in XERO_PARTS):
        log.warning("ignoring an unreadable cached chart for org %s", org_id)
        return None
    return parts


def _store_parts(client: redis.Redis, org_id: int, parts: dict[str, Any], max_age: int) -> None:
    try:
        text = simplejson.dumps(parts, separators=(",", ":"), use_decimal=True)
        client.set(chart_cache_key(org_id), text, ex=max_age)
    except redis.RedisError as exc:
        log.warning("could not cache the chart of org %s: %s", org_id, exc)


def cached_chart_document(
    redis_client: redis.Redis,
    client: ChartSource,
    org: Organisation,
    max_age: int = CACHE_SECONDS,
) -> dict[str, Any]:
    """Return the CHART.json document, from the cache when fetched less than ``max_age`` ago."""
    assert org.id is not None
    parts = cached_parts(redis_client, org.id) if max_age > 0 else None
    if parts is None:
        parts = xero_parts(client)
        if max_age > 0:
            _store_parts(redis_client, org.id, parts, max_age)
    return with_contact(parts, org)


def cached_chart(
    redis_client: redis.Redis,
    client: ChartSource,
    org: Organisation,
    max_age: int = CACHE_SECONDS,
) -> Chart:
    """Return the organisation's ``posting.Chart``, cached for ``max_age`` seconds."""
    return chart_from_document(cached_chart_document(redis_client, client, org, max_age))


def forget_chart(redis_client: redis.Redis, org_id: int) -> None:
    """Drop the cached chart of an organisation (the next read fetches it from Xero)."""
    try:
        redis_client.delete(chart_cache_key(org_id))
    except redis.RedisError as exc:
        log.warning("could not forget the cached chart of org %s: %s", org_id, exc)
