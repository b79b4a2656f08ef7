"""The Amazon Business stores the API serves, and the URLs that go with each (spec §1.2, §2).

One table, ``STORES``: a store is a country site (``UK`` is amazon.co.uk) served by one regional
API host. Amazon's region codes are NA, EU and FE; the FE host is ``jp.``, not ``fe.``, so the
lower-case *region path* used in hosts and in ``AMAZON_API_URL_TEMPLATE`` is ``na``/``eu``/``jp``.
Country codes follow Amazon Business's own enums (``UK``, never ``GB``).

Decisions:

- Every store the API serves is offered in the picker; US and UK come first (most customers),
  then the others in the spec's order.
- ``AMAZON_CONSENT_URL_TEMPLATE`` (e.g. ``http://localhost:5001/amazon/{store}``) replaces the
  store's consent *base*; ``/b2b/abws/oauth`` is always appended. ``AMAZON_API_URL_TEMPLATE``
  (e.g. ``http://localhost:5001/amazon-api/{region}``) replaces the API host. Both accept
  ``{store}`` and ``{region}``. Empty templates mean Amazon's real hosts.
- The LWA token URL defaults to ``https://api.amazon.com/auth/o2/token`` for every region (what
  all inspected clients use; the regional LWA hosts are UNCONFIRMED for Amazon Business) and is
  configurable (``AMAZON_LWA_TOKEN_URL``).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode
from urllib.parse import urlsplit

DEFAULT_LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"  # noqa: S105 - a URL
CONSENT_PATH = "/b2b/abws/oauth"

REGION_PATHS: dict[str, str] = {"NA": "na", "EU": "eu", "FE": "jp"}


class UnknownStore(ValueError):
    """A store code that is not in the table; the message is fit to show the user."""


@dataclass(frozen=True)
class Store:
    """One Amazon Business store (a country site) and the API region that serves it."""

    code: str
    country: str
    consent_base: str
    region: str
    marketplace_id: str
    currency: str
    offered: bool = True

    @property
    def display_name(self) -> str:
        """The default connection name, e.g. ``"Amazon Business UK"``."""
        return f"Amazon Business {self.code}"

    @property
    def domain(self) -> str:
        """The store's web domain, e.g. ``amazon.co.uk``."""
        host = urlsplit(self.consent_base).hostname or ""
        return host.removeprefix("www.")

    @property
    def region_path(self) -> str:
        """The region as it appears in the API host: ``na``, ``eu`` or ``jp``."""
        return REGION_PATHS[self.region]

    @property
    def api_host(self) -> str:
        """Amazon's production API host for the store's region."""
        return f"https://{self.region_path}.business-api.amazon.com"


STORES: tuple[Store, ...] = (
    Store("US", "United States", "https://www.amazon.com", "NA", "ATVPDKIKX0DER", "USD"),
    Store("UK", "United Kingdom", "https://www.amazon.co.uk", "EU", "A1F83G8C2ARO7P", "GBP"),
    Store("CA", "Canada", "https://www.amazon.ca", "NA", "A2EUQ1WTGCTBG2", "CAD"),
    Store("MX", "Mexico", "https://www.amazon.com.mx", "NA", "A1AM78C64UM0Y8", "MXN"),
    Store("DE", "Germany", "https://www.amazon.de", "EU", "A1PA6795UKMFR9", "EUR"),
    Store("FR", "France", "https://www.amazon.fr", "EU", "A13V1IB3VIYZZH", "EUR"),
    Store("IT", "Italy", "https://www.amazon.it", "EU", "APJ6JRA9NG5V4", "EUR"),
    Store("ES", "Spain", "https://www.amazon.es", "EU", "A1RKKUPIHCS9HS", "EUR"),
    Store("IN", "India", "https://www.amazon.in", "EU", "A21TJRUUN4KGV", "INR"),
    Store("JP", "Japan", "https://www.amazon.co.jp", "FE", "A1VC38T7YXB528", "JPY"),
    Store("AU", "Australia", "https://www.amazon.com.au", "FE", "A39IBJ37TRP1C6", "AUD"),
)

_BY_CODE: dict[str, Store] = {store.code: store for store in STORES}
_BY_MARKETPLACE: dict[str, Store] = {store.marketplace_id: store for store in STORES}


def store_for(code: str) -> Store:
    """The store for a country code (case-insensitive); UnknownStore otherwise."""
    store = _BY_CODE.get(str(code).strip().upper())
    if store is None:
        raise UnknownStore(f"'{code}' is not an Amazon Business store this app can connect.")
    return store


def store_for_marketplace(marketplace_id: str) -> Store | None:
    """The store with this ``marketplaceId``, or None."""
    return _BY_MARKETPLACE.get(marketplace_id)


def picker_stores() -> list[Store]:
    """The stores offered in the region picker, in display order (US and UK first)."""
    return [store for store in STORES if store.offered]


XERO_COUNTRY_STORES = {"GB": "UK"}  # Xero's ISO country code where the store code differs


def default_store_code(country: str | None, offered: list[str]) -> str | None:
    """The store the picker preselects for an organisation in ``country`` (Xero's
    ``CountryCode``): its own country's store when it is offered, else none (the first)."""
    code = (country or "").upper()
    code = XERO_COUNTRY_STORES.get(code, code)
    return code if code in offered else None


def _fill(template: str, store: Store) -> str:
    return template.format(store=store.code, region=store.region_path).rstrip("/")


def consent_base(store: Store, template: str = "") -> str:
    """Where the store's consent page lives (before ``/b2b/abws/oauth``)."""
    return _fill(template, store) if template else store.consent_base


def consent_url(
    store: Store, *, application_id: str, state: str, redirect_uri: str, template: str = ""
) -> str:
    """The store's consent page URL with ``applicationId``, ``state`` and ``redirect_uri``."""
    query = urlencode(
        {"applicationId": application_id, "state": state, "redirect_uri": redirect_uri}
    )
    return f"{consent_base(store, template)}{CONSENT_PATH}?{query}"


def consent_origins(template: str = "") -> list[str]:
    """The distinct origins of every offered store's consent page (for CSP ``form-action``)."""
    origins: list[str] = []
    for store in picker_stores():
        parts = urlsplit(consent_base(store, template))
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in origins:
            origins.append(origin)
    return origins


def api_base_url(store: Store, template: str = "") -> str:
    """The base URL of the store's regional API (no trailing slash)."""
    return _fill(template, store) if template else store.api_host


def lwa_token_url(configured: str = "") -> str:
    """The LWA token endpoint: the configured one, else ``api.amazon.com``."""
    return configured or DEFAULT_LWA_TOKEN_URL
