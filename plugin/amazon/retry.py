"""The one retry policy of the Amazon Business client, built on tenacity.

429, 500, 502, 503, 504 and connection errors/time-outs are retried with exponential backoff
(1, 2, 4 … ≤ 30 s) and "equal jitter" (half fixed, half random), honouring a ``Retry-After``
header when Amazon sends one, for at most ``RetryPolicy.max_attempts`` attempts. A wait longer
than the cap is not slept. An attempt that failed in a retryable way raises ``RetryableFailure``
carrying the error to raise when we give up (``AmazonRateLimited``/``AmazonUnavailable`` with
``retry_after``), so the job can re-queue itself instead of holding a worker.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

import requests
from tenacity import RetryCallState
from tenacity import Retrying
from tenacity import retry_if_exception_type
from tenacity import stop_after_attempt
from tenacity import wait_exponential
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from plugin.amazon.errors import AmazonError

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry 429/5xx/connection failures."""

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0


class RetryableFailure(Exception):
    """An attempt failed in a way worth retrying.

    ``give_up(wait)`` builds the error to raise when no retry is left (``wait``: the pause the
    next retry would have needed); ``retry_after`` is Amazon's ``Retry-After``, if it sent one.
    """

    def __init__(
        self, give_up: Callable[[float], AmazonError], retry_after: float | None = None
    ) -> None:
        super().__init__("retryable Amazon failure")
        self.give_up = give_up
        self.retry_after = retry_after


class EqualJitterBackoff(wait_base):
    """``Retry-After`` when Amazon sent one, else exponential backoff with equal jitter."""

    def __init__(self, policy: RetryPolicy, rng: random.Random) -> None:
        self.backoff = wait_exponential(multiplier=policy.base_delay, max=policy.max_delay)
        self.rng = rng

    def __call__(self, retry_state: RetryCallState) -> float:
        failure = _failure_of(retry_state)
        if failure.retry_after is not None:
            return failure.retry_after
        ceiling = self.backoff(retry_state)
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)


class WaitLongerThan(stop_base):
    """Stop when the next pause would be longer than ``limit`` seconds (a long Retry-After)."""

    def __init__(self, limit: float) -> None:
        self.limit = limit

    def __call__(self, retry_state: RetryCallState) -> bool:
        return retry_state.upcoming_sleep > self.limit


def retrying(
    policy: RetryPolicy, *, sleep: Callable[[float], None], rng: random.Random
) -> Retrying:
    """The client's policy: call ``policy_object(fn, *args)`` to run ``fn`` under it."""
    return Retrying(
        retry=retry_if_exception_type(RetryableFailure),
        wait=EqualJitterBackoff(policy, rng),
        stop=stop_after_attempt(policy.max_attempts) | WaitLongerThan(policy.max_delay),
        sleep=sleep,
        retry_error_callback=_give_up,
    )


def retry_after_of(response: requests.Response) -> float | None:
    """Amazon's ``Retry-After`` in seconds (never negative), or None."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _failure_of(retry_state: RetryCallState) -> RetryableFailure:
    assert retry_state.outcome is not None
    failure = retry_state.outcome.exception()
    assert isinstance(failure, RetryableFailure)
    return failure


def _give_up(retry_state: RetryCallState) -> NoReturn:
    failure = _failure_of(retry_state)
    raise failure.give_up(retry_state.upcoming_sleep) from failure.__cause__
