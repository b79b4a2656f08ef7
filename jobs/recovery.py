"""Resuming work a dead worker (or a lost Redis) left half done.

A worker killed mid-job (SIGKILL, OOM, a redeploy) or a Redis that lost its queues leaves an
``ImportRun`` ``queued``/``running`` that no job will ever finish, and ledger entries ``ready``
or ``posting`` that no posting job is queued for. RQ alone does not bring them back (an abandoned
job is only noticed minutes later and, without retries, just marked failed). ``resume_interrupted``
looks at the database, which is the truth, and queues what is missing:

- an import whose run is unfinished, whose job is not waiting in a queue and whose organisation
  nobody is working on → its job again (re-importing is idempotent);
- an organisation that may post and has entries a posting run left ``ready``/``posting`` (or a
  batch whose outcome is unknown) → ``post_ready`` (which recovers the unknown batches first,
  with the same Idempotency-Key). Entries only ``fetched`` are left alone: a manual import waits
  for the user to confirm posting, and a scheduled one posts with the next sync.

While an organisation's work lock is still held (by a job that may be alive, or by a dead one
until the lock expires) it looks again when the lock expires. Workers queue it when they start;
the cron runs it every few minutes.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.job import JobStatus
from sqlmodel import col
from sqlmodel import select

from jobs.context import job_app
from jobs.context import job_context
from plugin import sync
from plugin.models import BatchState
from plugin.models import EntryState
from plugin.models import ImportRun
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.models import PostingBatch
from plugin.models import RunState
from plugin.queues import enqueue_once
from plugin.queues import get_queue
from plugin.queues import get_redis

JOB_ID = "resume-interrupted"
INLINE_WAIT_SECONDS = 15  # wait for a lock this short in the job; longer: come back later
WAITING = (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED)


def _waiting_in_queue(connection: Any, job_id: str | None) -> bool:
    """True when the job is queued (or scheduled) and a worker will pick it up."""
    if not job_id:
        return False
    try:
        job = Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        return False
    return job.get_status(refresh=False) in WAITING


def resume_interrupted() -> dict[str, Any]:
    """Queue the imports and posting runs that a dead worker left unfinished."""
    app = job_app()
    client = get_redis(app)
    done: dict[str, list[int]] = {"imports": [], "posting": []}
    busy: set[int] = set()
    for _look in range(4):
        busy = _resume_once(app, client, done)
        if not busy:
            break
        wait = max(int(client.ttl(f"lock:org-work:{org_id}")) for org_id in busy)
        if wait > INLINE_WAIT_SECONDS:
            # A long lock (a live job, or a dead one's lock not yet expired): look again later.
            get_queue("default", app).enqueue_in(
                timedelta(seconds=wait + 1),
                "jobs.recovery.resume_interrupted",
                job_id=f"{JOB_ID}-later",
                result_ttl=0,
            )
            break
        time.sleep(max(wait, 0) + 0.5)  # a short lock: wait for it here
    return {**done, "waiting_for": sorted(busy)}


def _resume_once(app: Any, client: Any, done: dict[str, list[int]]) -> set[int]:
    """One look at the database; returns the organisations whose lock is held."""
    busy: set[int] = set()
    with job_context() as session:
        runs = session.exec(
            select(ImportRun).where(col(ImportRun.state).in_([RunState.QUEUED, RunState.RUNNING]))
        )
        for run in list(runs):
            if _waiting_in_queue(client, run.rq_job_id):
                continue
            if sync.running_holder(client, run.organisation_id):
                busy.add(run.organisation_id)
                continue
            attempt = int(client.incr(f"resume:import:{run.id}"))
            client.expire(f"resume:import:{run.id}", 7 * 24 * 3600)
            queue = "default" if run.trigger == "scheduled" else "high"
            job = get_queue(queue, app).enqueue(
                "jobs.imports.import_range",
                run.id,
                job_id=f"import-{run.id}-resume-{attempt}",
                job_timeout=60 * 60,
                result_ttl=3600,
                failure_ttl=7 * 24 * 3600,
            )
            run.rq_job_id = job.id
            session.add(run)
            session.commit()
            done["imports"].append(int(run.id or 0))
        unfinished = set(
            session.exec(
                select(LedgerEntry.organisation_id).where(
                    col(LedgerEntry.state).in_([EntryState.READY, EntryState.POSTING])
                )
            )
        ) | set(
            session.exec(
                select(PostingBatch.organisation_id).where(
                    col(PostingBatch.state).in_([BatchState.PENDING, BatchState.SENT])
                )
            )
        )
        for org_id in sorted(unfinished):
            org = session.get(Organisation, org_id)
            if org is None or sync.ready_to_post(org) is not None:
                continue  # paused (reconnect, set-up, contact): resumes when that is fixed
            if any(r.organisation_id == org_id for r in _unfinished_runs(session)):
                continue  # the import queues posting when it ends
            if sync.running_holder(client, org_id):
                busy.add(org_id)
                continue
            # Nobody holds the org: a "started" post job is a dead one.
            if enqueue_once(
                "high",
                "jobs.posting.post_ready",
                f"post-{org_id}",
                org_id,
                app=app,
                replace_started=True,
            ):
                done["posting"].append(org_id)
    return busy


def _unfinished_runs(session: Any) -> list[ImportRun]:
    return list(
        session.exec(
            select(ImportRun).where(col(ImportRun.state).in_([RunState.QUEUED, RunState.RUNNING]))
        )
    )


def queue_resume(app: Any = None) -> bool:
    """Queue ``resume_interrupted`` once (a worker does this when it starts)."""
    return enqueue_once(
        "high", "jobs.recovery.resume_interrupted", JOB_ID, app=app, replace_started=True
    )
