"""The organisation's locks: one import, posting or settlement run at a time per organisation.

Built on redis-py's ``Lock``: the holder (a job id) is the lock's token, so ``running_holder``
can say who holds it, and release and keep-alive are Lua scripts that touch the key only while
it still holds our token. A lock that expired under a slow or killed worker and was taken by
another is never released or extended by the first.

While held, a heartbeat thread extends the lock every third of its time-to-live, whatever the
run is doing (a 60-second Xero call, a slow Amazon page): one run per organisation is the rule,
not something the database claim has to rescue. A killed worker's heartbeat dies with it, so
its lock still frees within the time-to-live.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from flask import Flask
from redis.exceptions import LockNotOwnedError
from redis.exceptions import RedisError
from redis.lock import Lock

from plugin.infra.keys import org_lock_key

log = logging.getLogger(__name__)

LOCK_SECONDS = 60  # renewed every 20 s while held; a dead holder frees it within a minute
WORK = "work"  # imports, posting and settlements: one at a time per organisation
ATTACH = "attach"  # the slow attachment runs, which touch no ledger state


class AlreadyRunning(Exception):
    """Another import or posting run holds this organisation."""

    def __init__(self, org_id: int, job_id: str | None, run_id: int | None = None) -> None:
        super().__init__(f"An import or posting run is already going for organisation {org_id}.")
        self.org_id = org_id
        self.job_id = job_id
        self.run_id = run_id


def lock_seconds(app: Flask) -> int:
    """How long an organisation's lock lives without a keep-alive (``ORG_LOCK_SECONDS``)."""
    return int(app.config.get("ORG_LOCK_SECONDS") or LOCK_SECONDS)


@contextmanager
def org_lock(
    client: redis.Redis, org_id: int, holder: str, ttl: int = LOCK_SECONDS, purpose: str = WORK
) -> Iterator[Callable[[], None]]:
    """Hold one of the organisation's locks; yields ``keep_alive()`` to call while working.

    ``work`` is held by imports, posting and settlements (one at a time per organisation);
    ``attach`` by the slow attachment runs, which must not hold posting up. The lock expires by
    itself (``ttl`` seconds without ``keep_alive``) so a killed worker never blocks the
    organisation for long; while held, a heartbeat thread renews it every ``ttl / 3`` seconds.
    Raises AlreadyRunning (with the holder) when it is taken.
    """
    lock = Lock(client, org_lock_key(purpose, org_id), timeout=ttl, thread_local=False)
    if not lock.acquire(blocking=False, token=holder):
        raise AlreadyRunning(org_id, _holder(client, org_lock_key(purpose, org_id)))

    def keep_alive() -> None:
        # Lost (expired, perhaps taken by another run): leave it to its new holder.
        with contextlib.suppress(LockNotOwnedError):
            lock.reacquire()

    stop = threading.Event()
    heartbeat = threading.Thread(
        target=_beat,
        args=(keep_alive, stop, ttl / 3),
        name=f"org-lock-{purpose}-{org_id}",
        daemon=True,
    )
    heartbeat.start()
    try:
        yield keep_alive
    finally:
        stop.set()
        heartbeat.join(timeout=5)
        with contextlib.suppress(LockNotOwnedError):
            lock.release()


def _beat(keep_alive: Callable[[], None], stop: threading.Event, every: float) -> None:
    """Renew the lock every ``every`` seconds until ``stop`` (a Redis error skips one beat)."""
    while not stop.wait(every):
        try:
            keep_alive()
        except RedisError as exc:  # Redis away for a moment: the next beat tries again
            log.warning("Could not renew an organisation lock: %s", exc)


def running_holder(client: redis.Redis, org_id: int) -> str | None:
    """Who holds the organisation's work lock right now (a job id), if anyone."""
    return _holder(client, org_lock_key(WORK, org_id))


def seconds_left(client: redis.Redis, org_id: int) -> int:
    """Seconds until the organisation's work lock expires (negative: not held, or no expiry)."""
    return int(client.ttl(org_lock_key(WORK, org_id)))


def _holder(client: redis.Redis, key: str) -> str | None:
    value = client.get(key)
    return value.decode() if isinstance(value, bytes) else value
