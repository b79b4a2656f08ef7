"""Redis and the RQ queues (``high`` for user-started work, ``default`` scheduled, ``low``
attachments), shared by the web app, the CLI and the workers.

Jobs are enqueued by dotted path (``"jobs.health.ping"``), so the web process never imports
job code. Job ids contain only letters, digits, ``-`` and ``_``.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import redis
from flask import Flask
from flask import current_app
from rq import Queue

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


def job_alive(connection: redis.Redis, job_id: str | None) -> bool:
    """True when the job will still run or is running: waiting in a queue (queued, scheduled,
    deferred) or started by a worker that is alive. False for a job that does not exist (not
    yet queued, or lost with Redis), has ended, or whose worker died under it."""
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
    return status == JobStatus.STARTED and worker_alive(connection, job.worker_name)


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
    replace_started: bool = False,
) -> bool:
    """Enqueue unless a job with ``job_id`` is already waiting or running; True when queued.

    Finished jobs are not kept (``result_ttl=0``); a failed, stopped or cancelled one (kept an
    hour for the operator) is replaced, so it never blocks the next run. ``replace_started``
    also replaces one that looks started but whose worker is dead (``worker_alive``), as RQ
    only notices an abandoned job many minutes later. A started job whose worker is alive is
    never replaced: deleting a running job makes RQ fail it when it ends.
    """
    from rq.exceptions import DuplicateJobError
    from rq.exceptions import NoSuchJobError
    from rq.job import Job
    from rq.job import JobStatus

    queue = get_queue(name, app)
    replaceable = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}
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
            dead = (
                replace_started
                and status == JobStatus.STARTED
                and not worker_alive(queue.connection, existing.worker_name)
            )
            if status not in replaceable and not dead:
                return False
            existing.delete()
            continue
        return True
    return False
