"""Imports for one organisation: Amazon Business transactions into the one ledger.

- ``start_import`` validates a date range and queues an import (one import or posting job per
  organisation at a time: a second request reports the running one);
- ``run_import`` fetches every store connection of the organisation into the ledger, recording
  progress on the ``ImportRun`` (and through ``report``, the job's meta) as it goes; a person's
  import reads feed dates from its start to now and keeps the purchases *dated* in its range
  (``plugin.work.import_ranges``: Amazon's feed date can lag by months), naming the others in
  the audit log (``import_outside_range``);
- ``import_range`` is the import job's work: run it, then queue the posting run it calls for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Flask
from sqlmodel import Session
from sqlmodel import select

from plugin import ledger
from plugin.amazon.accounts import AccountConflict
from plugin.amazon.accounts import claim_account
from plugin.amazon.accounts import identify_account
from plugin.amazon.errors import AmazonError
from plugin.amazon.models import TransactionsPage
from plugin.infra.keys import import_job_id
from plugin.infra.keys import import_later_job_ids
from plugin.infra.keys import post_job_id
from plugin.infra.keys import run_id_of_job
from plugin.infra.locks import AlreadyRunning
from plugin.infra.locks import lock_seconds
from plugin.infra.locks import org_lock
from plugin.infra.locks import running_holder
from plugin.infra.queues import enqueue_later
from plugin.infra.queues import enqueue_once
from plugin.infra.queues import get_queue
from plugin.infra.queues import get_redis
from plugin.mapping.store import record_payment_methods
from plugin.models import AmazonConnection
from plugin.models import AuditEvent
from plugin.models import ConnectionStatus
from plugin.models import ImportRun
from plugin.models import ImportTrigger
from plugin.models import Organisation
from plugin.models import RunState
from plugin.models import utcnow
from plugin.work.entity_routing import EntityRouting
from plugin.work.import_posting import PostingAlongside
from plugin.work.import_posting import posts_after_import
from plugin.work.import_progress import Progress
from plugin.work.import_progress import chunks
from plugin.work.import_ranges import EARLIEST_IMPORT_DATE as EARLIEST_IMPORT_DATE
from plugin.work.import_ranges import MAX_IMPORT_DAYS as MAX_IMPORT_DAYS
from plugin.work.import_ranges import ImportRangeError as ImportRangeError
from plugin.work.import_ranges import check_requested_range as check_requested_range
from plugin.work.import_ranges import feed_window
from plugin.work.import_ranges import judged_by_transaction_date
from plugin.work.import_ranges import keep_in_range
from plugin.work.import_ranges import range_rule as range_rule
from plugin.work.import_ranges import validate_range
from plugin.work.import_runs import is_job_of_run
from plugin.work.import_runs import note_outside_range
from plugin.work.import_runs import unfinished_scheduled_run
from plugin.work.stores import amazon_client

log = logging.getLogger(__name__)

HISTORY_LIMIT_DAYS = 90  # how far back a first scheduled sync looks (no request: no rule)
FINISHED_RUN_STATES = (RunState.SUCCEEDED, RunState.FAILED)
IMPORT_JOB_OPTIONS: dict[str, Any] = {
    "job_timeout": 60 * 60,
    "result_ttl": 3600,
    "failure_ttl": 7 * 24 * 3600,
}


class RunFinished(Exception):
    """The import run has already ended (a late copy of its job, queued by recovery)."""

    def __init__(self, run: ImportRun) -> None:
        super().__init__(f"Import run {run.id} has already ended ({run.state}).")
        self.run = run


# --- Starting an import ----------------------------------------------------------------------


def import_queue(trigger: str) -> str:
    """The queue an import runs on: scheduled ones on ``default``, the user's on ``high``."""
    return "default" if trigger == ImportTrigger.SCHEDULED else "high"


