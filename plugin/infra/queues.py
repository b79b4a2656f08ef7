"""Redis and the RQ queues (``high`` for user-started work, ``default`` scheduled, ``low``
attachments), shared by the web app, the CLI and the workers.

Jobs are enqueued by dotted path (``"jobs.health.ping"``), so the web process never imports
job code. Job ids contain only letters, digits, ``-`` and ``_``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import redis
from flask import Flask
from flask import current_app
from rq import Queue

from plugin.infra.keys import follow_up_job_id

QUEUE_NAMES = ("high", "default", "low")


def get_redis(app: Flask | None = None) -> redis.Redis:
    """The app's Redis client."""
    app = app or current_app
    return app.extensions["redis"]


def get_queue(name: str = "default", app: Flask | None = None) -> Queue:
    """One of the three RQ queues."""
    app = app or current_app
    return app.extensions["queues"][name]


def redis_ok(client: redis.Redis) -> tuple[bool, str]:
    """(True, "ok") when Redis answers PING, else (False, why)."""
    try:
        client.ping()
        return True, "ok"
    except (redis.RedisError, OSError) as exc:
        return False, type(exc).__name__


def make_redis(url: str) -> redis.Redis:
    """A Redis client with short timeouts, so an outage is reported instead of hanging."""
    return redis.Redis.from_url(
        url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30
    )


def init_app(app: Flask) -> None:
    """Create the Redis client and the queues."""
    client = make_redis(app.config["REDIS_URL"])
    app.extensions["redis"] = client
    app.extensions["queues"] = {
        name: Queue(name, connection=client, default_timeout=app.config["JOB_TIMEOUT"])
        for name in QUEUE_NAMES
    }


def enqueue(name: str, func: str, *args: Any, **options: Any) -> Any:
    """Enqueue ``func`` (a dotted path) on queue ``name``; RQ options go in ``options``."""
    return get_queue(name).enqueue_call(func, args=args, **options)


def worker_alive(connection: redis.Redis, worker_name: str | None) -> bool:
    """True when the named RQ worker is still running.

    A worker on this machine is checked by its process id, so a SIGKILLed worker is known dead
    at once (its Redis key outlives it by a minute or more). A worker elsewhere counts as alive
    while its key lives (RQ lets it expire when the worker stops heart-beating).
    """
    from rq import Worker

    if not worker_name:
        return False
    data = connection.hgetall(Worker.redis_worker_namespace_prefix + worker_name)
    if not data or b"death" in data:
        return False
    hostname = data.get(b"hostname", b"")
    if (hostname.decode() if isinstance(hostname, bytes) else hostname) != socket.gethostname():
        return True
    try:
        pid = int(data.get(b"pid") or 0)
    except ValueError:
        return True
    return pid > 0 and _process_running(pid)


def _process_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child nobody has reaped yet is a zombie: dead all the same
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[:1] != ["Z"]


# Our workers beat for a running job every JOB_MONITORING_SECONDS (``worker_runner``); a started
# job whose last beat is older than this is not running, whatever the registry says: its
# worker died, or Redis came back from a snapshot taken while it ran (the worker has moved on).
JOB_MONITORING_SECONDS = 10
JOB_HEARTBEAT_STALE_SECONDS = 3 * JOB_MONITORING_SECONDS


def started_job_alive(connection: redis.Redis, job: Any) -> bool:
    """A started job is running while its worker is alive and keeps beating for it."""
    from rq.utils import now

    if not worker_alive(connection, job.worker_name):
        return False
    beat = job.last_heartbeat or job.started_at
    return beat is not None and (now() - beat).total_seconds() <= JOB_HEARTBEAT_STALE_SECONDS


def job_alive(connection: redis.Redis, job_id: str | None) -> bool:
    """True when the job will still run or is running: waiting in a queue (queued, scheduled,
    deferred) or started by a worker that is alive and beating for it (``started_job_alive``).
    False for a job that does not exist (not yet queued, or lost with Redis), has ended, or
    whose worker died under it or stopped beating for it."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job
    from rq.job import JobStatus

    if not job_id:
        return False
    try:
        job = Job.fetch(job_id, connection=connection)
        status = job.get_status(refresh=False)
    except NoSuchJobError:
        return False
    if status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
        return True
    return status == JobStatus.STARTED and started_job_alive(connection, job)


def job_exists(connection: redis.Redis, job_id: str | None) -> bool:
    """True when Redis has the job (in any state)."""
    from rq.job import Job

    return bool(job_id) and bool(Job.exists(str(job_id), connection=connection))


def last_job_error(connection: redis.Redis, job_id: str | None) -> str | None:
    """The last line of the exception a job failed with (``None`` when it did not fail, was
    killed without one, or is gone): enough to tell a user what kept stopping it."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    if not job_id:
        return None
    try:
        result = Job.fetch(job_id, connection=connection).latest_result()
    except NoSuchJobError:
        return None
    text = (getattr(result, "exc_string", None) or "").strip()
    return text.splitlines()[-1][:300] if text else None


