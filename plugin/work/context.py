"""The app context and database session a background run works in: one of each per job."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlmodel import Session

from plugin.db import session_scope


@contextmanager
def work_context(app: Flask) -> Iterator[Session]:
    """Push a fresh app context and open a session for one job (or one look of a job)."""
    with app.app_context(), session_scope(app) as session:
        yield session
