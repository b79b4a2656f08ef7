"""The ledger's counts per state, from ``ledger_count`` (kept by the database's triggers, see
``plugin.ledger.count_table``): reading them, and folding each organisation's rows into one
per state so that reading stays a handful of rows.

Folding is safe beside any number of writers: it deletes the rows it can see and inserts their
sums in one transaction; a row committed meanwhile is not among the deleted ones and still
counts. Two folds of one organisation at once delete disjoint rows (the second waits on the
first's row locks and then skips what it deleted). The cron folds every few minutes
(``jobs/health.py``); reading never writes.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import insert
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.ledger.count_table import LedgerCount
from plugin.models import Organisation

FOLD_AFTER_ROWS = 32
"""An organisation is folded when it has more rows than this."""


def counts_by_state(session: Session, org_id: int) -> dict[str, int]:
    """How many entries the organisation has in each state (states with none left out)."""
    rows = session.exec(
        select(LedgerCount.state, func.sum(LedgerCount.delta))
        .where(LedgerCount.organisation_id == org_id)
        .group_by(LedgerCount.state)
    )
    return {str(state): int(total) for state, total in rows if total}


def fold(session: Session, org_id: int) -> int:
    """Replace the organisation's rows by one per state (none for an organisation that is gone);
    commits; returns how many rows were folded."""
    gone = session.execute(
        delete(LedgerCount)
        .where(col(LedgerCount.organisation_id) == org_id)
        .returning(col(LedgerCount.state), col(LedgerCount.delta))
    ).all()
    totals: Counter[str] = Counter()
    for state, delta in gone:
        totals[str(state)] += int(delta)
    exists = session.get(Organisation, org_id) is not None
    rows = [
        {"organisation_id": org_id, "state": state, "delta": total}
        for state, total in sorted(totals.items())
        if total and exists
    ]
    if rows:
        session.execute(insert(LedgerCount), rows)
    session.commit()
    return len(gone)


def fold_counts(session: Session, after_rows: int = FOLD_AFTER_ROWS) -> dict[str, int]:
    """Fold every organisation with more than ``after_rows`` rows, or any row at all while the
    organisation is gone; one transaction each."""
    crowded = session.exec(
        select(LedgerCount.organisation_id)
        .group_by(col(LedgerCount.organisation_id))
        .having(func.count() > after_rows)
    ).all()
    orphaned = session.exec(
        select(LedgerCount.organisation_id)
        .distinct()
        .where(~col(LedgerCount.organisation_id).in_(select(Organisation.id)))
    ).all()
    session.commit()
    folded = rows = 0
    for org_id in sorted(set(crowded) | set(orphaned)):
        rows += fold(session, int(org_id))
        folded += 1
    return {"organisations": folded, "rows": rows}
