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
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from typing import Any

from flask import Flask
from sqlmodel import Session
from sqlmodel import select

from plugin import ledger
from plugin.amazon.accounts import AccountConflict
from plugin.amazon.accounts import claim_account
from plugin.amazon.accounts import identify_account
from plugin.amazon.errors import AmazonError
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
from plugin.work.import_posting import PostingAlongside
from plugin.work.import_posting import posts_after_import
from plugin.work.import_ranges import feed_window
from plugin.work.import_ranges import judged_by_transaction_date
from plugin.work.import_ranges import keep_in_range
from plugin.work.import_runs import is_job_of_run
from plugin.work.import_runs import note_outside_range
from plugin.work.import_runs import unfinished_scheduled_run
from plugin.work.stores import amazon_client

log = logging.getLogger(__name__)

HISTORY_LIMIT_DAYS = 90  # how far back a first scheduled sync looks (no request: no rule)
# One rule for every import a person asks for (Manage's form, the wizard, the CLI): Amazon
# Business opened on 28 April 2015, so nothing is dated before it, and one import covers at most
# a year (Amazon's own reporting ranges stop at 366 days; a longer range is several imports).
EARLIEST_IMPORT_DATE = date(2015, 4, 28)
MAX_IMPORT_DAYS = 366
FINISHED_RUN_STATES = (RunState.SUCCEEDED, RunState.FAILED)
IMPORT_JOB_OPTIONS: dict[str, Any] = {
    "job_timeout": 60 * 60,
    "result_ttl": 3600,
    "failure_ttl": 7 * 24 * 3600,
}


class ImportRangeError(ValueError):
    """The requested import range is not allowed; the message is fit to show the user."""


class RunFinished(Exception):
    """The import run has already ended (a late copy of its job, queued by recovery)."""

    def __init__(self, run: ImportRun) -> None:
        super().__init__(f"Import run {run.id} has already ended ({run.state}).")
        self.run = run


# --- Starting an import ----------------------------------------------------------------------


def range_rule() -> str:
    """The rule for requested ranges, in words for the import forms (the wizard's and Manage's
    say the same sentence)."""
    return (
        f"Any dates from {EARLIEST_IMPORT_DATE.day} {EARLIEST_IMPORT_DATE:%b %Y} (when Amazon "
        f"Business opened) to today, at most {MAX_IMPORT_DAYS} days in one import."
    )


def check_requested_range(start: date, end: date) -> None:
    """ImportRangeError when a range a person asked for breaks the rule of ``range_rule``."""
    if start < EARLIEST_IMPORT_DATE:
        raise ImportRangeError(
            f"Amazon Business has no purchases before "
            f"{EARLIEST_IMPORT_DATE.strftime('%-d %B %Y')}: choose a start on or after "
            f"{EARLIEST_IMPORT_DATE.isoformat()}."
        )
    days = (end - start).days + 1
    if days > MAX_IMPORT_DAYS:
        raise ImportRangeError(
            f"That range is {days} days; one import covers at most {MAX_IMPORT_DAYS}. "
            "Import it in parts of a year or less."
        )


def validate_range(start: date, end: date, trigger: str, today: date) -> tuple[datetime, datetime]:
    """The feed-date window for a requested range of days (end inclusive), or ImportRangeError."""
    if start > end:
        raise ImportRangeError("The start date is after the end date.")
    if end > today:
        raise ImportRangeError("The end date is in the future.")
    if trigger != ImportTrigger.SCHEDULED:  # the wizard's history and Manage: one rule
        check_requested_range(start, end)
    window_start = datetime.combine(start, time.min, tzinfo=UTC)
    window_end = min(datetime.combine(end, time.max, tzinfo=UTC), utcnow())
    return window_start, window_end


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


@dataclass
class Progress:
    """Where an import is, for the progress bar (job meta) and the ImportRun row."""

    fetched: int = 0
    new: int = 0
    already_known: int = 0
    pages: int = 0
    done: bool = False
    outside_range: int = 0
    """Fetched (their feed date is in the window) but dated outside the range asked for."""


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
        alongside = PostingAlongside(session, app, run, org)  # posts as pages come in
        try:
            for connection in connections:
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
            return _finish(session, run, RunState.FAILED, str(exc))
        except AmazonError as exc:
            return _finish(session, run, RunState.FAILED, f"Amazon Business: {exc}")
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
            counts = ledger.record_page(session, int(org.id or 0), connection.id, page)
            record_payment_methods(session, int(org.id or 0), page.transactions)
            progress.pages += 1
            progress.fetched += counts.fetched
            progress.new += counts.new
            progress.already_known += counts.already_known + counts.updated + counts.flagged
            run.fetched, run.new, run.already_known = (
                progress.fetched,
                progress.new,
                progress.already_known,
            )
            session.add(run)
            session.commit()
            keep_alive()
            report(progress)
            alongside(keep_alive)
        connection.last_synced_at = utcnow()
        session.add(connection)
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