def start_import(
    session: Session,
    app: Flask,
    org: Organisation,
    start: date,
    end: date,
    trigger: ImportTrigger,
    actor: str,
) -> ImportRun:
    """Validate the range, record an ``ImportRun`` and queue its job.

    Raises ImportRangeError for a bad range and AlreadyRunning when the org is busy. A
    scheduled import of an organisation that already has one waiting or running is that one
    (its range stretched to the new end while it waits): syncs never pile up behind a slow
    Xero (issue 19 point 4).
    """
    window_start, window_end = validate_range(start, end, trigger, utcnow().date())
    if trigger == ImportTrigger.SCHEDULED:
        waiting = unfinished_scheduled_run(session, int(org.id or 0))
        if waiting is not None:
            if waiting.state == RunState.QUEUED and waiting.range_end < window_end:
                waiting.range_end = window_end
                session.add(waiting)
                session.commit()
            return waiting
    holder = running_holder(get_redis(app), int(org.id or 0))
    if holder:
        raise AlreadyRunning(int(org.id or 0), holder, run_id_of_job(holder))
    run = ImportRun(
        organisation_id=int(org.id or 0),
        trigger=trigger,
        range_start=window_start,
        range_end=window_end,
        state=RunState.QUEUED,
    )
    session.add(run)
    session.flush()
    # The job id is on the row before the row is visible: the recovery job
    # (plugin/work/recovery.py) then knows which job to look for, and a run whose job never
    # reached Redis (an outage right here) is found and queued again by it.
    run.rq_job_id = import_job_id(int(run.id or 0))
    session.add(
        AuditEvent(
            organisation_id=org.id,
            actor=actor,
            action="import_queued",
            detail={"run": run.id, "from": start.isoformat(), "to": end.isoformat()},
        )
    )
    session.commit()
    get_queue(import_queue(trigger), app).enqueue(
        "jobs.imports.import_range", run.id, job_id=run.rq_job_id, **IMPORT_JOB_OPTIONS
    )
    return run


def run_import(
    session: Session,
    app: Flask,
    run_id: int,
    holder: str,
    report: Callable[[Progress], None] = lambda progress: None,
) -> ImportRun:
    """Fetch the run's range from every active store connection into the ledger.

    Raises AlreadyRunning when the organisation is busy and RunFinished when the run has ended
    (a late copy queued by the recovery job finds nothing to do).
    """
    run = session.get(ImportRun, run_id)
    if run is None:
        raise LookupError(f"import run {run_id} does not exist")
    org = session.get(Organisation, run.organisation_id)
    if org is None:
        raise LookupError(f"organisation {run.organisation_id} does not exist")
    if run.state in FINISHED_RUN_STATES:
        raise RunFinished(run)
    with org_lock(get_redis(app), int(org.id or 0), holder, lock_seconds(app)) as keep_alive:
        session.refresh(run)  # another copy may have finished it before we had the lock
        if run.state in FINISHED_RUN_STATES:
            raise RunFinished(run)
        run.state = RunState.RUNNING
        run.started_at = run.started_at or utcnow()
        run.error = None
        session.add(run)
        session.commit()
        progress = Progress()
        outside: set[str] = set()  # transactions fetched but dated outside the range
        connections = list(
            session.exec(
                select(AmazonConnection).where(
                    AmazonConnection.organisation_id == org.id,
                    AmazonConnection.status == ConnectionStatus.ACTIVE,
                )
            )
        )
        if not connections:
            return _finish(session, run, RunState.FAILED, "No active Amazon Business store.")
        alongside = PostingAlongside(session, app, run, org, holder)  # posts as pages come in
        try:
            for index, connection in enumerate(connections):
                progress.start_store(connection.store, index, len(connections))
                report(progress)
                _import_connection(
                    session,
                    app,
                    run,
                    org,
                    connection,
                    progress,
                    outside,
                    keep_alive,
                    report,
                    alongside,
                )
        except AccountConflict as exc:
            alongside.finish(error=str(exc))
            return _finish(session, run, RunState.FAILED, str(exc))
        except AmazonError as exc:
            alongside.finish(error=f"Amazon Business: {exc}")
            return _finish(session, run, RunState.FAILED, f"Amazon Business: {exc}")
        alongside(keep_alive, last=True)
        alongside.finish()
        progress.done = True
        report(progress)
        note_outside_range(session, run, outside)
        org.last_synced_at = (
            utcnow() if run.trigger != ImportTrigger.HISTORICAL else org.last_synced_at
        )
        session.add(org)
        return _finish(session, run, RunState.SUCCEEDED, None)


