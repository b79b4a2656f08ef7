"""Reading the ledger: counts over the entries themselves, and the posted entries later steps
take (the status pages read ``plugin.ledger.counts``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.models import EntryState
from plugin.models import LedgerEntry


def counted_by_state(session: Session, org_id: int) -> dict[str, int]:
    """How many entries the org has in each state, counted over the ledger itself (what
    ``plugin.ledger.counts.counts_by_state`` must always equal; the tests compare them)."""
    rows = session.exec(
        select(LedgerEntry.state, func.count())
        .where(LedgerEntry.organisation_id == org_id)
        .group_by(LedgerEntry.state)
    )
    return {str(state): int(count) for state, count in rows}


def posted_entries(session: Session, org_id: int, *conditions: Any) -> list[LedgerEntry]:
    """The organisation's posted entries meeting ``conditions`` (SQL expressions), oldest first:
    what the settlement and card-payment steps work through."""
    return list(
        session.exec(
            select(LedgerEntry)
            .where(
                LedgerEntry.organisation_id == org_id,
                LedgerEntry.state == EntryState.POSTED,
                *conditions,
            )
            .order_by(col(LedgerEntry.id))
        )
    )
