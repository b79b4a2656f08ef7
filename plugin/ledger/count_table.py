"""The table of ledger counts (``ledger_count``): how many entries each organisation has in each
state, kept by the database itself.

Every insert, state change and delete of a ``ledger_entry`` row adds a row here through
triggers (migration 0017): ``+n`` for the state entered, ``-n`` for the state left. Rows are
only ever added, so two transactions writing the same organisation's ledger never wait on each
other (a counter updated in place would serialise them, and could deadlock two that move
entries between the same states in opposite order). A state's count is the sum of its rows;
``plugin.ledger.counts`` reads the sums and folds each organisation's rows into one per state
now and then, so a sum reads a handful of rows however large the ledger grows.

Kept out of ``plugin.models`` only because that module is at its size limit
(``plugin.work.tables`` registers it with the others).
"""

from __future__ import annotations

from sqlalchemy import Index
from sqlmodel import Field
from sqlmodel import SQLModel

from plugin.models import NEVER_REUSE_IDS


class LedgerCount(SQLModel, table=True):
    """A change of ``delta`` entries in ``state`` for one organisation (no foreign key: the
    triggers still write the ``-1`` of entries deleted with their organisation; the folding
    drops rows of organisations that are gone)."""

    __tablename__ = "ledger_count"
    __table_args__ = (
        Index("ix_ledger_count_org_state", "organisation_id", "state"),
        NEVER_REUSE_IDS,
    )

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int
    state: str = Field(max_length=16)
    delta: int
