"""Rate limits shared by every process, kept in Redis.

``XeroRateLimiter`` enforces Xero's limits per organisation (tenant) — calls in flight, calls
per rolling minute, the daily budget — and app-wide calls per minute, learns from Xero's
``X-*-Remaining`` headers and honours 429 ``Retry-After`` for every worker at once.
``TokenBucket`` enforces Amazon's per-operation rate and burst per connection.

Short waits are slept; a wait longer than the caller accepts raises ``RateLimitWait`` so a job
can re-queue itself for later instead of holding a worker.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import redis

from plugin.infra.keys import bucket_key
from plugin.infra.keys import xero_limit_key

# Sliding-window log: KEYS[1] zset; ARGV now, window, limit, member.
# Returns 0 when admitted, else milliseconds until a slot frees.
_WINDOW_ADMIT = """
local key, now, window, limit, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]),
  tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, math.ceil(window * 1000) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', key, 0, count - limit, 'WITHSCORES')
return math.max(1, math.ceil((tonumber(oldest[#oldest]) + window - now) * 1000))
"""

# A call counted from its answer: KEYS minute windows; ARGV now, member. Xero counts a call
# when it arrives, after we admitted it and before its answer came back, so a slot counted from
# the answer never frees before Xero's does (a call admitted the moment ours frees is not early).
_WINDOW_RESTAMP = """
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', tonumber(ARGV[1]), ARGV[2])
end
return 0
"""

# What Xero says remains, when it is less than we count (another instance of the app calls for
# the same organisation): KEYS[1] zset; ARGV now, window, limit, remaining. Adds calls stamped
# now until the window holds limit - remaining; returns how many it added.
_WINDOW_ALIGN = """
local key, now, window, limit, remaining = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]),
  tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
local added = 0
while count + added < limit - remaining do
  added = added + 1
  redis.call('ZADD', key, now, 'seen:' .. ARGV[1] .. ':' .. added)
end
if added > 0 then redis.call('PEXPIRE', key, math.ceil(window * 1000) + 1000) end
return added
"""

# Leases with expiry (a crashed holder's slot frees itself): KEYS[1] zset of lease -> expiry.
_LEASE_ACQUIRE = """
local key, now, ttl, limit, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]),
  tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, now + ttl, member)
  redis.call('PEXPIRE', key, math.ceil(ttl * 1000) + 1000)
  return 1
end
return 0
"""

# Token bucket: KEYS[1] hash {tokens, ts}; ARGV now, rate (tokens/s), burst.
# Returns 0 when a token was taken, else milliseconds until one is available.
_BUCKET_TAKE = """
local key, now, rate, burst = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.max(1, math.ceil((1 - tokens) / rate * 1000))
end
redis.call('HSET', key, 'tokens', tokens, 'ts', now)
redis.call('PEXPIRE', key, math.ceil(burst / rate * 1000) + 60000)
return wait
"""


class RateLimitWait(Exception):
    """A limit is reached and the wait is longer than the caller accepts."""

    def __init__(self, retry_after: float, limit: str) -> None:
        super().__init__(f"rate limit '{limit}' reached; retry in {retry_after:.1f} s")
        self.retry_after = retry_after
        self.limit = limit


@dataclass(frozen=True)
class XeroLimits:
    """Xero's published limits (configurable: the Starter tier has a 1,000 daily budget)."""

    concurrent: int = 5
    per_minute: int = 60
    per_day: int = 5000
    app_per_minute: int = 10000
    lease_seconds: float = 120.0  # a call in flight longer than this is presumed dead


@dataclass
class Lease:
    """Permission for one call in flight; release it when the response is in."""

    tenant_id: str
    token: str


