"""Gunicorn's settings (the Procfile's ``web`` runs ``gunicorn --config gunicorn.conf.py``).

The access log goes to stdout with the ``code`` and ``state`` of OAuth callbacks (Xero's and
Amazon's, in the request line, the query string and the referer) replaced by ``[redacted]``:
an authorisation code in a log is a credential someone could still redeem. ``child_exit`` tells
prometheus-client's multiprocess mode that a worker is gone (``GET /metrics``).
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


def child_exit(server: Any, worker: Any) -> None:
    """A web worker ended: its live gauges leave the metrics (prometheus-client multiprocess
    mode; its counters stay counted). See plugin/infra/metrics.py."""
    import os

    from prometheus_client import multiprocess

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
