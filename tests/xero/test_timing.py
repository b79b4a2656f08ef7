"""The Xero client's time-outs and in-flight horizon: what the settings give, which figures are
unsafe together, and the app refusing to start with them (issue 19 points 1 and 5)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from plugin import create_app
from plugin.config import UnsafeSettings
from plugin.config import settings_problems
from plugin.xero.timing import XeroTiming
from plugin.xero.timing import timing_of
from plugin.xero.timing import timing_problem


def test_defaults_give_a_five_minute_horizon_and_a_minute_read():
    timing = timing_of({})
    assert timing.timeout == (5, 60)
    assert timing.in_flight == timedelta(minutes=5)
    assert timing_problem(timing) is None
    assert settings_problems({"ORG_LOCK_SECONDS": 300}) == []


@pytest.mark.parametrize(
    ("read", "in_flight", "safe"),
    [(60, 125, True), (60, 124, False), (2, 9, True), (2, 8, False), (0, 300, False)],
)
def test_the_horizon_must_outlast_two_reads_and_a_margin(read, in_flight, safe):
    """A write can be on the wire for two reads (the retry after a token refresh): looking it
    up sooner could miss a document Xero is still creating, and post it twice."""
    problem = timing_problem(XeroTiming(read_seconds=read, in_flight_seconds=in_flight))
    assert (problem is None) == safe
    if not safe and read:
        assert "XERO_IN_FLIGHT_SECONDS" in str(problem)


def test_a_lock_too_short_for_its_keep_alive_is_refused():
    problems = settings_problems({"ORG_LOCK_SECONDS": 2})
    assert len(problems) == 1
    assert "ORG_LOCK_SECONDS (2)" in problems[0]


def test_the_app_refuses_to_start_with_unsafe_settings(tmp_path, redis_url):
    with pytest.raises(UnsafeSettings) as refused:
        create_app(
            {
                "INSTANCE_PATH": str(tmp_path),
                "REDIS_URL": redis_url,
                "XERO_READ_TIMEOUT_SECONDS": 60,
                "XERO_IN_FLIGHT_SECONDS": 30,
            }
        )
    assert "XERO_IN_FLIGHT_SECONDS (30)" in str(refused.value)
    assert str(refused.value).startswith("Refusing to start:")


def test_the_client_waits_as_configured():
    from plugin.xero.client import XeroClient

    client = XeroClient(
        "t", tokens=None, limiter=None, timing=timing_of({"XERO_READ_TIMEOUT_SECONDS": 7})
    )  # type: ignore[arg-type]
    assert client.timing.timeout == (5, 7)
    assert client.in_flight == timedelta(seconds=300)
