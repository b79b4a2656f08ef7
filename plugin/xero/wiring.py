"""Builds the Xero objects from the Flask app's settings (clients themselves never see Flask)."""

from __future__ import annotations

from flask import Flask
from flask import current_app

from plugin.db import session_scope
from plugin.infra.queues import get_redis
from plugin.infra.ratelimit import XeroLimits
from plugin.infra.ratelimit import XeroRateLimiter
from plugin.models import Organisation
from plugin.security import token_cipher
from plugin.xero.auth import XeroAppSettings
from plugin.xero.auth import XeroIdentity
from plugin.xero.client import XeroClient
from plugin.xero.timing import timing_of
from plugin.xero.tokens import XeroTokenManager


def _app(app: Flask | None) -> Flask:
    return app or current_app._get_current_object()  # type: ignore[attr-defined]


def xero_identity(app: Flask | None = None) -> XeroIdentity:
    """The identity service client for this app's Xero credentials."""
    return XeroIdentity(XeroAppSettings.from_config(_app(app).config))


def xero_limiter(app: Flask | None = None) -> XeroRateLimiter:
    """The shared rate limiter, with the limits from the settings."""
    app = _app(app)
    limits = XeroLimits(
        concurrent=int(app.config["XERO_CONCURRENT_LIMIT"]),
        per_minute=int(app.config["XERO_MINUTE_LIMIT"]),
        per_day=int(app.config["XERO_DAILY_CALL_BUDGET"]),
        app_per_minute=int(app.config["XERO_APP_MINUTE_LIMIT"]),
    )
    return XeroRateLimiter(get_redis(app), limits)


def xero_tokens(org_id: int, app: Flask | None = None) -> XeroTokenManager:
    """The token manager of one organisation."""
    app = _app(app)
    return XeroTokenManager(
        org_id,
        session_factory=lambda: session_scope(app),
        cipher=token_cipher(app),
        identity=xero_identity(app),
        redis_client=get_redis(app),
    )


def xero_client(org: Organisation, app: Flask | None = None, max_wait: float = 10.0) -> XeroClient:
    """The Accounting API client of one organisation."""
    app = _app(app)
    assert org.id is not None
    return XeroClient(
        org.xero_tenant_id,
        xero_tokens(org.id, app),
        xero_limiter(app),
        api_url=str(app.config["XERO_API_URL"]),
        max_wait=max_wait,
        timing=timing_of(app.config),
    )
