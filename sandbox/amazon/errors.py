"""Amazon Business API errors: ``{"errors":[{"code","message","details"}]}`` with a status."""

from __future__ import annotations

from flask import Response
from flask import jsonify


class AmazonApiError(Exception):
    """An error answer from an Amazon Business API operation."""

    def __init__(self, status: int, code: str, message: str, details: str = "") -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def error_body(code: str, message: str, details: str = "") -> dict[str, list[dict[str, str]]]:
    """The documented error body."""
    return {"errors": [{"code": code, "message": message, "details": details}]}


def error_response(error: AmazonApiError) -> Response:
    """A JSON response for an API error."""
    response = jsonify(error_body(error.code, error.message, error.details))
    response.status_code = error.status
    return response


def bad_request(message: str, details: str = "") -> AmazonApiError:
    """400 INVALID_REQUEST_PARAMETER, the code Reconciliation uses for bad input."""
    return AmazonApiError(400, "INVALID_REQUEST_PARAMETER", message, details)


def not_found(message: str, details: str = "") -> AmazonApiError:
    """404 for an id the caller may not see or that does not exist."""
    return AmazonApiError(404, "NOT_FOUND", message, details)


def unauthorized(details: str) -> AmazonApiError:
    """403 Unauthorized, as Amazon answers a missing, invalid, expired or foreign token."""
    return AmazonApiError(403, "Unauthorized", "Access to requested resource is denied.", details)


def throttled() -> AmazonApiError:
    """429 when the operation's token bucket for this party is empty."""
    return AmazonApiError(
        429, "QuotaExceeded", "You exceeded your quota for the requested resource.", ""
    )
