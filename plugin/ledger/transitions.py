"""Changing an entry's state only if it is still in the state it was read in.

Every change of state that can race a user's mark (posted by hand, a retry) goes through
``move``: a conditional update, so a mark made meanwhile is never overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import CursorResult
from sqlalchemy import Update
from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session
from sqlmodel import col

from plugin.models import LedgerEntry
from plugin.models import utcnow


def move(session: Session, entry: LedgerEntry, values: Mapping[str, object]) -> bool:
    """Write ``values`` to the entry only if it is still in the state it was read in (the user
    may have marked it posted by hand meanwhile); False when it was not."""
    values = {**values, "updated_at": utcnow()}
    changed = rows_changed(
        session,
        update(LedgerEntry)
        .where(col(LedgerEntry.id) == entry.id, col(LedgerEntry.state) == entry.state)
        .values(**values)
        .execution_options(synchronize_session=False),
    )
    if not changed:
        session.expire(entry)
        return False
    for name, value in values.items():
        set_committed_value(entry, name, value)
    return True


def rows_changed(session: Session, statement: Update) -> int:
    """Run an UPDATE and say how many rows it changed."""
    result = session.execute(statement)
    assert isinstance(result, CursorResult)  # what an UPDATE answers
    return result.rowcount
