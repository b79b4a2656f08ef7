"""A counter per organisation of its jobs that ended, bumped by the worker
(``plugin.infra.metered_worker``) and read by the change signal of Manage Integrations
(``plugin.manage.change_signal``), so a page notices within seconds that work for it ended."""

from __future__ import annotations

import redis

from plugin.infra.keys import jobs_ended_key

REDIS_ERRORS = (redis.RedisError, OSError)
KEEP_SECONDS = 7 * 24 * 3600  # the counter of an organisation nobody looks at lapses


def job_ended(connection: redis.Redis, org_id: int) -> None:
    """One of the organisation's jobs ended (never raises: the page's polling catches up)."""
    key = jobs_ended_key(org_id)
    try:
        pipe = connection.pipeline()
        pipe.incr(key)
        pipe.expire(key, KEEP_SECONDS)
        pipe.execute()
    except REDIS_ERRORS:
        pass


def jobs_ended(connection: redis.Redis, org_id: int) -> str:
    """The organisation's counter as text ("" when none; "redis-down" when Redis is)."""
    try:
        value = connection.get(jobs_ended_key(org_id))
    except REDIS_ERRORS:
        return "redis-down"
    return value.decode() if isinstance(value, bytes) else str(value or "")
