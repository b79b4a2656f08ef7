"""Small questions about import runs and what an import tells the audit log: the scheduled run
an organisation already has waiting, whether a job is one of a run's own, and the purchases a
person's import fetched but left to the import of their own dates."""

from __future__ import annotations

import logging

from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.infra.keys import import_job_id
from plugin.models import AuditEvent
from plugin.models import ImportRun
from plugin.models import ImportTrigger
from plugin.models import RunState

log = logging.getLogger(__name__)


def unfinished_scheduled_run(session: Session, org_id: int) -> ImportRun | None:
    """The organisation's scheduled import still waiting or running, if any."""
    return session.exec(
        select(ImportRun)
        .where(
            ImportRun.organisation_id == org_id,
            ImportRun.trigger == ImportTrigger.SCHEDULED,
            col(ImportRun.state).in_([RunState.QUEUED, RunState.RUNNING]),
        )
        .order_by(col(ImportRun.id))
    ).first()


# --- Running an import -----------------------------------------------------------------------


def is_job_of_run(job_id: str | None, run_id: int) -> bool:
    """Whether ``job_id`` is one of the run's own jobs (first, resumed, or tried again later)."""
    own = import_job_id(run_id)
    return bool(job_id) and (job_id == own or str(job_id).startswith(own + "-"))


OUTSIDE_IDS_KEPT = 100


def note_outside_range(session: Session, run: ImportRun, outside: set[str]) -> None:
    """Say in the audit log which fetched purchases were left to their own range's import."""
    if not outside:
        return
    log.info(
        "Import run %s: %d fetched transactions are dated outside %s..%s; not recorded",
        run.id,
        len(outside),
        run.range_start.isoformat(),
        run.range_end.isoformat(),
    )
    session.add(
        AuditEvent(
            organisation_id=run.organisation_id,
            actor="import",
            action="import_outside_range",
            detail={
                "run": run.id,
                "count": len(outside),
                "transaction_ids": sorted(outside)[:OUTSIDE_IDS_KEPT],
                "note": "Amazon fed these in the window read, but they are dated outside the "
                "range asked for: they belong to the import of their own dates.",
            },
        )
    )
