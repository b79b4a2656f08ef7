"""The app a job runs in: one Flask app per worker process (``plugin.work.context`` gives each
job its app context and session)."""

from __future__ import annotations

from flask import Flask

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
