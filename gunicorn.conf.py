"""Gunicorn's settings (the Procfile's ``web`` runs ``gunicorn --config gunicorn.conf.py``).

The access log goes to stdout with the ``code`` and ``state`` of OAuth callbacks (Xero's and
Amazon's, in the request line, the query string and the referer) replaced by ``[redacted]``:
an authorisation code in a log is a credential someone could still redeem.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from plugin.security import redact_query_secrets


class RedactingLogger(Logger):
    """Gunicorn's logger, with OAuth query secrets redacted from every access-log value."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {
            key: redact_query_secrets(value) if isinstance(value, str) else value
            for key, value in atoms.items()
        }


logger_class = RedactingLogger
accesslog = "-"
