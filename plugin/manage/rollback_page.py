"""The rollback page of an import run: what rolling it back does (before) or did (after), per
transaction, and starting it (a background job: ``plugin.work.rollbacks``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Flask
from sqlmodel import Session

from plugin.infra.keys import rollback_job_ids
from plugin.ledger.rollbacks import can_roll_back
from plugin.ledger.rollbacks import rollback_lines
from plugin.ledger.rollbacks import rollbacks_of_run
from plugin.manage.actions import queue_job
from plugin.models import ImportRun

OUTCOMES = {
    "to remove": "To be removed from Xero, unless reconciled or paid",
    "waiting": "Being rolled back",
    "removed": "Removed from Xero; waits to be posted again",
    "left": "Left in Xero",
    "not in Xero": "Not posted: nothing to undo",
}

COUNT_LABELS = {
    "to remove": "to remove from Xero (each is checked first: reconciled or paid ones stay)",
    "waiting": "being rolled back",
    "removed": "removed from Xero, waiting to be posted again",
    "left": "left in Xero",
    "not in Xero": "not posted, so nothing to undo",
}
DOCUMENT_KINDS = {
    "BankTransactions": "Bank transaction",
    "Invoices": "Bill",
    "CreditNotes": "Credit note",
}


def rollback_context(session: Session, run: ImportRun) -> dict[str, Any]:
    """What the rollback fragment shows."""
    lines = rollback_lines(session, run)
    counts = Counter(line.outcome for line in lines)
    started = bool(rollbacks_of_run(session, run))
    return {
        "run": run,
        "lines": lines,
        "counts": counts,
        "outcomes": OUTCOMES,
        "count_labels": COUNT_LABELS,
        "kinds": DOCUMENT_KINDS,
        "started": started,
        "working": counts.get("waiting", 0) > 0 or (started and counts.get("to remove", 0) > 0),
        "can_roll_back": can_roll_back(run) and counts.get("to remove", 0) > 0,
    }


def start_rollback(app: Flask, org_id: int, run: ImportRun, actor: str) -> bool | None:
    """Queue the rollback job (True queued, False already queued, None Redis is down)."""
    return queue_job(
        app,
        "jobs.corrections.rollback_run",
        rollback_job_ids(int(run.id or 0))[0],
        org_id,
        int(run.id or 0),
        actor,
    )