class XeroRateLimiter:
    """Xero's per-organisation and app-wide limits, shared through Redis."""

    def __init__(
        self,
        client: redis.Redis,
        limits: XeroLimits | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.redis = client
        self.limits = limits or XeroLimits()
        self.clock = clock
        self.sleep = sleep
        self._window = client.register_script(_WINDOW_ADMIT)
        self._lease = client.register_script(_LEASE_ACQUIRE)
        self._restamp = client.register_script(_WINDOW_RESTAMP)
        self._align = client.register_script(_WINDOW_ALIGN)

    # Keys ----------------------------------------------------------------------------------
    def _key(self, *parts: str) -> str:
        return xero_limit_key(*parts)

    # Admission -----------------------------------------------------------------------------
    def wait_needed(self, tenant_id: str) -> tuple[float, str]:
        """Seconds to wait before the next call for this tenant could go, and which limit."""
        now = self.clock()
        blocked = self.redis.get(self._key("blocked", tenant_id))
        if blocked:
            until, _, limit = _text(blocked).partition("|")
            if float(until) > now:
                return float(until) - now, limit or "retry-after"
        app_blocked = self.redis.get(self._key("blocked", "app"))
        if app_blocked and float(_text(app_blocked)) > now:
            return float(_text(app_blocked)) - now, "appminute"
        used_today = int(self.redis.get(self._key("day", tenant_id)) or 0)
        if used_today >= self.limits.per_day:
            ttl = self.redis.pttl(self._key("day", tenant_id))
            return max(ttl, 1000) / 1000, "day"
        return 0.0, ""

    def acquire(self, tenant_id: str, max_wait: float = 10.0) -> Lease:
        """Wait (up to ``max_wait`` seconds) for a slot; raise RateLimitWait beyond that."""
        deadline = self.clock() + max_wait
        member = uuid.uuid4().hex
        while True:
            wait, limit = self.wait_needed(tenant_id)
            if wait <= 0:
                wait, limit = self._try_admit(tenant_id, member)
                if wait <= 0:
                    return Lease(tenant_id, member)
            if self.clock() + wait > deadline:
                raise RateLimitWait(wait, limit)
            self.sleep(min(wait, 1.0) if limit == "concurrent" else wait)

    def _try_admit(self, tenant_id: str, member: str) -> tuple[float, str]:
        """Take a concurrency lease, then minute, app-minute and day slots (all or nothing)."""
        now = self.clock()
        leases = self._key("inflight", tenant_id)
        if not self._lease(
            keys=[leases], args=[now, self.limits.lease_seconds, self.limits.concurrent, member]
        ):
            return 0.25, "concurrent"
        wait_ms = self._window(
            keys=[self._key("minute", tenant_id)], args=[now, 60, self.limits.per_minute, member]
        )
        if wait_ms:
            self.redis.zrem(leases, member)
            return wait_ms / 1000, "minute"
        wait_ms = self._window(
            keys=[self._key("appminute")], args=[now, 60, self.limits.app_per_minute, member]
        )
        if wait_ms:
            self.redis.zrem(leases, member)
            self.redis.zrem(self._key("minute", tenant_id), member)
            return wait_ms / 1000, "appminute"
        day_key = self._key("day", tenant_id)
        pipe = self.redis.pipeline()
        pipe.incr(day_key)
        pipe.ttl(day_key)
        _count, ttl = pipe.execute()
        self._start_day(day_key, ttl)
        return 0.0, ""

    def release(self, lease: Lease) -> None:
        """The call is over: free its concurrency slot, and count it in the minute windows from
        now (when Xero had certainly counted it)."""
        self._restamp(
            keys=[self._key("minute", lease.tenant_id), self._key("appminute")],
            args=[self.clock(), lease.token],
        )
        self.redis.zrem(self._key("inflight", lease.tenant_id), lease.token)

    @contextmanager
    def slot(self, tenant_id: str, max_wait: float = 10.0) -> Iterator[Lease]:
        """``with limiter.slot(tenant): call()`` — acquire, then always release."""
        lease = self.acquire(tenant_id, max_wait=max_wait)
        try:
            yield lease
        finally:
            self.release(lease)

    # Learning from Xero ------------------------------------------------------------------------
    def observe(self, tenant_id: str, headers: Mapping[str, str]) -> None:
        """Align our counters with what Xero says remains (another app instance may share them)."""
        day_left = _int_header(headers, "X-DayLimit-Remaining")
        if day_left is not None:
            used = max(0, self.limits.per_day - day_left)
            day_key = self._key("day", tenant_id)
            current = int(self.redis.get(day_key) or 0)
            if used > current:
                self.redis.set(day_key, used, keepttl=True)
                self._start_day(day_key, self.redis.ttl(day_key))
        # The minute windows: our own count already makes the next call wait exactly until a
        # slot frees (not a whole minute from the last call, which left posting idle for ~40 s
        # of every minute); Xero's count is only taken when it is higher than ours.
        minute_left = _int_header(headers, "X-MinLimit-Remaining")
        if minute_left is not None:
            self._align_window(self._key("minute", tenant_id), self.limits.per_minute, minute_left)
        app_left = _int_header(headers, "X-AppMinLimit-Remaining")
        if app_left is not None:
            self._align_window(self._key("appminute"), self.limits.app_per_minute, app_left)

    def _align_window(self, key: str, limit: int, remaining: int) -> None:
        self._align(keys=[key], args=[self.clock(), 60, limit, max(remaining, 0)])

    def _start_day(self, day_key: str, ttl: int) -> None:
        """Give a new daily counter its 24 h expiry (``EXPIRE … NX`` needs Redis 7; the bundled
        fallback server is 6.2, so ask the TTL instead: -1 means none set yet)."""
        if ttl < 0:
            self.redis.expire(day_key, 86400)

    def block(self, tenant_id: str, seconds: float, limit: str) -> None:
        """No calls for this tenant for ``seconds`` (Xero said Retry-After)."""
        until = self.clock() + seconds
        self.redis.set(
            self._key("blocked", tenant_id), f"{until}|{limit}", px=int(seconds * 1000) + 1000
        )

    def block_app(self, seconds: float) -> None:
        """No calls for any tenant for ``seconds`` (the app-wide limit was hit)."""
        until = self.clock() + seconds
        self.redis.set(self._key("blocked", "app"), str(until), px=int(seconds * 1000) + 1000)

    def on_rate_limited(self, tenant_id: str, retry_after: float, problem: str) -> None:
        """Record a 429 so that every worker waits, not just the one that saw it."""
        if "app" in problem.lower():
            self.block_app(retry_after)
        else:
            self.block(tenant_id, retry_after, problem.lower() or "minute")

    def free_now(self, tenant_id: str) -> int:
        """Calls this tenant could make now without waiting for its minute window (0 while it
        is blocked): what an import may spend on posting between its pages."""
        if self.wait_needed(tenant_id)[0] > 0:
            return 0
        key = self._key("minute", tenant_id)
        used = self.redis.zcount(key, f"({self.clock() - 60}", "+inf")
        return max(0, self.limits.per_minute - int(used))

    def remaining_today(self, tenant_id: str) -> int:
        """Calls left in the tenant's daily budget, as far as we know."""
        return max(0, self.limits.per_day - int(self.redis.get(self._key("day", tenant_id)) or 0))


class TokenBucket:
    """A token bucket per key (e.g. Amazon connection and operation), shared through Redis."""

    def __init__(
        self,
        client: redis.Redis,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.redis = client
        self.clock = clock
        self.sleep = sleep
        self._take = client.register_script(_BUCKET_TAKE)

    def take(self, key: str, rate: float, burst: int, max_wait: float = 30.0) -> None:
        """Take one token, sleeping while the bucket refills; RateLimitWait beyond ``max_wait``."""
        deadline = self.clock() + max_wait
        bucket = bucket_key(key)
        while True:
            wait_ms = self._take(keys=[bucket], args=[self.clock(), rate, burst])
            if not wait_ms:
                return
            wait = wait_ms / 1000
            if self.clock() + wait > deadline:
                raise RateLimitWait(wait, key)
            self.sleep(wait)


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), None)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _text(value: bytes | str) -> str:
    """A Redis value as text (the client answers bytes unless decode_responses is set)."""
    return value.decode() if isinstance(value, bytes) else value
