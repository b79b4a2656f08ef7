"""Xero's failed answers as our exception types: one HTTP status, one type (``plugin.xero.errors``),
and the per-element messages of a rejected request or of a batch element. Pure: no side effects."""

from __future__ import annotations

from typing import Any

from plugin.xero.errors import ElementError
from plugin.xero.errors import XeroConnectionRevoked
from plugin.xero.errors import XeroError
from plugin.xero.errors import XeroNeedsReconnect
from plugin.xero.errors import XeroNotFound
from plugin.xero.errors import XeroRateLimited
from plugin.xero.errors import XeroServerError
from plugin.xero.errors import XeroUnavailable
from plugin.xero.errors import XeroValidationError

RECONNECT = "Xero no longer accepts this organisation's tokens. Reconnect to Xero."


def element_messages(element: dict[str, Any]) -> list[str]:
    """The ``ValidationErrors`` messages of one element (of a batch, or of a rejected request)."""
    return [
        str(error.get("Message", ""))
        for error in element.get("ValidationErrors") or []
        if isinstance(error, dict)
    ]


def detail(body: Any) -> str:
    """The human part of a problem answer (``Detail``, ``Message``, ``Title``...), or ``""``."""
    if isinstance(body, dict):
        for key in ("Detail", "detail", "Message", "message", "Title", "title"):
            if body.get(key):
                return str(body[key])
    return ""


def retry_after(value: str | None, default: float = 60.0) -> float:
    """Seconds from a ``Retry-After`` header (the default when absent or unreadable)."""
    try:
        return max(0.0, float(value)) if value is not None else default
    except ValueError:
        return default


def validation_error(body: Any, text: str, correlation: str) -> XeroValidationError:
    """A 400: the top-level message and every element's messages."""
    if not isinstance(body, dict):
        return XeroValidationError(
            f"Xero rejected the request: {text.strip()[:300] or 'no details'}",
            correlation_id=correlation,
        )
    elements = []
    for index, element in enumerate(body.get("Elements") or []):
        if isinstance(element, dict):
            elements.append(ElementError(index, element_messages(element), element))
    message = str(body.get("Message") or detail(body) or "Xero rejected the request")
    return XeroValidationError(message, elements, correlation_id=correlation)


def error_for(
    status: int, body: Any, text: str, headers: Any, where: str, correlation: str
) -> XeroError:
    """The exception for an answer of HTTP ``status`` (>= 400) to ``where`` (``"GET Accounts"``)."""
    if status == 400:
        return validation_error(body, text, correlation)
    if status == 401:
        return XeroNeedsReconnect(RECONNECT, 401, correlation)
    if status == 403:
        reason = detail(body) or "AuthenticationUnsuccessful"
        return XeroConnectionRevoked(
            f"Xero refused access to this organisation ({reason}): it may have been "
            "disconnected from the app in Xero.",
            403,
            correlation,
        )
    if status == 404:
        return XeroNotFound(f"Not found in Xero: {where}", 404, correlation)
    if status == 429:
        problem = str(headers.get("X-Rate-Limit-Problem", "minute"))
        return XeroRateLimited(
            retry_after(headers.get("Retry-After")), problem.lower(), correlation
        )
    if status == 503:
        return XeroUnavailable(
            f"Xero is unavailable: {text.strip()[:200] or 'Service unavailable'}", 503, correlation
        )
    if status >= 500:
        return XeroServerError(
            f"Xero failed with HTTP {status} on {where}: {detail(body) or 'no details'}",
            status,
            correlation,
        )
    return XeroError(f"Xero answered HTTP {status} on {where}", status, correlation)
