"""A local stand-in for Xero and Amazon Business, for the demo and the end-to-end tests.

One small Flask app (its own process, default port 5001) serves Xero's identity and Accounting
API and Amazon Business's consent page, LWA token endpoint, Reconciliation and Document APIs.
The plugin knows it only through configured base URLs. State lives in memory and is rebuilt
deterministically from a seed (``POST /_sandbox/reset``).
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from flask import Flask

from sandbox.core import Sandbox

DEFAULTS: dict[str, Any] = {
    # Where the sandbox says it lives (issuer, links in discovery documents, presigned URLs).
    "SANDBOX_BASE_URL": "http://127.0.0.1:5001",
    "SANDBOX_SEED": 42,
    # 1.0 = real time; 60.0 = one real second is one sandbox minute (limits, token expiry, reports).
    "SANDBOX_CLOCK_SPEED": 1.0,
    # Credentials the sandbox accepts from the plugin (must match the plugin's configuration).
    "SANDBOX_XERO_CLIENT_ID": "sandbox-xero-client-id",
    "SANDBOX_XERO_CLIENT_SECRET": "sandbox-xero-client-secret",
    "SANDBOX_XERO_WEBHOOK_KEY": "sandbox-xero-webhook-key",
    "SANDBOX_AMAZON_CLIENT_ID": "amzn1.application-oa2-client.sandbox",
    "SANDBOX_AMAZON_CLIENT_SECRET": "sandbox-amazon-client-secret",
    "SANDBOX_AMAZON_APPLICATION_ID": "amzn1.sp.solution.sandbox",
    # Xero limits per tenant and app-wide (Xero's real numbers by default).
    "SANDBOX_XERO_CONCURRENT_LIMIT": 5,
    "SANDBOX_XERO_MINUTE_LIMIT": 60,
    "SANDBOX_XERO_DAILY_LIMIT": 5000,
    "SANDBOX_XERO_APP_MINUTE_LIMIT": 10000,
    # Generated Amazon Business volume per account (transactions over the history window).
    "SANDBOX_AMAZON_TRANSACTIONS": 60,
    "SANDBOX_AMAZON_HISTORY_DAYS": 90,
}


def create_sandbox_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the sandbox app; ``config`` overrides the defaults and ``SANDBOX_*`` variables."""
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    for key, default in DEFAULTS.items():
        if key in os.environ:
            app.config[key] = type(default)(os.environ[key])
    if config:
        app.config.update(config)
    app.config["SANDBOX_BASE_URL"] = str(app.config["SANDBOX_BASE_URL"]).rstrip("/")
    # Its own cookie name: browsers share cookies across ports of one host, and the plugin's
    # session must survive a visit to the sandbox's sign-in pages.
    app.config["SESSION_COOKIE_NAME"] = "sandbox_session"
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secrets.token_hex(32)

    sandbox = Sandbox(app.config)
    app.extensions["sandbox"] = sandbox

    from sandbox import amazon
    from sandbox import bulk
    from sandbox import control
    from sandbox import xero

    control.init_app(app)
    xero.init_app(app)
    amazon.init_app(app)
    bulk.init_app(app)
    sandbox.reset()
    return app
