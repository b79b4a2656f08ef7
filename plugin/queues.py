"""Redis and the RQ queues (``high`` for user-started work, ``default`` scheduled, ``low``
attachments), shared by the web app, the CLI and the workers.

Jobs are enqueued by dotted path (``"jobs.health.ping"``), so the web process never imports
job code. Job ids contain only letters, digits, ``-`` and ``_``.
"""

from __future__ import annotations

from typing import Any

import redis
from flask import Flask
from flask import current_app
from rq import Queue

QUEUE_NAMES = ("high", "default", "low")


def get_redis(app: Flask | None = None) -> redis.Redis:
    """The app's Redis client."""
    app = app or current_app
    return app.extensions["redis"]  # type: ignore[no-any-return]


def get_queue(name: str = "default", app: Flask | None = None) -> Queue:
    """One of the three RQ queues."""
    app = app or current_app
    return app.extensions["queues"][name]  # type: ignore[no-any-return]


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
    also replaces one that looks started: the caller knows its worker died (the job's
    organisation lock is free), as RQ only notices an abandoned job many minutes later.
    """
    from rq.exceptions import DuplicateJobError
    from rq.exceptions import NoSuchJobError
    from rq.job import Job
    from rq.job import JobStatus

    queue = get_queue(name, app)
    replaceable = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}
    if replace_started:
        replaceable.add(JobStatus.STARTED)
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
            if existing.get_status(refresh=False) not in replaceable:
                return False
            existing.delete()
            continue
        return True
    return False
