"""What the health job checks from a worker: that the database answers."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session


def touch_database(session: Session) -> str:
    """Run a trivial query (raises when the database is down); ``"ok"`` when it answers."""
    session.execute(text("SELECT 1"))
    return "ok"
