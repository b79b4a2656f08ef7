"""Running the RQ worker so that it rides out a Redis outage instead of exiting.

RQ 3 retries a lost connection while it waits for a job, but ends its loop on any other error,
a Redis that goes away mid-job or mid-maintenance included ("Redis connection timeout,
quitting...", "found an unhandled exception, quitting..."), and the process exits; before this,
only a supervisor (honcho, systemd, the platform) brought it back. ``run_worker`` then waits for
the job it was running to end and for Redis to answer again, and starts a fresh RQ worker in
the same process (marking the old one dead, so ``worker_alive`` does not take the
interrupted job for a live one), which queues the recovery job as a freshly started worker does.

It stops for good when asked to (SIGINT/SIGTERM, ``--burst``).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import signal
import time
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

import redis
from rq import Queue

from plugin.infra.metered_worker import MeteredWorker as Worker  # counts jobs by outcome
from plugin.infra.queues import JOB_MONITORING_SECONDS
from plugin.infra.queues import redis_ok

log = logging.getLogger(__name__)

MAINTENANCE_SECONDS = 60
BACKOFF_SECONDS = (1, 2, 5, 10, 30)  # between looks at a Redis that does not answer


def run_worker(
    queues: Sequence[Queue],
    connection: redis.Redis,
    name: str | None,
    burst: bool,
    on_start: Callable[[], Any],
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Work the queues until asked to stop; returns how many times the worker was restarted."""
    for generation in itertools.count():
        worker = Worker(
            list(queues),
            connection=connection,
            name=f"{name}-{generation}" if name and generation else name,
            # Maintenance every minute (RQ: 10), and an idle worker wakes every minute (RQ: ~7)
            # to do it: a worker started after a crash then takes over the scheduler lock the
            # dead one left behind within ~2 minutes, so delayed re-queues are not stranded.
            maintenance_interval=MAINTENANCE_SECONDS,
            worker_ttl=MAINTENANCE_SECONDS + 15,
            # Beat for the running job every 10 s (RQ: 30), so recovery can tell a job that is
            # running from one a snapshot of Redis still shows started (``job_alive``).
            job_monitoring_interval=JOB_MONITORING_SECONDS,
        )
        try:
            on_start()
            worker.work(with_scheduler=True, burst=burst, logging_level="INFO")
        except (redis.RedisError, OSError) as exc:  # RQ's own clean-up met the dead Redis
            log.warning("Worker %s lost Redis: %s", worker.name, exc)
        if burst or _stop_was_asked(worker):
            return generation
        # RQ's handlers turn SIGTERM into "stop after this job"; no job runs now: plain exit.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        log.warning("Worker %s stopped unexpectedly: starting a fresh one", worker.name)
        _wait_for_horse(worker)
        wait_for_redis(connection, sleep)
        with contextlib.suppress(redis.RedisError, OSError):
            worker.register_death()
    raise AssertionError("unreachable")  # pragma: no cover


def _stop_was_asked(worker: Worker) -> bool:
    """SIGINT/SIGTERM reached RQ's handlers (a busy worker sets ``_stop_requested``; an idle
    one only records the date and leaves its loop)."""
    return bool(worker._stop_requested or worker._shutdown_requested_date)


def _wait_for_horse(worker: Worker) -> None:
    """Let the job the worker was running finish (its work-horse outlives the worker loop)."""
    pid = worker.horse_pid
    if not pid:
        return
    log.warning("Waiting for work-horse %s to finish its job", pid)
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, 0)


def wait_for_redis(connection: redis.Redis, sleep: Callable[[float], None] = time.sleep) -> int:
    """Block until Redis answers; returns how many times it did not."""
    for attempt in itertools.count():
        answers, why = redis_ok(connection)
        if answers:
            return attempt
        delay = BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS) - 1)]
        log.warning("Redis does not answer (%s): looking again in %s s", why, delay)
        sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
