"""The rollback page of an import run or a posting run: what rolling it back does (before) or
did (after), per transaction, and starting it (a background job: ``plugin.work.rollbacks``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Flask
from sqlmodel import Session

from plugin.infra.keys import posting_rollback_job_ids
from plugin.infra.keys import rollback_job_ids
from plugin.ledger.posting_run_model import CAUSE_LABELS
from plugin.ledger.posting_run_model import PostingCause
from plugin.ledger.posting_run_model import PostingRun
from plugin.ledger.rollbacks import Run
from plugin.ledger.rollbacks import can_roll_back
from plugin.ledger.rollbacks import rollback_lines
from plugin.ledger.rollbacks import rollbacks_of_run
from plugin.manage.actions import queue_job

OUTCOMES = {
    "to remove": "To be removed from Xero, unless reconciled or paid",
    "waiting": "Being rolled back",
    "removed": "Removed from Xero; waits to be posted again",
    "removed, held": "Removed from Xero; held until you retry it",
    "left": "Left in Xero",
    "not in Xero": "Not posted: nothing to undo",
}

COUNT_LABELS = {
    "to remove": "to remove from Xero (each is checked first: reconciled or paid ones stay)",
    "waiting": "being rolled back",
    "removed": "removed from Xero, waiting to be posted again",
    "removed, held": "removed from Xero, held until you retry them",
    "left": "left in Xero",
    "not in Xero": "not posted, so nothing to undo",
}
DOCUMENT_KINDS = {
    "BankTransactions": "Bank transaction",
    "Invoices": "Bill",
    "CreditNotes": "Credit note",
}


def rollback_context(session: Session, run: Run) -> dict[str, Any]:
    """What the rollback fragment shows (``noun``: "import" or "posting run"; ``hold_default``:
    a posting run started by a mapping change holds its purchases afterwards unless told
    otherwise, since posting them again would repeat the mapping)."""
    posting = isinstance(run, PostingRun)
    lines = rollback_lines(session, run)
    counts = Counter(line.outcome for line in lines)
    started = bool(rollbacks_of_run(session, run))
    return {
        "run": run,
        "kind": "posting" if posting else "import",
        "noun": "posting run" if posting else "import",
        "cause_label": CAUSE_LABELS.get(run.cause) if isinstance(run, PostingRun) else None,
        "hold_default": isinstance(run, PostingRun) and run.cause == PostingCause.MAPPING,
        "lines": lines,
        "counts": counts,
        "outcomes": OUTCOMES,
        "count_labels": COUNT_LABELS,
        "kinds": DOCUMENT_KINDS,
        "started": started,
        "working": counts.get("waiting", 0) > 0 or (started and counts.get("to remove", 0) > 0),
        "can_roll_back": can_roll_back(run) and counts.get("to remove", 0) > 0,
    }


def start_rollback(
    app: Flask, org_id: int, run: Run, actor: str, hold_after: bool = False
) -> bool | None:
    """Queue the rollback job (True queued, False already queued, None Redis is down)."""
    run_id = int(run.id or 0)
    if isinstance(run, PostingRun):
        job_id, kind = posting_rollback_job_ids(run_id)[0], "posting"
    else:
        job_id, kind = rollback_job_ids(run_id)[0], "import"
    return queue_job(
        app, "jobs.corrections.rollback_run", job_id, org_id, run_id, actor, kind, hold_after
    )
