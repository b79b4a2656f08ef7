"""The sandbox's own table of Amazon Business stores: region, currency, marketplace id, host.

The plugin has its own copy; this one exists so the sandbox never imports the plugin.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Store:
    """One Amazon Business store (a country site) and the API region that serves it."""

    code: str
    region: str
    currency: str
    marketplace_id: str
    domain: str

    @property
    def region_path(self) -> str:
        """The region in the API host and the sandbox path: ``na``, ``eu`` or ``jp``."""
        return REGION_PATHS[self.region]


REGION_PATHS: dict[str, str] = {"NA": "na", "EU": "eu", "FE": "jp"}
REGIONS_BY_PATH: dict[str, str] = {path: region for region, path in REGION_PATHS.items()}

STORES: dict[str, Store] = {
    store.code: store
    for store in (
        Store("US", "NA", "USD", "ATVPDKIKX0DER", "amazon.com"),
        Store("CA", "NA", "CAD", "A2EUQ1WTGCTBG2", "amazon.ca"),
        Store("MX", "NA", "MXN", "A1AM78C64UM0Y8", "amazon.com.mx"),
        Store("UK", "EU", "GBP", "A1F83G8C2ARO7P", "amazon.co.uk"),
        Store("DE", "EU", "EUR", "A1PA6795UKMFR9", "amazon.de"),
        Store("FR", "EU", "EUR", "A13V1IB3VIYZZH", "amazon.fr"),
        Store("IT", "EU", "EUR", "APJ6JRA9NG5V4", "amazon.it"),
        Store("ES", "EU", "EUR", "A1RKKUPIHCS9HS", "amazon.es"),
        Store("IN", "EU", "INR", "A21TJRUUN4KGV", "amazon.in"),
        Store("JP", "FE", "JPY", "A1VC38T7YXB528", "amazon.co.jp"),
        Store("AU", "FE", "AUD", "A39IBJ37TRP1C6", "amazon.com.au"),
    )
}

STORES_BY_MARKETPLACE: dict[str, Store] = {store.marketplace_id: store for store in STORES.values()}


def store_for(code: str) -> Store | None:
    """The store for a country code (case-insensitive), or None."""
    return STORES.get(code.upper())
