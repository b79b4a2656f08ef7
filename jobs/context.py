"""The app context a job runs in: one Flask app per worker process, one app context per job."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlmodel import Session

from plugin.db import session_scope

_app: Flask | None = None


def job_app() -> Flask:
    """The Flask app of this worker process (created on first use)."""
    global _app
    if _app is None:
        from plugin import create_app

        _app = create_app()
    return _app


def use_app(app: Flask | None) -> None:
    """Make jobs in this process (and its forks) use ``app`` instead of creating their own."""
    global _app
    _app = app


@contextmanager
def job_context() -> Iterator[Session]:
    """Push a fresh app context and open a session for one job."""
    app = job_app()
    with app.app_context(), session_scope(app) as session:
        yield session