def _import_connection(
    session: Session,
    app: Flask,
    run: ImportRun,
    org: Organisation,
    connection: AmazonConnection,
    progress: Progress,
    outside: set[str],
    keep_alive: Callable[[], None],
    report: Callable[[Progress], None],
    alongside: PostingAlongside,
) -> None:
    window_start, window_end = feed_window(run, utcnow())
    judge = judged_by_transaction_date(run)
    routing = EntityRouting(session, int(org.id or 0), connection)
    with amazon_client(app, connection) as amazon:
        for fetched in amazon.iter_transaction_pages(window_start, window_end):
            if fetched.transactions and not connection.account_key:
                claim_account(session, connection, identify_account(fetched.transactions))
                session.add(connection)
                session.commit()
            page = fetched.page
            if judge:
                page, left = keep_in_range(page, run.range_start, run.range_end)
                outside.update(t.transaction_id for t in left)  # chunks share boundaries
                progress.outside_range = len(outside)
            page = routing.route(page)  # without what the org taking its entity imports
            progress.start_page(len(page.in_order or (*page.transactions, *page.failures)))
            for part in chunks(page):  # a long page shows movement while it is recorded
                _record_part(session, run, org, connection, part, progress)
                keep_alive()
                report(progress)
            routing.recorded()
            session.commit()
            progress.page_read(fetched, window_start, window_end)
            report(progress)
            alongside(keep_alive)
        connection.last_synced_at = utcnow()
        session.add(connection)
        routing.finish()
        session.commit()


def _record_part(
    session: Session,
    run: ImportRun,
    org: Organisation,
    connection: AmazonConnection,
    part: TransactionsPage,
    progress: Progress,
) -> None:
    """Record part of a page; its counts on the progress and the ImportRun (committed)."""
    counts = ledger.record_page(session, int(org.id or 0), connection.id, part)
    record_payment_methods(session, int(org.id or 0), part.transactions)
    seen = counts.already_known + counts.updated + counts.flagged
    progress.fetched += counts.fetched
    progress.new += counts.new
    progress.already_known += seen
    progress.store_fetched += counts.fetched
    progress.store_new += counts.new
    progress.recorded += len(part.in_order or (*part.transactions, *part.failures))
    run.fetched, run.new, run.already_known = progress.fetched, progress.new, progress.already_known
    session.add(run)
    session.commit()


BUSY_RETRY_SECONDS = 30


def _try_again_later(session: Session, app: Flask, run_id: int) -> str | None:
    """Queue the run's job again in ``BUSY_RETRY_SECONDS``, recorded on the run (so recovery
    knows the job to look for); None when the run has ended meanwhile."""
    run = session.get(ImportRun, run_id)
    if run is None or run.state in FINISHED_RUN_STATES:
        return None
    job_id = enqueue_later(
        import_queue(run.trigger),
        BUSY_RETRY_SECONDS,
        "jobs.imports.import_range",
        run_id,
        job_ids=import_later_job_ids(run_id),
        app=app,
        **IMPORT_JOB_OPTIONS,
    )
    if job_id is None:
        return None
    run.rq_job_id = job_id
    session.add(run)
    session.commit()
    return job_id


def _finish(session: Session, run: ImportRun, state: RunState, error: str | None) -> ImportRun:
    run.state = state
    run.error = error
    run.finished_at = utcnow()
    session.add(run)
    session.commit()
    return run


# --- The import job --------------------------------------------------------------------------


def import_range(
    session: Session,
    app: Flask,
    run_id: int,
    holder: str,
    report: Callable[[Progress], None],
) -> dict[str, Any]:
    """Run one import, then queue the organisation's posting run when the import calls for it
    (``posts_after_import``); the job's answer."""
    try:
        run = run_import(session, app, run_id, holder, report)
    except AlreadyRunning as busy:  # a resumed copy of this run, or a posting run
        if is_job_of_run(busy.job_id, run_id):
            return {"run": run_id, "skipped": f"busy ({busy.job_id})"}  # this run, elsewhere
        # A posting or settlement run holds the organisation: come back shortly by itself,
        # not at the next recovery cycle (issue 19 point 4).
        later = _try_again_later(session, app, run_id)
        return {"run": run_id, "skipped": f"busy ({busy.job_id})", "retry": later}
    except RunFinished as ended:  # a late copy: another job imported this run
        return {"run": run_id, "skipped": f"already {ended.run.state}"}
    if posts_after_import(session, run):
        org_id = run.organisation_id
        enqueue_once(
            "high", "jobs.posting.post_ready", post_job_id(org_id), org_id, app=app, follow_up=True
        )
    return {"run": run_id, "state": run.state, "fetched": run.fetched, "new": run.new}
