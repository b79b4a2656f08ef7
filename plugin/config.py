"""Settings from the environment (and an optional ``.env``), with embedded defaults.

Every setting has a default that lets the app run on a laptop with no configuration at all:
SQLite under ``instance/``, a Redis found or started for us, a development encryption key.
Production (``APP_ENV=production``) refuses to start without the secrets it needs.
The README lists every setting; keep the two in step.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent.parent

XERO_DEFAULT_SCOPES = (
    "openid profile email offline_access accounting.settings.read accounting.contacts "
    "accounting.banktransactions accounting.invoices accounting.payments accounting.attachments"
)

# name -> (default, parser). Defaults of None mean "derived at start-up" or "not set".
SETTINGS: dict[str, tuple[Any, type]] = {
    "APP_ENV": ("development", str),
    "SECRET_KEY": (None, str),
    "PUBLIC_URL": ("http://127.0.0.1:5000", str),
    "INSTANCE_PATH": (None, str),
    "DATABASE_URL": (None, str),
    "REDIS_URL": (None, str),
    "TOKEN_ENCRYPTION_KEY": (None, str),
    "LOG_LEVEL": ("INFO", str),
    # Operating it: JSON logs ("json") or text, the /metrics bearer token, Sentry's DSN
    "LOG_FORMAT": ("text", str),
    "METRICS_TOKEN": ("", str),
    "SENTRY_DSN": ("", str),
    # Xero
    "XERO_CLIENT_ID": ("", str),
    "XERO_CLIENT_SECRET": ("", str),
    "XERO_WEBHOOK_KEY": ("", str),
    "XERO_SCOPES": (XERO_DEFAULT_SCOPES, str),
    "XERO_LOGIN_URL": ("https://login.xero.com", str),
    "XERO_IDENTITY_URL": ("https://identity.xero.com", str),
    "XERO_API_URL": ("https://api.xero.com", str),
    "XERO_DAILY_CALL_BUDGET": (5000, int),
    "XERO_MINUTE_LIMIT": (60, int),
    "XERO_CONCURRENT_LIMIT": (5, int),
    "XERO_APP_MINUTE_LIMIT": (10000, int),
    # How long the client waits for an answer, and how long after sending a write it may still
    # be in Xero's hands (nothing of it is looked up or sent again before): plugin/xero/timing.py
    "XERO_READ_TIMEOUT_SECONDS": (60, int),
    "XERO_IN_FLIGHT_SECONDS": (300, int),
    # Amazon Business
    "AMAZON_CLIENT_ID": ("", str),
    "AMAZON_CLIENT_SECRET": ("", str),
    "AMAZON_APPLICATION_ID": ("", str),
    "AMAZON_LWA_TOKEN_URL": ("https://api.amazon.com/auth/o2/token", str),
    # Overrides for the demo and tests: "{store}" / "{region}" are filled in per connection.
    "AMAZON_CONSENT_URL_TEMPLATE": ("", str),
    "AMAZON_API_URL_TEMPLATE": ("", str),
    # Mail
    "SMTP_URL": ("", str),
    "MAIL_FROM": ("Amazon Business for Xero <no-reply@localhost>", str),
    "MAIL_OUTBOX_DIR": (None, str),
    # Jobs
    "SYNC_INTERVAL_MINUTES": (60, int),
    "SYNC_OVERLAP_DAYS": (3, int),
    "ORG_LOCK_SECONDS": (60, int),  # renewed every third of it while held (infra/locks.py)
    # An import interrupted this many times (its worker killed, or its job crashing) is marked
    # failed with the reason instead of being queued again for ever.
    "IMPORT_RESUME_LIMIT": (25, int),
}


def _parse_bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_settings(environ: dict[str, str] | None = None, dotenv: bool = True) -> dict[str, Any]:
    """Read every setting from the environment (``.env`` in the project root fills gaps)."""
    if environ is None:
        if dotenv:
            load_dotenv(ROOT / ".env", override=False)
        environ = dict(os.environ)
    settings: dict[str, Any] = {}
    for name, (default, parser) in SETTINGS.items():
        raw = environ.get(name)
        if raw is None or raw == "":
            settings[name] = default
        elif parser is bool:
            settings[name] = _parse_bool(raw)
        else:
            settings[name] = parser(raw)
    return settings


MIN_LOCK_SECONDS = 3  # the lock's keep-alive runs every third of it: at least once a second


def settings_problems(config: Any) -> list[str]:
    """The settings that are unsafe together, each with why (empty: safe). The app refuses to
    start with any (``create_app``); docs/reliability.md explains the rules."""
    from plugin.xero.timing import timing_of
    from plugin.xero.timing import timing_problem

    problems = []
    timing = timing_problem(timing_of(config))
    if timing:
        problems.append(timing)
    lock = int(config.get("ORG_LOCK_SECONDS") or 0)
    if lock < MIN_LOCK_SECONDS:
        problems.append(
            f"ORG_LOCK_SECONDS ({lock}) must be at least {MIN_LOCK_SECONDS}: the lock is kept "
            "alive every third of it, and a shorter one could expire under a live run."
        )
    return problems


class UnsafeSettings(RuntimeError):
    """Settings that would let one organisation's work run twice at once, or a write be sent
    again while it is in flight."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("Refusing to start: " + " ".join(problems))
        self.problems = problems


def is_production(config: Any) -> bool:
    """True when running with production rules (secrets required, secure cookies)."""
    return str(config.get("APP_ENV", "development")).lower() == "production"


def is_development(config: Any) -> bool:
    """True on a laptop or in the demo (``APP_ENV=development``, the default): only then are
    development conveniences served, such as the ``/outbox`` page."""
    return str(config.get("APP_ENV") or "development").lower() == "development"
