"""Rate limits in a real Redis: Xero's per-tenant and app-wide limits, Amazon's token buckets."""

from __future__ import annotations

import threading

import pytest

from plugin.infra.ratelimit import RateLimitWait
from plugin.infra.ratelimit import TokenBucket
from plugin.infra.ratelimit import XeroLimits
from plugin.infra.ratelimit import XeroRateLimiter


@pytest.fixture
def limiter(redis_client, clock):
    return XeroRateLimiter(redis_client, XeroLimits(), clock=clock, sleep=clock.sleep)


def test_the_61st_call_in_a_minute_waits_for_the_window(limiter, clock):
    for _ in range(60):
        limiter.release(limiter.acquire("tenant-a", max_wait=0))
    assert clock.sleeps == []
    with pytest.raises(RateLimitWait) as refused:
        limiter.acquire("tenant-a", max_wait=0)
    assert refused.value.limit == "minute"
    assert 59 <= refused.value.retry_after <= 60
    # With enough patience it waits for the window instead of failing.
    limiter.release(limiter.acquire("tenant-a", max_wait=90))
    assert sum(clock.sleeps) == pytest.approx(60, abs=1)


def test_tenants_have_separate_minute_windows(limiter):
    for _ in range(60):
        limiter.release(limiter.acquire("tenant-a", max_wait=0))
    limiter.release(limiter.acquire("tenant-b", max_wait=0))  # not refused


def test_the_sixth_concurrent_call_waits_until_one_finishes(redis_client):
    limiter = XeroRateLimiter(redis_client, XeroLimits())
    leases = [limiter.acquire("tenant-c", max_wait=0) for _ in range(5)]
    with pytest.raises(RateLimitWait) as refused:
        limiter.acquire("tenant-c", max_wait=0)
    assert refused.value.limit == "concurrent"

    got_in = threading.Event()

    def sixth_call():
        limiter.release(limiter.acquire("tenant-c", max_wait=5))
        got_in.set()

    waiter = threading.Thread(target=sixth_call)
    waiter.start()
    assert not got_in.wait(0.5)  # still waiting while five are in flight
    limiter.release(leases[0])
    assert got_in.wait(5)
    waiter.join()
    for lease in leases[1:]:
        limiter.release(lease)


def test_a_crashed_callers_slot_frees_itself(redis_client, clock):
    limiter = XeroRateLimiter(
        redis_client, XeroLimits(lease_seconds=30), clock=clock, sleep=clock.sleep
    )
    for _ in range(5):
        limiter.acquire("tenant-d", max_wait=0)  # never released: the callers died
    clock.now += 31
    limiter.acquire("tenant-d", max_wait=0)


def test_daily_budget_refuses_until_the_day_is_over(redis_client, clock):
    limiter = XeroRateLimiter(redis_client, XeroLimits(per_day=3), clock=clock, sleep=clock.sleep)
    for _ in range(3):
        limiter.release(limiter.acquire("tenant-e", max_wait=0))
    assert limiter.remaining_today("tenant-e") == 0
    with pytest.raises(RateLimitWait) as refused:
        limiter.acquire("tenant-e", max_wait=60)
    assert refused.value.limit == "day"
    assert refused.value.retry_after > 3600


def test_learns_the_daily_budget_from_xero_headers(limiter):
    limiter.observe("tenant-f", {"X-DayLimit-Remaining": "4990", "X-MinLimit-Remaining": "55"})
    assert limiter.remaining_today("tenant-f") == 4990


def test_a_429_makes_every_worker_wait(redis_client, clock):
    first = XeroRateLimiter(redis_client, clock=clock, sleep=clock.sleep)
    second = XeroRateLimiter(redis_client, clock=clock, sleep=clock.sleep)
    first.on_rate_limited("tenant-g", 42, "minute")
    with pytest.raises(RateLimitWait) as refused:
        second.acquire("tenant-g", max_wait=5)
    assert refused.value.retry_after == pytest.approx(42)
    second.release(second.acquire("tenant-other", max_wait=0))  # other tenants unaffected


def test_app_wide_limit_applies_across_tenants(redis_client, clock):
    limiter = XeroRateLimiter(
        redis_client, XeroLimits(app_per_minute=4), clock=clock, sleep=clock.sleep
    )
    for tenant in ("t1", "t2", "t3", "t4"):
        limiter.release(limiter.acquire(tenant, max_wait=0))
    with pytest.raises(RateLimitWait) as refused:
        limiter.acquire("t5", max_wait=0)
    assert refused.value.limit == "appminute"


def test_token_bucket_allows_the_burst_then_the_rate(redis_client, clock):
    bucket = TokenBucket(redis_client, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        bucket.take("conn-1:getTransactions", rate=2, burst=10)
    assert clock.sleeps == []
    bucket.take("conn-1:getTransactions", rate=2, burst=10)
    assert sum(clock.sleeps) == pytest.approx(0.5, abs=0.01)
    bucket.take("conn-1:createReport", rate=1 / 60, burst=1, max_wait=0)
    with pytest.raises(RateLimitWait) as refused:
        bucket.take("conn-1:createReport", rate=1 / 60, burst=1, max_wait=0)
    assert refused.value.retry_after == pytest.approx(60, abs=0.01)


# --- The minute window against Xero's (issue 17 point 1) --------------------------------------


def test_a_call_counts_in_the_minute_from_its_answer(limiter, clock):
    """Xero counts a call when it arrives, after we let it go: counted from the answer, our
    slot never frees before Xero's."""
    lease = limiter.acquire("tenant-h", max_wait=0)
    clock.now += 2  # the call takes 2 s
    limiter.release(lease)
    for _ in range(59):
        limiter.release(limiter.acquire("tenant-h", max_wait=0))
    with pytest.raises(RateLimitWait) as refused:
        limiter.acquire("tenant-h", max_wait=0)
    assert refused.value.retry_after == pytest.approx(60, abs=0.01)  # not 58


def test_xero_saying_the_minute_is_spent_waits_only_until_a_slot_frees(limiter, clock):
    """The 60th answer says 0 remaining: the next call waits for the oldest call's slot (30 s
    here), not a whole minute from now."""
    for _ in range(60):
        limiter.release(limiter.acquire("tenant-i", max_wait=0))
    clock.now += 30
    limiter.observe("tenant-i", {"X-MinLimit-Remaining": "0", "X-AppMinLimit-Remaining": "9940"})
    limiter.release(limiter.acquire("tenant-i", max_wait=90))
    assert sum(clock.sleeps) == pytest.approx(30, abs=0.01)


def test_calls_another_instance_made_count_when_xero_says_fewer_remain(limiter, clock):
    for _ in range(10):
        limiter.release(limiter.acquire("tenant-j", max_wait=0))
    # Xero has counted 60: 50 of them came from elsewhere.
    limiter.observe("tenant-j", {"X-MinLimit-Remaining": "0"})
    with pytest.raises(RateLimitWait) as refused:
        limiter.acquire("tenant-j", max_wait=0)
    assert refused.value.limit == "minute"
    assert refused.value.retry_after == pytest.approx(60, abs=0.01)
    limiter.observe("tenant-j", {"X-MinLimit-Remaining": "5"})  # fewer than we count: no change
    clock.now += 61
    limiter.release(limiter.acquire("tenant-j", max_wait=0))
