"""Resuming work a dead worker (or a lost Redis) left half done.

A worker killed mid-job (SIGKILL, OOM, a redeploy) or a Redis that lost its queues leaves an
``ImportRun`` ``queued``/``running`` that no job will ever finish, and ledger entries ``ready``
or ``posting`` that no posting job is queued for. RQ alone does not bring them back (an abandoned
job is only noticed minutes later and, without retries, just marked failed). ``resume_interrupted``
looks at the database, which is the truth, and queues what is missing:

- an import whose run is unfinished, whose job is neither waiting in a queue nor running on a
  live worker that beats for it (``plugin.infra.queues.job_alive``: not the registry alone,
  which a Redis restored from a snapshot fills with jobs long ended) and whose organisation
  nobody is working on → its job again (re-importing is idempotent; a copy that comes late
  finds the run ended and stops).
  A run whose job is not in Redis yet is left alone for ``YOUNG_SECONDS`` after it was created:
  it is being queued right now (``imports.start_import`` commits the row, then enqueues). A run
  interrupted ``IMPORT_RESUME_LIMIT`` times (a job that crashes the same way each time) is
  marked failed with the last error, so Manage Integrations says so instead of it retrying for
  ever; what it had fetched stays in the ledger and a new import starts where the user asks;
- an organisation that may post and has entries a posting run left ``ready``/``posting`` (or a
  batch whose outcome is unknown) → ``post_ready`` (which looks the unknown batches up first),
  also while an import of it is unfinished. Entries only ``fetched`` are left alone: a manual
  import waits for the user to confirm posting, and a scheduled one posts with the next sync.

The killed job stays in RQ's failed registry (``AbandonedJobError``) although its work goes on:
``mark_resumed`` records on it (``job.meta["resumed_by"]``) which job took the work over, and
``failed_job_counts`` (``/healthz``) counts only the failures nobody recovered.

While an organisation's work lock is still held (by a job that may be alive, or by a dead one
until the lock expires) it looks again when the lock expires. Workers queue it when they start
(``queue_resume``); the cron runs it every few minutes.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any
from typing import Literal

import redis
from flask import Flask
from sqlalchemy import update
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.infra.keys import follow_up_job_id
from plugin.infra.keys import import_resume_job_id
from plugin.infra.keys import post_after_busy_job_ids
from plugin.infra.keys import post_job_id
from plugin.infra.keys import post_later_job_ids
from plugin.infra.keys import post_lookup_job_ids
from plugin.infra.keys import resume_import_key
from plugin.infra.keys import resume_job_id
from plugin.infra.keys import retry_job_id
from plugin.infra.locks import running_holder
from plugin.infra.locks import seconds_left
from plugin.infra.queues import QUEUE_NAMES
from plugin.infra.queues import enqueue_once
from plugin.infra.queues import get_queue
from plugin.infra.queues import get_redis
from plugin.infra.queues import job_alive
from plugin.infra.queues import job_exists
from plugin.infra.queues import last_job_error
from plugin.ledger.correction_outcomes import open_correction_orgs
from plugin.ledger.transitions import rows_changed
from plugin.models import AuditEvent
from plugin.models import BatchState
from plugin.models import EntryState
from plugin.models import ImportRun
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.models import PostingBatch
from plugin.models import RunState
from plugin.models import utcnow
from plugin.work.context import work_context
from plugin.work.imports import IMPORT_JOB_OPTIONS
from plugin.work.imports import import_queue
from plugin.work.readiness import ready_to_post

INLINE_WAIT_SECONDS = 15  # wait for a lock this short in the job; longer: come back later
YOUNG_SECONDS = 5  # a run this new whose job is not in Redis yet is being queued right now
RESUME_COUNT_SECONDS = 7 * 24 * 3600  # how long the count of resumes of a run is kept
RESUME_FUNC = "jobs.recovery.resume_interrupted"

RESUMED_BY = "resumed_by"  # job.meta of a killed job whose work recovery queued again
RESUMED_AT = "resumed_at"

log = logging.getLogger(__name__)

Verdict = Literal["alive", "busy", "young", "ended", "interrupted"]


def resume_interrupted(app: Flask) -> dict[str, list[int]]:
    """Queue the imports and posting runs that a dead worker left unfinished."""
    client = get_redis(app)
    done: dict[str, list[int]] = {"imports": [], "posting": []}
    busy: set[int] = set()
    young: dict[int, float] = {}
    for _look in range(4):
        busy, young = _resume_once(app, client, done)
        if not busy and not young:
            break
        waits = [seconds_left(client, org_id) for org_id in busy]
        wait = max([*waits, *young.values()])
        if wait > INLINE_WAIT_SECONDS:
            # A long lock (a live job, or a dead one's lock not yet expired): look again later.
            _look_again_in(app, int(wait) + 1)
            break
        time.sleep(max(wait, 0) + 0.5)  # a short lock, or a run being queued: wait here
    return {**done, "waiting_for": sorted(busy), "too_young": sorted(young)}


def _look_again_in(app: Flask, seconds: int) -> None:
    get_queue("default", app).enqueue_in(
        timedelta(seconds=seconds), RESUME_FUNC, job_id=resume_job_id("later"), result_ttl=0
    )


def _resume_once(
    app: Flask, client: redis.Redis, done: dict[str, list[int]]
) -> tuple[set[int], dict[int, float]]:
    """One look at the database; returns the organisations whose lock is held and the runs too
    young to judge (with the seconds until they are not)."""
    busy: set[int] = set()
    young: dict[int, float] = {}
    with work_context(app) as session:
        for run in _unfinished_runs(session):
            org_id = run.organisation_id
            try:
                _resume_run(session, app, client, run, done, busy, young)
            except Exception:
                # One organisation never stops the others (issue 18, point 5's rule).
                session.rollback()
                log.exception("Recovery of import run %s (org %s) failed", run.id, org_id)
                _count_failed(done, org_id)
        for org_id in sorted(_orgs_with_unfinished_posting(session)):
            try:
                _resume_posting(session, app, client, org_id, done, busy)
            except Exception:
                session.rollback()
                log.exception("Recovery of the posting of org %s failed", org_id)
                _count_failed(done, org_id)
    return busy, young


def _count_failed(done: dict[str, list[int]], org_id: int) -> None:
    failed = done.setdefault("failed", [])
    if org_id not in failed:
        failed.append(org_id)


def _resume_run(
    session: Session,
    app: Flask,
    client: redis.Redis,
    run: ImportRun,
    done: dict[str, list[int]],
    busy: set[int],
    young: dict[int, float],
) -> None:
    """Judge one unfinished import run and queue it again if it was interrupted."""
    verdict = interrupted(session, client, run)
    if verdict == "busy":
        busy.add(run.organisation_id)
    elif verdict == "young":
        age = (utcnow() - run.created_at).total_seconds()
        young[int(run.id or 0)] = max(YOUNG_SECONDS - age, 0.0)
    elif verdict == "interrupted":
        outcome = _queue_again(session, app, client, run)
        if outcome == "queued":
            done["imports"].append(int(run.id or 0))
        elif outcome == "given_up":
            done.setdefault("given_up", []).append(int(run.id or 0))
        # "taken": another recovery job queued the copy first.


def _resume_posting(
    session: Session,
    app: Flask,
    client: redis.Redis,
    org_id: int,
    done: dict[str, list[int]],
    busy: set[int],
) -> None:
    """Queue ``post_ready`` for one organisation whose posting a dead worker left unfinished."""
    org = session.get(Organisation, org_id)
    if org is None or ready_to_post(org) is not None:
        return  # paused (reconnect, set-up, contact): resumes when that is fixed
    # Not skipped while an import is unfinished: that import may be the one recovery is
    # resuming, or be stuck itself; a posting run that finds the organisation busy comes back
    # in 30 s, and the import queues one when it ends (issue 19 point 3).
    if running_holder(client, org_id):
        busy.add(org_id)
        return
    # Nobody holds the org: a "started" post job that is not running is replaced.
    if enqueue_once(
        "high",
        "jobs.posting.post_ready",
        post_job_id(org_id),
        org_id,
        app=app,
    ):
        for job_id in _other_posting_job_ids(org_id):
            mark_resumed(client, job_id, post_job_id(org_id))
        done["posting"].append(org_id)


def _orgs_with_unfinished_posting(session: Session) -> set[int]:
    """Organisations with entries ``ready``/``posting``, a batch whose outcome is unknown, or a
    correction not yet made (``ledger.corrections``)."""
    entries = session.exec(
        select(LedgerEntry.organisation_id).where(
            col(LedgerEntry.state).in_([EntryState.READY, EntryState.POSTING])
        )
    )
    batches = session.exec(
        select(PostingBatch.organisation_id).where(
            col(PostingBatch.state).in_([BatchState.PENDING, BatchState.SENT])
        )
    )
    return set(entries) | set(batches) | open_correction_orgs(session)


def interrupted(session: Session, client: redis.Redis, run: ImportRun) -> Verdict:
    """``alive``, ``busy`` (its organisation's lock is held), ``young``, ``ended`` or
    ``interrupted``. The order matters: a live job goes queued → started → holds the lock →
    ends the run → lets the lock go, so each check covers the step the previous one missed.

    The verdict is on the job the row names when re-read: a job that queued itself again
    under a new id meanwhile (``import-<run>-later``, its organisation was busy) is judged by
    that id, not by the old one, which has ended."""
    judged = run.rq_job_id
    if job_alive(client, judged):
        return "alive"
    if running_holder(client, run.organisation_id):
        return "busy"
    session.refresh(run)  # it may have ended, or moved to a new job, since the list was read
    if run.state not in (RunState.QUEUED, RunState.RUNNING):
        return "ended"
    if run.rq_job_id != judged:
        return interrupted(session, client, run)
    age = (utcnow() - run.created_at).total_seconds()
    if age < YOUNG_SECONDS and not job_exists(client, run.rq_job_id):
        return "young"
    return "interrupted"


def _queue_again(
    session: Session, app: Flask, client: redis.Redis, run: ImportRun
) -> Literal["queued", "given_up", "taken"]:
    """Queue the run's job again (``queued``); past the resume limit, fail the run instead
    (``given_up``). ``taken``: another recovery job replaced the run's job first.

    Two recovery jobs can judge the same run at once (the one each starting worker queues, the
    cron's): the copy's id is claimed on the row first, only where the row still names the job
    judged dead, and only the recovery whose claim lands queues the copy. (A copy claimed but
    not queued, Redis failing right then, is found by the next look: its job is not in Redis.)
    """
    run_id = int(run.id or 0)
    dead_job = run.rq_job_id
    attempt = int(client.incr(resume_import_key(run_id)))
    client.expire(resume_import_key(run_id), RESUME_COUNT_SECONDS)
    limit = int(app.config.get("IMPORT_RESUME_LIMIT", 25))
    if attempt > limit:
        _give_up(session, client, run, limit)
        return "given_up"
    copy = import_resume_job_id(run_id, attempt)
    claimed = rows_changed(
        session,
        update(ImportRun)
        .where(
            col(ImportRun.id) == run_id,
            col(ImportRun.rq_job_id) == dead_job,
            col(ImportRun.state).in_([RunState.QUEUED, RunState.RUNNING]),
        )
        .values(rq_job_id=copy)
        .execution_options(synchronize_session=False),
    )
    session.commit()
    if not claimed:
        client.decr(resume_import_key(run_id))  # not an attempt of ours
        session.refresh(run)
        return "taken"
    session.refresh(run)
    get_queue(import_queue(run.trigger), app).enqueue(
        "jobs.imports.import_range", run.id, job_id=copy, **IMPORT_JOB_OPTIONS
    )
    mark_resumed(client, dead_job, copy)
    return "queued"


def _other_posting_job_ids(org_id: int) -> tuple[str, ...]:
    """The posting jobs of the organisation other than ``post-<org>`` (which enqueue_once
    replaces): a killed one's work goes on in the ``post-<org>`` recovery queues."""
    return (
        follow_up_job_id(post_job_id(org_id)),
        retry_job_id(org_id),
        *post_later_job_ids(org_id),
        *post_after_busy_job_ids(org_id),
        *post_lookup_job_ids(org_id),
    )


def mark_resumed(client: redis.Redis, job_id: str | None, resumed_by: str) -> None:
    """Record on an interrupted job (RQ fails a killed job as abandoned, before or after this)
    that its work goes on in ``resumed_by``: a failure that was recovered, not one to act on.
    A job still waiting or running on a live worker is left alone."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    if not job_id or job_id == resumed_by or job_alive(client, job_id):
        return
    try:
        job = Job.fetch(job_id, connection=client)
    except NoSuchJobError:
        return  # lost with Redis, or expired: nothing shows it as failed
    job.meta[RESUMED_BY] = resumed_by
    job.meta[RESUMED_AT] = utcnow().isoformat()
    job.save_meta()


def failed_jobs(app: Flask) -> list[Any]:
    """Every job in RQ's failed registries (recovered or not; see ``unrecovered``)."""
    from rq.job import Job

    client = get_redis(app)
    # Read-only and cheap enough for /healthz: no registry clean-up (the workers do that), and
    # one pipelined round trip for the three registries; jobs are fetched only if there are any.
    registries = [get_queue(name, app).failed_job_registry for name in QUEUE_NAMES]
    with client.pipeline(transaction=False) as pipeline:
        for registry in registries:
            pipeline.zrange(registry.key, 0, -1)
        answers = pipeline.execute()
    job_ids = [
        registry.parse_job_id(raw)
        for registry, raws in zip(registries, answers, strict=True)
        for raw in raws
    ]
    if not job_ids:
        return []
    return [job for job in Job.fetch_many(job_ids, connection=client) if job is not None]


def unrecovered(job: Any) -> bool:
    """A failed job nobody took over: the one rule for /healthz and the benchmarks' verdicts
    (a killed job whose work recovery queued again carries ``resumed_by``)."""
    return not job.meta.get(RESUMED_BY)


def failed_job_counts(app: Flask) -> dict[str, int]:
    """Jobs in RQ's failed registries: ``unrecovered`` (someone should look) and ``resumed``
    (killed, and their work queued again by recovery)."""
    counts = {"unrecovered": 0, "resumed": 0}
    for job in failed_jobs(app):
        counts["unrecovered" if unrecovered(job) else "resumed"] += 1
    return counts


def _give_up(session: Session, client: redis.Redis, run: ImportRun, limit: int) -> None:
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


def _unfinished_runs(session: Session) -> list[ImportRun]:
    return list(
        session.exec(
            select(ImportRun).where(col(ImportRun.state).in_([RunState.QUEUED, RunState.RUNNING]))
        )
    )


def queue_resume(app: Flask | None = None) -> bool:
    """Queue ``resume_interrupted`` once (a worker does this when it starts).

    When one is already running on a live worker, a second look is queued to follow it: the
    running one may have looked before this worker's predecessor died.
    """
    if enqueue_once("high", RESUME_FUNC, resume_job_id(), app=app):
        return True
    return enqueue_once("high", RESUME_FUNC, resume_job_id("again"), app=app)
