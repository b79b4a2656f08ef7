"""Is background work (Redis + the RQ workers' queues) available? Cached for a few seconds.

Pages never depend on Redis to answer: when it is down they show a "background work paused"
banner (``templates/partials/_banner.html``) and everything that would queue a job says so.
"""

from __future__ import annotations

import time
from threading import Lock

from flask import Flask

from plugin.infra.queues import get_redis
from plugin.infra.queues import redis_ok

CACHE_SECONDS = 5.0

_cache: dict[str, tuple[float, bool]] = {}
_lock = Lock()


def background_available(app: Flask, now: float | None = None) -> bool:
    """True when Redis answers (checked at most every CACHE_SECONDS per Redis URL)."""
    now = time.monotonic() if now is None else now
    key = str(app.config.get("REDIS_URL"))
    with _lock:
        cached = _cache.get(key)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]
    try:
        ok, _detail = redis_ok(get_redis(app))
    except Exception:  # a broken client must never break a page
        ok = False
    with _lock:
        _cache[key] = (now, ok)
    return ok


def forget() -> None:
    """Drop the cached answers (tests)."""
    with _lock:
        _cache.clear()
