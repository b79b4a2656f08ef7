"""The Amazon Business settings as plain values, so jobs, the CLI and views share one code path.

``AmazonSettings.from_config(app.config)`` reads them once; nothing in ``plugin.amazon`` needs
the Flask app. ``SessionFactory`` is how code outside a request opens a database session.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from plugin.amazon.lwa import LwaCredentials
from plugin.amazon.regions import lwa_token_url

CALLBACK_PATH = "/amazon/callback"

SessionFactory = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True)
class AmazonSettings:
    """The Amazon Business settings, as plain values (built from the app config once)."""

    client_id: str
    client_secret: str
    application_id: str
    lwa_token_url: str
    consent_url_template: str
    api_url_template: str
    public_url: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AmazonSettings:
        """Read the ``AMAZON_*`` settings and ``PUBLIC_URL`` from a config mapping."""
        return cls(
            client_id=str(config.get("AMAZON_CLIENT_ID") or ""),
            client_secret=str(config.get("AMAZON_CLIENT_SECRET") or ""),
            application_id=str(config.get("AMAZON_APPLICATION_ID") or ""),
            lwa_token_url=lwa_token_url(str(config.get("AMAZON_LWA_TOKEN_URL") or "")),
            consent_url_template=str(config.get("AMAZON_CONSENT_URL_TEMPLATE") or ""),
            api_url_template=str(config.get("AMAZON_API_URL_TEMPLATE") or ""),
            public_url=str(config.get("PUBLIC_URL") or "").rstrip("/"),
        )

    @property
    def redirect_uri(self) -> str:
        """Where Amazon sends the browser back (must be registered on the app in SPP)."""
        return self.public_url + CALLBACK_PATH

    @property
    def lwa_credentials(self) -> LwaCredentials:
        """The LWA client credentials and token endpoint."""
        return LwaCredentials(self.client_id, self.client_secret, self.lwa_token_url)

    def __repr__(self) -> str:  # keep the client secret out of logs
        return f"AmazonSettings(client_id={self.client_id!r}, public_url={self.public_url!r})"
