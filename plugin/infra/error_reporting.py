"""Error reports to Sentry when ``SENTRY_DSN`` is set (sentry-sdk, with its Flask and RQ
integrations: a page's or a job's unhandled exception is reported with its request or job).

Nothing personal or secret leaves: sentry-sdk's default of not sending personal data (no user,
cookies or IP address; ``send_default_pii`` is deprecated in 2.75 and left unset),
sentry-sdk's ``EventScrubber`` (recursive) blanks the values of keys such as ``authorization``,
``cookie``, ``token`` and ours (``access_token``, ``refresh_token``, ``client_secret``,
``x-amz-access-token``, ``code``, ``state``, ``email``), and ``scrub_event`` redacts tokens and
e-mail addresses from every string left (messages, exception values, breadcrumbs, URLs). Stack
frames go without their local variables, request bodies are never sent.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from plugin.infra.log_context import redact

FILTERED = "[Filtered]"
EXTRA_DENYLIST = [
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "x-amz-access-token",
    "x_amz_access_token",
    "code",
    "state",
    "email",
    "idempotency-key",
    "token_encryption_key",
    "secret_key",
    "http_cookie",
    "http_authorization",
]
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def scrub_text(text: str) -> str:
    """A string with tokens, OAuth callback values and e-mail addresses taken out."""
    return _EMAIL.sub("[email]", redact(text))


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {key: _scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def scrub_event(event: dict[str, Any], hint: Any = None) -> dict[str, Any]:
    """Sentry's ``before_send``: the event with no user, cookies or secret-looking strings."""
    event.pop("user", None)
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("cookies", None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            for name in list(headers):
                if name.lower() in {"authorization", "cookie", "x-amz-access-token"}:
                    headers[name] = FILTERED
    scrubbed: dict[str, Any] = _scrub(event)
    return scrubbed


def sentry_options(config: Any) -> dict[str, Any] | None:
    """The ``sentry_sdk.init`` arguments for these settings (None: no reporting)."""
    dsn = str(config.get("SENTRY_DSN") or "").strip()
    if not dsn:
        return None
    from sentry_sdk.integrations.flask import FlaskIntegration
    from sentry_sdk.integrations.rq import RqIntegration
    from sentry_sdk.scrubber import DEFAULT_DENYLIST
    from sentry_sdk.scrubber import EventScrubber

    return {
        "dsn": dsn,
        "environment": str(config.get("APP_ENV") or "development"),
        "integrations": [FlaskIntegration(), RqIntegration()],
        # No send_default_pii: sentry-sdk 2.75 deprecates it, and leaving it (and its successor
        # data_collection) unset is "send_default_pii=False": no user, cookies or IP address.
        "event_scrubber": EventScrubber(
            denylist=DEFAULT_DENYLIST + EXTRA_DENYLIST, recursive=True, send_default_pii=False
        ),
        "before_send": scrub_event,
        "before_breadcrumb": lambda crumb, hint: _scrub(crumb),
        # Frame locals hold tokens, WSGI environs (HTTP_COOKIE) and people's data under any
        # name: the stack trace is sent without them.
        "include_local_variables": False,
        "max_request_body_size": "never",  # form bodies (mapping files, sign-in) stay here
        "traces_sample_rate": 0.0,
    }


def init_app(app: Flask, **overrides: Any) -> bool:
    """Start reporting when ``SENTRY_DSN`` is set; True when it did. ``overrides`` (tests: a
    transport) are passed to ``sentry_sdk.init``."""
    options = sentry_options(app.config)
    if options is None:
        return False
    import sentry_sdk

    sentry_sdk.init(**options, **overrides)
    app.logger.info("Errors are reported to Sentry (%s)", options["environment"])
    return True
