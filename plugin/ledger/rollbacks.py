"""Rolling back an import run or a posting run (issue 14 point 4): the documents posted for the
transactions an import brought in, or the documents a posting run created, are taken out of Xero
through the same corrections as Amazon's cancellations (``ledger.corrections``: one GET, then
``DELETED``/``VOIDED`` with a key committed before the call, never twice), and their entries go
back to waiting (``fetched``: they are evaluated and posted again, as new documents, by the next
posting run, after the mapping is fixed), or, when the person rolling back says the mapping was
wrong, are held (``HELD_AFTER_ROLLBACK``) until they are sent back with Retry. A document that
is reconciled or paid is left as it is, listed with the reason.

Which entries a run brought in: the ones created while it ran (``started_at`` to ``finished_at``).
Imports of an organisation never overlap (its work lock), so that is exactly the run's new
transactions; the ones it only saw again belong to the run that first imported them. A posting
run's documents are those of the batches that name it (``plugin.ledger.posting_run_model``), plus
those its rollback already took out.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.ledger.correction_model import Correction
from plugin.ledger.correction_model import CorrectionCause
from plugin.ledger.posting_run_model import PostingRun
from plugin.models import EntryState
from plugin.models import ImportRun
from plugin.models import LedgerEntry
from plugin.models import PostingBatch
from plugin.models import RunState
from plugin.models import utcnow

ROLLED_BACK = "rolled_back"
ROLLBACK_HELD = "rollback_held"
HELD_AFTER_ROLLBACK = "held_after_rollback"

Run = ImportRun | PostingRun


@dataclass(frozen=True)
class RollbackLine:
    """One transaction of the run, and what a rollback does (or did) with it."""

    transaction_id: str
    date: str
    amount: str
    currency: str
    state: str
    document_type: str | None
    outcome: str  # "to remove", "removed", "removed, held", "waiting", "left", "not in Xero"
    reason: str | None


def batches_of_posting_run(session: Session, run: PostingRun) -> list[int]:
    """The ids of the batches the posting run opened (they name it; runs never overlap, so only
    its own time is read)."""
    if run.started_at is None:
        return []
    found = session.exec(
        select(PostingBatch.id, PostingBatch.request_summary).where(
            PostingBatch.organisation_id == run.organisation_id,
            col(PostingBatch.created_at) >= run.started_at,
            col(PostingBatch.created_at) <= (run.finished_at or utcnow()),
        )
    )
    return [int(i or 0) for i, summary in found if (summary or {}).get("posting_run") == run.id]


def _run_column(run: Run) -> object:
    return (
        col(Correction.posting_run_id)
        if isinstance(run, PostingRun)
        else col(Correction.import_run_id)
    )


def entries_of_run(session: Session, run: Run) -> list[LedgerEntry]:
    """The entries the import brought into the ledger, or whose documents the posting run
    created (module doc)."""
    order = (col(LedgerEntry.transaction_date), col(LedgerEntry.id))
    if isinstance(run, PostingRun):
        batches = batches_of_posting_run(session, run)
        undone = select(Correction.ledger_entry_id).where(Correction.posting_run_id == run.id)
        return list(
            session.exec(
                select(LedgerEntry)
                .where(
                    LedgerEntry.organisation_id == run.organisation_id,
                    col(LedgerEntry.batch_id).in_(batches) | col(LedgerEntry.id).in_(undone),
                )
                .order_by(*order)
            )
        )
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
            .order_by(*order)
        )
    )


def rollbacks_of_run(session: Session, run: Run) -> dict[int, Correction]:
    """Entry id -> the latest rollback correction of this run."""
    found = session.exec(
        select(Correction)
        .where(_run_column(run) == run.id, Correction.cause == CorrectionCause.ROLLBACK)
        .order_by(col(Correction.id))
    )
    return {c.ledger_entry_id: c for c in found}


def can_roll_back(run: Run) -> bool:
    """Only a finished run can be rolled back (a running one is still adding entries or
    documents); a posting run that stopped for a rate limit or an outage is finished too."""
    finished = [RunState.SUCCEEDED, RunState.FAILED]
    if isinstance(run, PostingRun):
        finished.append(RunState.PAUSED)
    return run.state in finished


def record_rollback(session: Session, run: Run, actor: str, hold_after: bool = False) -> int:
    """A pending rollback correction for each document the run's entries posted (once per
    entry and run); ``hold_after`` holds the entries afterwards instead of letting them post
    again. Commits. Returns how many were recorded now."""
    done = rollbacks_of_run(session, run)
    posting_run = isinstance(run, PostingRun)
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
                import_run_id=None if posting_run else run.id,
                posting_run_id=run.id if posting_run else None,
                hold_after=hold_after,
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
        return ("removed, held" if correction.hold_after else "removed"), None
    if state == "held":
        return "left", correction.reason
    return "waiting", None


def rollback_lines(session: Session, run: Run) -> list[RollbackLine]:
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
