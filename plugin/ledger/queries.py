"""Reading the ledger: what the status pages count."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session
from sqlmodel import select

from plugin.models import LedgerEntry


def counts_by_state(session: Session, org_id: int) -> dict[str, int]:
    """How many entries the org has in each state."""
    rows = session.exec(
        select(LedgerEntry.state, func.count())
        .where(LedgerEntry.organisation_id == org_id)
        .group_by(LedgerEntry.state)
    )
    return {str(state): int(count) for state, count in rows}
