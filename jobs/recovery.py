"""Resuming work a dead worker (or a lost Redis) left half done.

A worker killed mid-job (SIGKILL, OOM, a redeploy) or a Redis that lost its queues leaves an
``ImportRun`` ``queued``/``running`` that no job will ever finish, and ledger entries ``ready``
or ``posting`` that no posting job is queued for. RQ alone does not bring them back (an abandoned
job is only noticed minutes later and, without retries, just marked failed). ``resume_interrupted``
looks at the database, which is the truth, and queues what is missing:

- an import whose run is unfinished, whose job is neither waiting in a queue nor running on a
  live worker (``plugin.infra.queues.job_alive``) and whose organisation nobody is working on → its
  job again (re-importing is idempotent; a copy that comes late finds the run ended and stops).
  A run whose job is not in Redis yet is left alone for ``YOUNG_SECONDS`` after it was created:
  it is being queued right now (``sync.start_import`` commits the row, then enqueues). A run
  interrupted ``IMPORT_RESUME_LIMIT`` times (a job that crashes the same way each time) is
  marked failed with the last error, so Manage Integrations says so instead of it retrying for
  ever; what it had fetched stays in the ledger and a new import starts where the user asks;
- an organisation that may post and has entries a posting run left ``ready``/``posting`` (or a
  batch whose outcome is unknown) → ``post_ready`` (which recovers the unknown batches first,
  with the same Idempotency-Key). Entries only ``fetched`` are left alone: a manual import waits
  for the user to confirm posting, and a scheduled one posts with the next sync.

While an organisation's work lock is still held (by a job that may be alive, or by a dead one
until the lock expires) it looks again when the lock expires. Workers queue it when they start
(``queue_resume``); the cron runs it every few minutes.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from sqlmodel import col
from sqlmodel import select

from jobs.context import job_app
from jobs.context import job_context
from plugin.infra.queues import enqueue_once
from plugin.infra.queues import get_queue
from plugin.infra.queues import get_redis
from plugin.infra.queues import job_alive
from plugin.infra.queues import job_exists
from plugin.infra.queues import last_job_error
from plugin.models import AuditEvent
from plugin.models import BatchState
from plugin.models import EntryState
from plugin.models import ImportRun
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.models import PostingBatch
from plugin.models import RunState
from plugin.models import utcnow
from plugin.work import services as sync

JOB_ID = "resume-interrupted"
INLINE_WAIT_SECONDS = 15  # wait for a lock this short in the job; longer: come back later
YOUNG_SECONDS = 5  # a run this new whose job is not in Redis yet is being queued right now


def resume_interrupted() -> dict[str, Any]:
    """Queue the imports and posting runs that a dead worker left unfinished."""
    app = job_app()
    client = get_redis(app)
    done: dict[str, list[int]] = {"imports": [], "posting": []}
    busy: set[int] = set()
    young: dict[int, float] = {}
    for _look in range(4):
        busy, young = _resume_once(app, client, done)
        if not busy and not young:
            break
        waits = [int(client.ttl(f"lock:org-work:{org_id}")) for org_id in busy]
        wait = max([*waits, *young.values()])
        if wait > INLINE_WAIT_SECONDS:
            # A long lock (a live job, or a dead one's lock not yet expired): look again later.
            _look_again_in(app, int(wait) + 1)
            break
        time.sleep(max(wait, 0) + 0.5)  # a short lock, or a run being queued: wait here
    return {**done, "waiting_for": sorted(busy), "too_young": sorted(young)}


def _look_again_in(app: Any, seconds: int) -> None:
    get_queue("default", app).enqueue_in(
        timedelta(seconds=seconds),
        "jobs.recovery.resume_interrupted",
        job_id=f"{JOB_ID}-later",
        result_ttl=0,
    )


def _resume_once(
    app: Any, client: Any, done: dict[str, list[int]]
) -> tuple[set[int], dict[int, float]]:
    """One look at the database; returns the organisations whose lock is held and the runs too
    young to judge (with the seconds until they are not)."""
    busy: set[int] = set()
    young: dict[int, float] = {}
    with job_context() as session:
        for run in _unfinished_runs(session):
            verdict = _interrupted(session, client, run)
            if verdict == "busy":
                busy.add(run.organisation_id)
            elif verdict == "young":
                age = (utcnow() - run.created_at).total_seconds()
                young[int(run.id or 0)] = max(YOUNG_SECONDS - age, 0.0)
            elif verdict == "interrupted":
                if _queue_again(session, app, client, run):
                    done["imports"].append(int(run.id or 0))
                else:
                    done.setdefault("given_up", []).append(int(run.id or 0))
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
            # Nobody holds the org: a "started" post job whose worker died is replaced.
            if enqueue_once(
                "high",
                "jobs.posting.post_ready",
                f"post-{org_id}",
                org_id,
                app=app,
                replace_started=True,
            ):
                done["posting"].append(org_id)
    return busy, young


def _interrupted(session: Any, client: Any, run: ImportRun) -> str:
    """``alive``, ``busy`` (its organisation's lock is held), ``young``, ``ended`` or
    ``interrupted``. The order matters: a live job goes queued → started → holds the lock →
    ends the run → lets the lock go, so each check covers the step the previous one missed."""
    if job_alive(client, run.rq_job_id):
        return "alive"
    if sync.running_holder(client, run.organisation_id):
        return "busy"
    session.refresh(run)  # it may have ended since the list was read
    if run.state not in (RunState.QUEUED, RunState.RUNNING):
        return "ended"
    age = (utcnow() - run.created_at).total_seconds()
    if age < YOUNG_SECONDS and not job_exists(client, run.rq_job_id):
        return "young"
    return "interrupted"


def _queue_again(session: Any, app: Any, client: Any, run: ImportRun) -> bool:
    """Queue the run's job again; past the resume limit, fail the run instead (False)."""
    attempt = int(client.incr(f"resume:import:{run.id}"))
    client.expire(f"resume:import:{run.id}", 7 * 24 * 3600)
    limit = int(app.config.get("IMPORT_RESUME_LIMIT", 25))
    if attempt > limit:
        _give_up(session, client, run, limit)
        return False
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
    return True


def _give_up(session: Any, client: Any, run: ImportRun, limit: int) -> None:
    last_error = last_job_error(client, run.rq_job_id)
    run.state = RunState.FAILED
    run.finished_at = utcnow()
    run.error = (
        f"This import was interrupted {limit} times without finishing"
        + (f" (last error: {last_error})" if last_error else " (its worker stopped each time)")
        + ". What it fetched is kept; start the import again from Manage Integrations, and if"
        " it stops again, the worker's log says why."
    )
    session.add(run)
    session.add(
        AuditEvent(
            organisation_id=run.organisation_id,
            actor="recovery",
            action="import_given_up",
            detail={"run": run.id, "attempts": limit, "last_error": last_error},
        )
    )
    session.commit()


def _unfinished_runs(session: Any) -> list[ImportRun]:
    return list(
        session.exec(
            select(ImportRun).where(col(ImportRun.state).in_([RunState.QUEUED, RunState.RUNNING]))
        )
    )


def queue_resume(app: Any = None) -> bool:
    """Queue ``resume_interrupted`` once (a worker does this when it starts).

    When one is already running on a live worker, a second look is queued to follow it: the
    running one may have looked before this worker's predecessor died.
    """
    func = "jobs.recovery.resume_interrupted"
    if enqueue_once("high", func, JOB_ID, app=app, replace_started=True):
        return True
    return enqueue_once("high", func, f"{JOB_ID}-again", app=app, replace_started=True)
