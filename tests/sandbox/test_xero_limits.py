"""Xero's API limits: per-tenant minute, day and concurrent limits and the app-wide minute
limit, their headers, and Retry-After in real seconds on a sped-up clock."""

from __future__ import annotations

import threading
import time

import requests

from sandbox import create_sandbox_app
from tests.sandbox.xero_support import HUDSON
from tests.sandbox.xero_support import THAMES
from tests.sandbox.xero_support import connect_session
from tests.sandbox.xero_support import live_session
from tests.sandbox.xero_support import refresh


def session(**config):
    return connect_session(create_sandbox_app({"SANDBOX_AMAZON_TRANSACTIONS": 5, **config}))


def test_every_response_carries_the_remaining_headers():
    xero = session()
    answer = xero.get("Organisation")
    assert answer.headers["X-MinLimit-Remaining"] == "59"
    assert answer.headers["X-DayLimit-Remaining"] == "4999"
    assert answer.headers["X-AppMinLimit-Remaining"] == "9999"
    assert xero.get("Accounts").headers["X-MinLimit-Remaining"] == "58"


def test_minute_limit_per_tenant():
    xero = session(SANDBOX_XERO_MINUTE_LIMIT=5)
    remaining = [xero.get("Organisation").headers["X-MinLimit-Remaining"] for _ in range(5)]
    assert remaining == ["4", "3", "2", "1", "0"]
    xero.sandbox.clock.advance(30)
    limited = xero.get("Organisation")
    assert limited.status_code == 429
    assert limited.headers["X-Rate-Limit-Problem"] == "minute"
    assert 29 <= int(limited.headers["Retry-After"]) <= 31
    assert xero.get("Organisation", tenant=xero.tenants[HUDSON]).status_code == 200
    xero.sandbox.clock.advance(31)
    assert xero.get("Organisation").status_code == 200
    stats = xero.stats()
    assert stats["rate_limited"]["by_problem"] == {"minute": 1}
    assert stats["rate_limited"]["by_tenant"] == {xero.tenant: 1}
    assert stats["api_calls"][xero.tenant] == 6


def test_retry_after_is_in_real_seconds_on_a_sped_up_clock():
    xero = session(SANDBOX_XERO_MINUTE_LIMIT=2, SANDBOX_CLOCK_SPEED=20.0)
    xero.get("Organisation")
    xero.get("Organisation")
    limited = xero.get("Organisation")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "3"  # 60 sandbox seconds / 20


def test_daily_limit():
    xero = session(SANDBOX_XERO_DAILY_LIMIT=3)
    assert [xero.get("Currencies").headers["X-DayLimit-Remaining"] for _ in range(3)] == [
        "2",
        "1",
        "0",
    ]
    xero.sandbox.clock.advance(1200)
    limited = xero.get("Currencies")
    assert limited.status_code == 429
    assert limited.headers["X-Rate-Limit-Problem"] == "day"
    assert 85190 <= int(limited.headers["Retry-After"]) <= 85201
    xero.sandbox.clock.advance(85201)
    xero.tokens = refresh(xero.client, xero.tokens["refresh_token"]).json
    assert xero.get("Currencies").status_code == 200


def test_app_wide_minute_limit_spans_tenants():
    xero = session(SANDBOX_XERO_APP_MINUTE_LIMIT=3)
    xero.get("Organisation")
    xero.get("Organisation", tenant=xero.tenants[HUDSON])
    assert xero.get("Organisation").headers["X-AppMinLimit-Remaining"] == "0"
    limited = xero.get("Organisation", tenant=xero.tenants[HUDSON])
    assert limited.status_code == 429
    assert limited.headers["X-Rate-Limit-Problem"] == "appminute"


def test_limits_can_be_changed_by_reset():
    xero = session()
    reset = xero.client.post("/_sandbox/reset", json={"config": {"SANDBOX_XERO_MINUTE_LIMIT": 1}})
    assert reset.status_code == 200
    xero = connect_session(xero.app)
    assert xero.get("Organisation").status_code == 200
    assert xero.get("Organisation").status_code == 429


def test_sixth_concurrent_call_is_refused(sandbox):
    xero = live_session(sandbox)
    sandbox.sandbox.faults.configure("xero", {}, slow_seconds=0.8)
    sandbox.sandbox.faults.queue("xero", "slow", count=5)
    url = f"{sandbox.url}/api.xro/2.0/Organisation"
    statuses: list[int] = []

    def call() -> None:
        statuses.append(requests.get(url, headers=xero.headers(), timeout=10).status_code)

    threads = [threading.Thread(target=call) for _ in range(5)]
    for thread in threads:
        thread.start()
    limits = sandbox.sandbox.worlds["xero"].limits
    deadline = time.monotonic() + 5
    while limits.in_flight[xero.tenant] < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    sixth = requests.get(url, headers=xero.headers(), timeout=10)
    assert sixth.status_code == 429
    assert sixth.headers["X-Rate-Limit-Problem"] == "concurrent"
    assert int(sixth.headers["Retry-After"]) >= 1
    for thread in threads:
        thread.join()
    assert statuses == [200] * 5
    assert requests.get(url, headers=xero.headers(), timeout=10).status_code == 200
    assert xero.tenants[THAMES] == xero.tenant
