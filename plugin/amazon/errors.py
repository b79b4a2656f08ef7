"""Our exceptions for everything that can go wrong talking to Amazon Business.

Every error's ``str()`` is a sentence a bookkeeper can act on (what happened, what to do), and
carries what support needs: the operation, HTTP status, Amazon's error ``code``/``message``/
``details`` (the documented body ``{"errors":[{"code","message","details"}]}``) and the
``x-amzn-RequestId``. Jobs catch the base class ``AmazonError``; the subclasses say what to do:

- ``AmazonNeedsReconnect``: the customer must connect the store again (the connection has been
  marked ``needs_reconnect``); pause the connection's jobs.
- ``AmazonAuthError`` (others): credentials or access refused; see the message.
- ``AmazonRateLimited`` / ``AmazonUnavailable``: try again after ``retry_after`` seconds.
- ``AmazonBadRequest`` / ``AmazonNotFound``: our request was wrong; retrying will not help.
- ``AmazonMalformedResponse``: Amazon answered something we cannot read.
- ``AmazonReportFailed`` / ``AmazonReportPending``: the Document API did not (yet) produce a PDF.
"""

from __future__ import annotations

from typing import Any

from plugin.amazon.models import MalformedPage


class AmazonError(Exception):
    """Something went wrong with Amazon Business; the message says what and what to do."""

    def __init__(
        self,
        message: str,
        *,
        operation: str = "",
        status: int | None = None,
        code: str = "",
        amazon_message: str = "",
        details: str = "",
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.operation = operation
        self.status = status
        self.code = code
        self.amazon_message = amazon_message
        self.details = details
        self.request_id = request_id

    def __str__(self) -> str:
        if self.request_id:
            return f"{self.message} (Amazon request id {self.request_id})"
        return self.message


class AmazonAuthError(AmazonError):
    """Amazon refused our credentials or access (token endpoint or API)."""


class AmazonNeedsReconnect(AmazonAuthError):
    """The connection's refresh token no longer works: the customer must connect again."""


class AmazonTokenError(AmazonAuthError):
    """The LWA token endpoint refused a request for a reason other than a dead grant."""

    def __init__(
        self, message: str, *, error: str = "", description: str = "", **context: Any
    ) -> None:
        super().__init__(message, code=error, amazon_message=description, **context)
        self.error = error
        self.description = description


class AmazonForbidden(AmazonAuthError):
    """403 after a fresh token: access denied, revoked consent or a missing API role."""


class AmazonRetryableError(AmazonError):
    """A temporary failure; try again after ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: float, **context: Any) -> None:
        super().__init__(message, **context)
        self.retry_after = retry_after


class AmazonRateLimited(AmazonRetryableError):
    """Amazon (or our own per-operation limiter) says: too many requests, wait."""


class AmazonUnavailable(AmazonRetryableError):
    """Amazon kept failing (5xx, time-outs, connection errors) after our retries."""


class AmazonBadRequest(AmazonError):
    """Amazon rejected the request as invalid (400, 413, 415): retrying will not help."""


class AmazonNotFound(AmazonError):
    """Amazon says the resource does not exist (404)."""


class AmazonMalformedResponse(AmazonError):
    """Amazon answered with something that is not the documented shape."""


class AmazonDocumentUnreadable(AmazonMalformedResponse):
    """A report document that is not a PDF once unwrapped (gzip, ZIP); the message says why.

    It concerns one document only: the entry keeps the message and is not attached; other
    documents go on."""


class AmazonMalformedPage(AmazonMalformedResponse, MalformedPage):
    """A getTransactions page that is not a ``TransactionsResponse``; the message names it."""


class AmazonReportFailed(AmazonError):
    """The Document API ended a report ``FATAL`` or ``CANCELLED``; ``reason`` says why."""

    def __init__(
        self, message: str, *, processing_status: str, reason: str, **context: Any
    ) -> None:
        super().__init__(message, **context)
        self.processing_status = processing_status
        self.reason = reason


class AmazonReportPending(AmazonRetryableError):
    """The report was still being prepared when we stopped waiting; ask again later."""

    def __init__(self, message: str, *, report_id: str, retry_after: float, **context: Any) -> None:
        super().__init__(message, retry_after=retry_after, **context)
        self.report_id = report_id
