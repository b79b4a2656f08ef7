"""Rolling back an import run (issue 14 point 4): the documents posted for the transactions it
brought in are taken out of Xero through the same corrections as Amazon's cancellations
(``ledger.corrections``: one GET, then ``DELETED``/``VOIDED`` with a key committed before the
call, never twice), and their entries go back to waiting (``fetched``: they are evaluated and
posted again, as new documents, by the next posting run, after the mapping is fixed). A document
that is reconciled or paid is left as it is, listed with the reason.

Which entries a run brought in: the ones created while it ran (``started_at`` to
``finished_at``). Imports of an organisation never overlap (its work lock), so that is exactly
the run's new transactions; the ones it only saw again belong to the run that first imported
them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.ledger.correction_model import Correction
from plugin.ledger.correction_model import CorrectionCause
from plugin.models import EntryState
from plugin.models import ImportRun
from plugin.models import LedgerEntry
from plugin.models import RunState
from plugin.models import utcnow

ROLLED_BACK = "rolled_back"
ROLLBACK_HELD = "rollback_held"


@dataclass(frozen=True)
class RollbackLine:
    """One transaction of the run, and what a rollback does (or did) with it."""

    transaction_id: str
    date: str
    amount: str
    currency: str
    state: str
    document_type: str | None
    outcome: str  # "to remove", "removed", "waiting", "left", "not in Xero"
    reason: str | None


def entries_of_run(session: Session, run: ImportRun) -> list[LedgerEntry]:
    """The entries the run brought into the ledger (module doc)."""
    if run.started_at is None:
        return []
    end = run.finished_at or utcnow()
    return list(
        session.exec(
            select(LedgerEntry)
            .where(
                LedgerEntry.organisation_id == run.organisation_id,
                col(LedgerEntry.created_at) >= run.started_at,
                col(LedgerEntry.created_at) <= end,
            )
            .order_by(col(LedgerEntry.transaction_date), col(LedgerEntry.id))
        )
    )


def rollbacks_of_run(session: Session, run: ImportRun) -> dict[int, Correction]:
    """Entry id -> the latest rollback correction of this run."""
    found = session.exec(
        select(Correction)
        .where(Correction.import_run_id == run.id, Correction.cause == CorrectionCause.ROLLBACK)
        .order_by(col(Correction.id))
    )
    return {c.ledger_entry_id: c for c in found}


def can_roll_back(run: ImportRun) -> bool:
    """Only a finished import can be rolled back (a running one is still adding entries)."""
    return run.state in (RunState.SUCCEEDED, RunState.FAILED)


def record_rollback(session: Session, run: ImportRun, actor: str) -> int:
    """A pending rollback correction for each document the run's entries posted (once per
    entry and run); commits. Returns how many were recorded now."""
    done = rollbacks_of_run(session, run)
    added = 0
    for entry in entries_of_run(session, run):
        if entry.id in done or entry.state not in (EntryState.POSTED, EntryState.POSTING):
            continue
        session.add(
            Correction(
                organisation_id=run.organisation_id,
                ledger_entry_id=int(entry.id or 0),
                cause=CorrectionCause.ROLLBACK,
                actor=actor,
                endpoint=entry.xero_document_type,
                xero_document_id=entry.xero_document_id,
                before_payload=entry.raw_payload,
                import_run_id=run.id,
            )
        )
        added += 1
    session.commit()
    return added


def _outcome(entry: LedgerEntry, correction: Correction | None) -> tuple[str, str | None]:
    if correction is None:
        if entry.state in (EntryState.POSTED, EntryState.POSTING):
            return "to remove", None
        return "not in Xero", None
    state = str(correction.state)
    if state == "applied":
        return "removed", None
    if state == "held":
        return "left", correction.reason
    return "waiting", None


def rollback_lines(session: Session, run: ImportRun) -> list[RollbackLine]:
    """What a rollback of the run does, or did, with each of its transactions."""
    done = rollbacks_of_run(session, run)
    lines = []
    for entry in entries_of_run(session, run):
        correction = done.get(int(entry.id or 0))
        outcome, reason = _outcome(entry, correction)
        kind = entry.xero_document_type or (correction.endpoint if correction else None)
        lines.append(
            RollbackLine(
                transaction_id=entry.amazon_transaction_id,
                date=entry.transaction_date.date().isoformat() if entry.transaction_date else "",
                amount=f"{entry.amount:.2f}",
                currency=entry.currency,
                state=str(entry.state),
                document_type=kind,
                outcome=outcome,
                reason=reason,
            )
        )
    return lines
