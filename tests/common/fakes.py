"""Fakes for the clock and for the token sources of the Xero and Amazon Business clients."""

from __future__ import annotations


class FakeClock:
    """Seconds (wall-clock-like) that advance only when someone sleeps, so no test waits."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakeXeroTokens:
    """Hands out access-1, then access-2 after a forced refresh; records reconnect marks.

    With ``reconnect_allowed=False`` a reconnect mark fails the test (code that must never
    give up on a connection).
    """

    def __init__(self, reconnect_allowed: bool = True) -> None:
        self.refreshes = 0
        self.reconnect_reasons: list[str] = []
        self.reconnect_allowed = reconnect_allowed

    def access_token(self, force_refresh: bool = False) -> str:
        if force_refresh:
            self.refreshes += 1
        return f"access-{self.refreshes + 1}"

    def mark_needs_reconnect(self, reason: str) -> None:
        if not self.reconnect_allowed:
            raise AssertionError(f"unexpected reconnect: {reason}")
        self.reconnect_reasons.append(reason)


class FakeAmazonTokens:
    """An Amazon Business token source that counts refreshes and reconnect marks."""

    def __init__(self) -> None:
        self.current = "Atza|first"
        self.refreshes = 0
        self.reconnect_reasons: list[str] = []

    def access_token(self) -> str:
        return self.current

    def refresh(self) -> str:
        self.refreshes += 1
        self.current = f"Atza|refreshed-{self.refreshes}"
        return self.current

    def mark_needs_reconnect(self, why: str) -> str:
        self.reconnect_reasons.append(why)
        return f"Reconnect needed: {why}"
