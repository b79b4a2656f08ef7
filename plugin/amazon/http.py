"""HTTP conventions shared by our two Amazon clients (LWA tokens and the Business API).

The user agent names the app as Amazon's request guide asks (spec §1.5), every request has a
timeout, and error bodies in the documented shape ``{"errors":[{"code","message","details"}]}``
are read defensively: anything else (HTML from a proxy, an empty body) still gives a usable
``ErrorBody``. ``x-amzn-RequestId`` is what Amazon support asks for, so it is picked up here.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from importlib import metadata

import requests

APP_NAME = "AmazonBusinessForXero"
DISTRIBUTION = "amazon-business-for-xero"
# (connect, read) seconds: connecting is quick or broken; Amazon pages can take a while.
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)
REQUEST_ID_HEADERS = ("x-amzn-RequestId", "x-amz-request-id", "x-amzn-requestid")


def _app_version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0.1"


def user_agent() -> str:
    """E.g. ``AmazonBusinessForXero/0.1.0 (Language=Python/3.11; Platform=Linux)``."""
    python = ".".join(platform.python_version_tuple()[:2])
    return f"{APP_NAME}/{_app_version()} (Language=Python/{python}; Platform={platform.system()})"


USER_AGENT = user_agent()


def request_id_of(response: requests.Response | None) -> str | None:
    """Amazon's request id of a response, if it sent one."""
    if response is None:
        return None
    for name in REQUEST_ID_HEADERS:
        value = response.headers.get(name)
        if value:
            return value
    return None


@dataclass(frozen=True)
class ErrorBody:
    """The first error of Amazon's error body (empty strings when it sent none)."""

    code: str = ""
    message: str = ""
    details: str = ""

    def summary(self) -> str:
        """``"CODE: message (details)"``, leaving out what is empty."""
        text = ": ".join(part for part in (self.code, self.message) if part)
        if self.details:
            text = f"{text} ({self.details})" if text else self.details
        return text


def parse_error_body(response: requests.Response) -> ErrorBody:
    """Read ``{"errors":[{"code","message","details"}]}``; tolerate anything else."""
    try:
        body = response.json()
    except ValueError:
        text = (response.text or "").strip()
        return ErrorBody(message=text[:200])
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            return ErrorBody(
                code=_text(first.get("code")),
                message=_text(first.get("message")),
                details=_text(first.get("details")),
            )
        # Some gateways answer {"message": "..."}.
        if "message" in body or "Message" in body:
            return ErrorBody(message=_text(body.get("message", body.get("Message"))))
    return ErrorBody()


def _text(value: object) -> str:
    return "" if value is None else str(value)[:500]
