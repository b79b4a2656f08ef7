"""How long a call to Xero may take, and how long after sending one we still treat it as possibly
in Xero's hands: the two figures that decide when an unanswered write can be looked up.

A write whose answer never came (a dropped connection, a read time-out, a killed worker) may
still be processed by Xero after we stopped waiting. Until ``in_flight`` has passed since it was
sent, nothing of it is sent again and its absence from Xero proves nothing; afterwards a look-up
in Xero tells for certain which of its documents exist. Xero's memory of ``Idempotency-Key`` is
never relied on for this (it is undocumented, quoted as 6 minutes, and was seen shorter).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

CONNECT_SECONDS = 5
READ_SECONDS = 60  # the client's read time-out (``XERO_READ_TIMEOUT_SECONDS``)
IN_FLIGHT_SECONDS = 300  # ``XERO_IN_FLIGHT_SECONDS``: at least the longest call + margin
IN_FLIGHT_MARGIN_SECONDS = 5


@dataclass(frozen=True)
class XeroTiming:
    """The client's time-outs and the in-flight horizon of its writes."""

    read_seconds: float = READ_SECONDS
    in_flight_seconds: float = IN_FLIGHT_SECONDS
    connect_seconds: float = CONNECT_SECONDS

    @property
    def timeout(self) -> tuple[float, float]:
        """``requests``' (connect, read) time-out."""
        return (self.connect_seconds, self.read_seconds)

    @property
    def in_flight(self) -> timedelta:
        """How long after sending a write it may still be in Xero's hands."""
        return timedelta(seconds=self.in_flight_seconds)

    @property
    def longest_call_seconds(self) -> float:
        """The longest a write can be on the wire: two reads (the first, and the one retry after
        a token refresh in ``XeroClient.request``). A connect time-out sends nothing."""
        return 2 * self.read_seconds


def timing_of(config: Any) -> XeroTiming:
    """The timing the settings give (defaults where unset)."""
    return XeroTiming(
        read_seconds=float(config.get("XERO_READ_TIMEOUT_SECONDS") or READ_SECONDS),
        in_flight_seconds=float(config.get("XERO_IN_FLIGHT_SECONDS") or IN_FLIGHT_SECONDS),
    )


def timing_problem(timing: XeroTiming) -> str | None:
    """Why these figures are unsafe together (None: safe). A horizon shorter than the client's
    own wait would look a write up while we may still be waiting for its answer."""
    least = timing.longest_call_seconds + IN_FLIGHT_MARGIN_SECONDS
    if timing.read_seconds <= 0:
        return "XERO_READ_TIMEOUT_SECONDS must be more than 0."
    if timing.in_flight_seconds < least:
        return (
            f"XERO_IN_FLIGHT_SECONDS ({timing.in_flight_seconds:g}) must be at least twice "
            f"XERO_READ_TIMEOUT_SECONDS + {IN_FLIGHT_MARGIN_SECONDS} s ({least:g}): a write "
            "could be looked up in Xero, and sent again, while it is still in flight."
        )
    return None
