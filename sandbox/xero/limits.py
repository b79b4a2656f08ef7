"""Xero's API limits: concurrent calls and rolling minute/day windows per tenant, plus app-wide.

Windows are measured on the sandbox clock (a sped-up clock shortens them); ``Retry-After`` is
given in real seconds. The caller holds the sandbox lock around ``acquire``/``release``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections import deque
from dataclasses import dataclass
from dataclasses import field
from typing import Any

MINUTE = 60.0
DAY = 86400.0


@dataclass(frozen=True)
class Limits:
    """The configured limits (``SANDBOX_XERO_*_LIMIT``)."""

    concurrent: int
    minute: int
    day: int
    app_minute: int

    @classmethod
    def from_config(cls, config: Any) -> Limits:
        return cls(
            concurrent=int(config["SANDBOX_XERO_CONCURRENT_LIMIT"]),
            minute=int(config["SANDBOX_XERO_MINUTE_LIMIT"]),
            day=int(config["SANDBOX_XERO_DAILY_LIMIT"]),
            app_minute=int(config["SANDBOX_XERO_APP_MINUTE_LIMIT"]),
        )


@dataclass(frozen=True)
class LimitDecision:
    """Whether a call may proceed, and what the rate-limit headers say."""

    allowed: bool
    problem: str | None
    retry_after: float
    minute_remaining: int
    day_remaining: int
    app_minute_remaining: int


@dataclass
class LimitState:
    """Calls in flight and recent call times, per tenant and app-wide."""

    in_flight: Counter[str] = field(default_factory=Counter)
    minute_calls: dict[str, deque[float]] = field(default_factory=dict)
    day_calls: dict[str, deque[float]] = field(default_factory=dict)
    app_minute_calls: deque[float] = field(default_factory=deque)

    def acquire(self, tenant_id: str, now: float, limits: Limits) -> LimitDecision:
        """Count a call for ``tenant_id`` if every limit allows it; otherwise say which failed."""
        minute = _pruned(self.minute_calls.setdefault(tenant_id, deque()), now - MINUTE)
        day = _pruned(self.day_calls.setdefault(tenant_id, deque()), now - DAY)
        app = _pruned(self.app_minute_calls, now - MINUTE)
        problem: str | None = None
        retry_after = 1.0
        if self.in_flight[tenant_id] >= limits.concurrent:
            problem = "concurrent"
        elif len(day) >= limits.day:
            problem, retry_after = "day", day[0] + DAY - now
        elif len(minute) >= limits.minute:
            problem, retry_after = "minute", minute[0] + MINUTE - now
        elif len(app) >= limits.app_minute:
            problem, retry_after = "appminute", app[0] + MINUTE - now
        if problem is None:
            minute.append(now)
            day.append(now)
            app.append(now)
            self.in_flight[tenant_id] += 1
        return LimitDecision(
            allowed=problem is None,
            problem=problem,
            retry_after=max(retry_after, 0.0),
            minute_remaining=max(limits.minute - len(minute), 0),
            day_remaining=max(limits.day - len(day), 0),
            app_minute_remaining=max(limits.app_minute - len(app), 0),
        )

    def release(self, tenant_id: str) -> None:
        """A call for ``tenant_id`` has finished."""
        if self.in_flight[tenant_id] > 0:
            self.in_flight[tenant_id] -= 1


def _pruned(calls: deque[float], cutoff: float) -> deque[float]:
    while calls and calls[0] <= cutoff:
        calls.popleft()
    return calls


def retry_after_seconds(sandbox_seconds: float, speed: float) -> int:
    """``Retry-After`` in whole real seconds (at least 1) for a wait measured in sandbox time."""
    return max(1, math.ceil(sandbox_seconds / max(speed, 1e-9)))


def limit_headers(decision: LimitDecision) -> dict[str, str]:
    """The remaining-calls headers every Accounting API response carries."""
    return {
        "X-MinLimit-Remaining": str(decision.minute_remaining),
        "X-DayLimit-Remaining": str(decision.day_remaining),
        "X-AppMinLimit-Remaining": str(decision.app_minute_remaining),
    }
