"""The sandbox's shared machinery: one lock, a speedable clock, fault injection and reset hooks."""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

from flask import current_app
from flask import request

FAULT_KINDS = ("500", "503", "429", "slow", "drop_after_write")


class SandboxClock:
    """Sandbox time: real time sped up by ``speed`` and moved on by ``advance``."""

    def __init__(self, speed: float = 1.0) -> None:
        self._lock = threading.Lock()
        self.speed = float(speed)
        self._real_start = time.time()
        self._sandbox_start = self._real_start
        self._offset = 0.0

    def time(self) -> float:
        """Seconds since the epoch, in sandbox time."""
        with self._lock:
            elapsed = (time.time() - self._real_start) * self.speed
            return self._sandbox_start + elapsed + self._offset

    def now(self) -> datetime:
        """The sandbox's current moment, timezone-aware UTC."""
        return datetime.fromtimestamp(self.time(), tz=UTC)

    def advance(self, seconds: float) -> None:
        """Jump sandbox time forward (tests use it to expire codes, tokens and limit windows)."""
        with self._lock:
            self._offset += float(seconds)

    def set_speed(self, speed: float) -> None:
        """Change the speed from now on without jumping."""
        with self._lock:
            now_real = time.time()
            self._sandbox_start += (now_real - self._real_start) * self.speed
            self._real_start = now_real
            self.speed = float(speed)

    def sleep(self, sandbox_seconds: float) -> None:
        """Sleep for a span of sandbox time (shorter in real time when sped up)."""
        time.sleep(max(0.0, sandbox_seconds / max(self.speed, 1e-9)))

    def in_(self, seconds: float) -> datetime:
        """A moment ``seconds`` from now in sandbox time."""
        return self.now() + timedelta(seconds=seconds)


@dataclass
class FaultPlan:
    """Which share of requests to a service misbehave, and how.

    ``rates`` maps a kind from FAULT_KINDS to a probability (0..1). ``queued`` holds one-shot
    faults (kind, path substring) served first, in order, to the next matching requests.
    """

    rates: dict[str, float] = field(default_factory=dict)
    queued: list[tuple[str, str]] = field(default_factory=list)
    slow_seconds: float = 3.0
    seed: int = 0
    rng: random.Random = field(default_factory=random.Random)
    injected: dict[str, int] = field(default_factory=dict)


class Faults:
    """Fault injection per service ("xero", "amazon"); off until configured."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._plans: dict[str, FaultPlan] = {}

    def configure(
        self,
        service: str,
        rates: dict[str, float] | None = None,
        seed: int = 0,
        slow_seconds: float = 3.0,
    ) -> None:
        """Set the random fault rates for a service (replacing earlier ones)."""
        rates = dict(rates or {})
        unknown = set(rates) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        with self._lock:
            plan = self._plans.setdefault(service, FaultPlan())
            plan.rates = rates
            plan.seed = seed
            plan.slow_seconds = slow_seconds
            plan.rng = random.Random(seed)

    def queue(self, service: str, kind: str, count: int = 1, path_contains: str = "") -> None:
        """Make the next ``count`` requests whose path has ``path_contains`` fail with ``kind``."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind: {kind}")
        with self._lock:
            plan = self._plans.setdefault(service, FaultPlan())
            plan.queued.extend([(kind, path_contains)] * count)

    def pick(self, service: str, path: str, is_write: bool) -> str | None:
        """The fault to apply to this request, if any (drop_after_write only hits writes)."""
        with self._lock:
            plan = self._plans.get(service)
            if plan is None:
                return None
            for i, (kind, needle) in enumerate(plan.queued):
                if needle in path and (kind != "drop_after_write" or is_write):
                    del plan.queued[i]
                    plan.injected[kind] = plan.injected.get(kind, 0) + 1
                    return kind
            roll = plan.rng.random()
            for kind in FAULT_KINDS:
                rate = plan.rates.get(kind, 0.0)
                if kind == "drop_after_write" and not is_write:
                    continue
                if roll < rate:
                    plan.injected[kind] = plan.injected.get(kind, 0) + 1
                    return kind
                roll -= rate
            return None

    def slow_seconds(self, service: str) -> float:
        """How long a "slow" fault stalls, in real seconds."""
        with self._lock:
            plan = self._plans.get(service)
            return plan.slow_seconds if plan else 0.0

    def summary(self) -> dict[str, Any]:
        """What is configured and what has been injected so far."""
        with self._lock:
            return {
                name: {"rates": plan.rates, "queued": len(plan.queued), "injected": plan.injected}
                for name, plan in self._plans.items()
            }

    def clear(self) -> None:
        """Turn every fault off."""
        with self._lock:
            self._plans.clear()


class Sandbox:
    """Everything the sandbox keeps between requests, reachable as ``current_sandbox()``."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.clock = SandboxClock(float(config["SANDBOX_CLOCK_SPEED"]))
        self.faults = Faults()
        self._reset_hooks: list[Callable[[Sandbox], None]] = []
        self.worlds: dict[str, Any] = {}

    def on_reset(self, hook: Callable[[Sandbox], None]) -> None:
        """Register a function that rebuilds a part of the state from the seed."""
        self._reset_hooks.append(hook)

    def reset(self, seed: int | None = None) -> None:
        """Throw all state away and rebuild it deterministically from the seed."""
        with self.lock:
            if seed is not None:
                self.config["SANDBOX_SEED"] = int(seed)
            self.faults.clear()
            self.clock = SandboxClock(float(self.config["SANDBOX_CLOCK_SPEED"]))
            for hook in self._reset_hooks:
                hook(self)


def current_sandbox() -> Sandbox:
    """The sandbox of the app handling this request."""
    return current_app.extensions["sandbox"]  # type: ignore[no-any-return]


def drop_client_connection() -> bool:
    """Shut down the TCP connection of the request being handled, so the client gets no
    response at all (the "drop_after_write" fault). False when there is no real socket
    (Flask's test client)."""
    sock = request.environ.get("werkzeug.socket")
    if sock is None:
        return False
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    return True
