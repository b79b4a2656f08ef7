"""What every log line carries, and what it never does.

Each record gets ``request_id`` (the request's ``X-Request-ID`` if it sent a sane one, else a
fresh one, echoed back in the response), ``job_id`` (the RQ job running) and ``org_id`` (the
organisation of the page or job) from ``LogContext``; ``RedactSecrets`` takes bearer tokens,
OAuth tokens, client secrets, Amazon's ``Atza|``/``Atzr|`` tokens and the ``code``/``state`` of
OAuth callbacks out of the message and any traceback. ``install`` puts both on the root handler,
formatting lines as JSON (python-json-logger) when ``LOG_FORMAT=json``, else as text.
"""

from __future__ import annotations

import inspect
import logging
import re
import sys
import uuid
from typing import Any

from flask import Flask
from flask import Response
from flask import g
from flask import has_app_context
from flask import has_request_context
from flask import request
from pythonjsonlogger.json import JsonFormatter

from plugin.security import redact_query_secrets

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(job_id)s %(org_id)s"

_SECRETS = (
    (re.compile(r"\b((?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), r"\1[redacted]"),
    (re.compile(r"Atz[ar]\|[A-Za-z0-9._~+/=|-]+"), "[redacted]"),
    (
        re.compile(
            r"""(["']?(?:access_token|refresh_token|id_token|client_secret|password|"""
            r"""x-amz-access-token)["']?\s*[:=]\s*["']?)[^"'&\s,;}]+""",
            re.IGNORECASE,
        ),
        r"\1[redacted]",
    ),
)


def redact(text: str) -> str:
    """``text`` with every token, secret and OAuth callback value replaced by ``[redacted]``."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return redact_query_secrets(text)


class RedactSecrets(logging.Filter):
    """Redacts the message (its arguments merged in) of every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class LogContext(logging.Filter):
    """Adds ``request_id``, ``job_id`` and ``org_id`` (None where not known) to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:  # gunicorn's access lines bring theirs
            record.request_id = g.get("request_id") if has_request_context() else None
        job = _current_job()
        record.job_id = job.id if job is not None else None
        org_id = g.get("org_id") if has_app_context() else None
        if org_id is None and job is not None:
            org_id = org_of_job(job)
        record.org_id = org_id
        return True


_worker_job: Any = None  # the job this process's RQ worker (and so its work-horse) works on


def working_on(job: Any) -> None:
    """Set by the worker around each job (``MeteredWorker``), so RQ's own lines about it (taken,
    failed, completed) carry its ids too, before and after the job function runs."""
    global _worker_job
    _worker_job = job


def _current_job() -> Any:
    from rq import get_current_job

    try:
        return get_current_job() or _worker_job
    except Exception:  # a log line never fails for want of its context
        return _worker_job


_job_orgs: dict[str, int | None] = {}


def org_of_job(job: Any) -> int | None:
    """The ``org_id`` argument of a job (by name or as its first parameter), if it has one."""
    if job.id not in _job_orgs:
        _job_orgs.clear()  # one job at a time per process: keep only the current one
        org_id = job.kwargs.get("org_id")
        if org_id is None and job.args:
            try:
                first = next(iter(inspect.signature(job.func).parameters), None)
            except (ValueError, TypeError, AttributeError, ImportError):
                first = None
            org_id = job.args[0] if first == "org_id" else None
        _job_orgs[job.id] = org_id if isinstance(org_id, int) else None
    return _job_orgs[job.id]


class _RedactingTracebacks:
    """Formatter mixin: tracebacks are redacted like messages."""

    def formatException(self, ei: Any) -> str:
        return redact(super().formatException(ei))  # type: ignore[misc]


class TextFormatter(_RedactingTracebacks, logging.Formatter):
    """The text format, tracebacks redacted."""


class JsonLineFormatter(_RedactingTracebacks, JsonFormatter):
    """One JSON object per line: time, level, logger, message and the context fields."""


def formatter_for(log_format: str) -> logging.Formatter:
    """The formatter ``LOG_FORMAT`` names (``json``; anything else is text)."""
    if log_format.strip().lower() == "json":
        return JsonLineFormatter(
            JSON_FIELDS, rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}
        )
    return TextFormatter(TEXT_FORMAT)


def install(handler: logging.Handler, log_format: str) -> logging.Handler:
    """Give ``handler`` the context, the redaction and the format (idempotent)."""
    if not any(isinstance(f, LogContext) for f in handler.filters):
        handler.addFilter(LogContext())
        handler.addFilter(RedactSecrets())
    handler.setFormatter(formatter_for(log_format))
    return handler


def root_handler(log_format: str, level: int) -> logging.Handler:
    """The process's own stderr handler on the root logger (created once, reformatted after)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "_abx_handler", False):
            return install(handler, log_format)
    handler = logging.StreamHandler(sys.stderr)
    handler._abx_handler = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    if root.level == logging.WARNING or root.level == logging.NOTSET:
        root.setLevel(level)
    return install(handler, log_format)


def init_app(app: Flask) -> None:
    """Give each request its id (``g.request_id``), echoed in the response."""

    @app.before_request
    def _request_id() -> None:
        sent = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = sent if _SANE_REQUEST_ID.match(sent) else uuid.uuid4().hex

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        if g.get("request_id"):
            response.headers[REQUEST_ID_HEADER] = g.request_id
        return response
