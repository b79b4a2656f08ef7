"""Token buckets per party (one consented account x store) and operation, on sandbox time."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    """Refill rate in requests per second and bucket size."""

    rate: float
    burst: int

    @property
    def header(self) -> str:
        """The ``x-amzn-RateLimit-Limit`` value, e.g. ``"2.0"``."""
        return f"{self.rate}"


# Spec §6 and §4; every Document API operation allows 0.1 requests per second since
# February 2026 (spec §9 item 1), with §4's bursts.
LIMITS: dict[str, Limit] = {
    "getTransactions": Limit(2.0, 10),
    "getInvoiceDetailsByOrderLineItems": Limit(2.0, 10),
    "getBatchInvoicePaymentDetails": Limit(2.0, 10),
    "createReport": Limit(0.1, 15),
    "getReports": Limit(0.1, 10),
    "getReport": Limit(0.1, 15),
    "cancelReport": Limit(0.1, 10),
    "getReportDocument": Limit(0.1, 15),
}


@dataclass
class Bucket:
    """Tokens available and when they were last counted."""

    tokens: float
    updated: float


class Throttle:
    """Spends one token per request; an empty bucket means 429."""

    def __init__(self, limits: dict[str, Limit] | None = None) -> None:
        self.limits = dict(limits or LIMITS)
        self._buckets: dict[tuple[str, str], Bucket] = {}

    def take(self, party: str, operation: str, now: float) -> bool:
        """Spend a token for ``operation`` by ``party`` at ``now``; False when none is left."""
        limit = self.limits[operation]
        bucket = self._buckets.get((party, operation))
        if bucket is None:
            bucket = self._buckets[(party, operation)] = Bucket(float(limit.burst), now)
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(float(limit.burst), bucket.tokens + elapsed * limit.rate)
        bucket.updated = now
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True