def enqueue_once(
    name: str,
    func: str,
    job_id: str,
    *args: Any,
    app: Flask | None = None,
    follow_up: bool = False,
) -> bool:
    """Enqueue unless a job with ``job_id`` is already waiting or running; True when queued.

    Finished jobs are not kept (``result_ttl=0``); a failed, stopped or cancelled one (kept an
    hour for the operator) is replaced, so it never blocks the next run. So is one that looks
    started but is not running (``started_job_alive``: its worker is dead or no longer beats
    for it), as RQ only notices an abandoned job many minutes later, and a Redis restored from
    a snapshot shows jobs started that have long ended. A started job that is running is never
    replaced: deleting a running job makes RQ fail it when it ends.

    ``follow_up``: when the job is running (it may already be past the work that is new), queue
    one more after it, ``<job_id>-next`` (at most one waits): new work never waits for the next
    sync or recovery cycle because a run was just finishing.
    """
    from rq.job import JobStatus

    outcome = _enqueue_unique(name, func, job_id, args, app)
    if outcome == JobStatus.STARTED.value and follow_up:
        return _enqueue_unique(name, func, follow_up_job_id(job_id), args, app) is None
    return outcome is None


def enqueue_later(
    name: str,
    seconds: float,
    func: str,
    *args: Any,
    job_ids: Sequence[str],
    app: Flask | None = None,
    **options: Any,
) -> str | None:
    """Queue ``func`` to run in ``seconds``, under the first of ``job_ids`` it may use; the id
    it waits under (None: every id is taken by a running job).

    A job already waiting under one of the ids is enough (the work is coalesced into it). The
    id of a job that is running is never re-used: RQ deletes a finished job's key
    (``result_ttl=0``) and with it a job just scheduled under the same id, which then never
    runs (seen when a second worker's run paused while the first ran ``post-later-<org>``).
    """
    from rq.exceptions import DuplicateJobError
    from rq.exceptions import NoSuchJobError
    from rq.job import Job
    from rq.job import JobStatus

    queue = get_queue(name, app)
    options.setdefault("result_ttl", 0)
    waiting = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
    for job_id in job_ids:
        try:
            existing = Job.fetch(job_id, connection=queue.connection)
        except NoSuchJobError:
            existing = None
        if existing is not None:
            status = existing.get_status(refresh=False)
            if status in waiting:
                return job_id
            if status == JobStatus.STARTED:
                continue  # running now: its id is not ours to take
            existing.delete()  # ended (failed, stopped): the id is free
        try:
            queue.enqueue_in(
                timedelta(seconds=seconds),
                func,
                *args,
                job_id=job_id,
                unique=True,
                **options,
            )
        except DuplicateJobError:
            continue
        return job_id
    return None


def _enqueue_unique(
    name: str, func: str, job_id: str, args: tuple[Any, ...], app: Flask | None
) -> str | None:
    """Enqueue ``job_id`` unless it waits or runs: None when queued, else the status of the one
    that waits or runs."""
    from rq.exceptions import DuplicateJobError
    from rq.exceptions import NoSuchJobError
    from rq.job import Job
    from rq.job import JobStatus

    queue = get_queue(name, app)
    replaceable = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}
    status: str | None = None
    for _attempt in (0, 1):
        try:
            queue.enqueue_call(
                func, args=args, job_id=job_id, unique=True, result_ttl=0, failure_ttl=3600
            )
        except DuplicateJobError:
            try:
                existing = Job.fetch(job_id, connection=queue.connection)
            except NoSuchJobError:
                continue  # it ended meanwhile: try again
            status = existing.get_status(refresh=False)
            dead = status == JobStatus.STARTED and not started_job_alive(queue.connection, existing)
            if status not in replaceable and not dead:
                return str(getattr(status, "value", status))
            existing.delete()
            continue
        return None
    return str(status or "unknown")
