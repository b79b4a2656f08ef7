"""Gunicorn's settings (the Procfile's ``web`` runs ``gunicorn --config gunicorn.conf.py``).

The access log goes to stdout with the ``code`` and ``state`` of OAuth callbacks (Xero's and
Amazon's, in the request line, the query string and the referer) replaced by ``[redacted]``:
an authorisation code in a log is a credential someone could still redeem. ``child_exit`` tells
prometheus-client's multiprocess mode that a worker is gone (``GET /metrics``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from gunicorn.glogging import Logger

from plugin.config import load_settings
from plugin.infra import log_context
from plugin.security import redact_query_secrets


class RedactingLogger(Logger):
    """Gunicorn's logger, with OAuth query secrets redacted from every access-log value; with
    ``LOG_FORMAT=json`` its error and access lines are JSON objects like the app's, each access
    line with the ``request_id`` the app answered with (``X-Request-ID``)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        log_format = str(load_settings().get("LOG_FORMAT") or "text")
        if log_format.strip().lower() != "json":
            return
        for logger in (self.error_log, self.access_log):
            for handler in logger.handlers:
                log_context.install(handler, log_format)
        self.access_log.addFilter(_request_id_of_access)

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {
            key: redact_query_secrets(value) if isinstance(value, str) else value
            for key, value in atoms.items()
        }


def _request_id_of_access(record: logging.LogRecord) -> bool:
    """An access line's ``request_id``: the ``X-Request-ID`` the app answered with."""
    atoms = record.args
    if isinstance(atoms, Mapping):
        sent = atoms.get("{x-request-id}o")
        record.request_id = sent if sent and sent != "-" else None
    return True


logger_class = RedactingLogger
accesslog = "-"


def child_exit(server: Any, worker: Any) -> None:
    """A web worker ended: its live gauges leave the metrics (prometheus-client multiprocess
    mode; its counters stay counted). See plugin/infra/metrics.py."""
    import os

    from prometheus_client import multiprocess

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
