"""Our own exception types for everything Xero can answer, so callers never parse HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any


class XeroError(Exception):
    """Base class: something Xero answered (or failed to) that the caller must handle."""

    def __init__(self, message: str, status: int | None = None, correlation_id: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.correlation_id = correlation_id


@dataclass
class ElementError:
    """What Xero said about one element of a batch (or of a rejected request)."""

    index: int
    messages: list[str] = field(default_factory=list)
    element: dict[str, Any] = field(default_factory=dict)


class XeroValidationError(XeroError):
    """400: Xero refused the request; ``elements`` carry the per-element messages."""

    def __init__(
        self,
        message: str,
        elements: list[ElementError] | None = None,
        status: int = 400,
        correlation_id: str = "",
    ) -> None:
        super().__init__(message, status, correlation_id)
        self.elements = elements or []

    @property
    def messages(self) -> list[str]:
        """Every element message, flattened (or the top-level message)."""
        found = [m for element in self.elements for m in element.messages]
        return found or [self.message]


class XeroRateLimited(XeroError):
    """429: slow down; ``retry_after`` seconds, ``limit`` names which one (minute, day, …)."""

    def __init__(self, retry_after: float, limit: str, correlation_id: str = "") -> None:
        super().__init__(
            f"Xero asked us to slow down ({limit} limit); retry in {retry_after:.0f} s",
            429,
            correlation_id,
        )
        self.retry_after = retry_after
        self.limit = limit


class XeroNeedsReconnect(XeroError):
    """The stored tokens no longer work (revoked, expired refresh token, 401 after refresh)."""


class XeroConnectionRevoked(XeroError):
    """403 AuthenticationUnsuccessful: this organisation is no longer connected to the app."""


class XeroNotFound(XeroError):
    """404: the document or resource does not exist (or belongs to another tenant)."""


class XeroUnavailable(XeroError):
    """503: "Organisation offline" or Xero maintenance; try again in a few minutes."""


class XeroServerError(XeroError):
    """500 (or another 5xx): Xero failed; a write may or may not have happened."""


class XeroMalformedResponse(XeroServerError):
    """Xero answered, but not in the shape we read (a field missing, of the wrong type, a date or
    an amount that does not parse): treated like a 500, as a write may have happened."""


class XeroConnectionLost(XeroError):
    """No answer at all (timeout, dropped connection): a write may or may not have happened.

    ``timed_out``: we stopped waiting (read time-out), so Xero may still be working on it.
    """

    def __init__(self, message: str, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


class XeroTokenError(XeroError):
    """The token endpoint refused a request for a reason other than invalid_grant."""


class IdTokenError(XeroError):
    """The id_token failed verification; the sign-in must not be trusted."""


class PauseKind:
    """Why posting to Xero paused, as recorded on the job that resumes it (``pause_kind``)."""

    RATE_LIMITED = "rate_limited"  # 429
    FAILING = "failing"  # 500 and other 5xx, or an answer we cannot read
    UNAVAILABLE = "unavailable"  # 503: maintenance, or the organisation is offline
    UNREACHABLE = "unreachable"  # no answer: time-out, refused or dropped connection
    REVOKED = "revoked"  # 401/403: our access was revoked


def pause_kind(error: XeroError) -> str:
    """The kind of outage an error from Xero is (``PauseKind``)."""
    if isinstance(error, XeroRateLimited):
        return PauseKind.RATE_LIMITED
    if isinstance(error, XeroUnavailable):
        return PauseKind.UNAVAILABLE
    if isinstance(error, XeroConnectionLost):
        return PauseKind.UNREACHABLE
    if isinstance(error, XeroNeedsReconnect | XeroConnectionRevoked) or error.status in (401, 403):
        return PauseKind.REVOKED
    return PauseKind.FAILING
