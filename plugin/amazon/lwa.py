"""The Login with Amazon (LWA) token endpoint: exchange a consent code, refresh an access token.

Spec §1.4: ``POST <token url>`` form-encoded; the code exchange sends ``grant_type=
authorization_code``, ``code``, ``redirect_uri`` (the same value as in the consent URL),
``client_id``, ``client_secret``; a refresh sends ``grant_type=refresh_token``,
``refresh_token``, ``client_id``, ``client_secret``. The answer is ``{"access_token",
"refresh_token", "token_type", "expires_in"}``; errors are ``{"error", "error_description"}``.

Decisions: no automatic retries here. An authorization code works once, so re-sending an
exchange whose answer was lost would only turn into ``invalid_grant``; a failed refresh is
retried by the job that needed it. Time-outs and 5xx become ``AmazonUnavailable``; every OAuth
error becomes ``AmazonTokenError`` carrying ``error`` (``invalid_grant`` is for the caller to
interpret: a dead refresh token, or an expired/used code).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import requests

from plugin.amazon.errors import AmazonMalformedResponse
from plugin.amazon.errors import AmazonTokenError
from plugin.amazon.errors import AmazonUnavailable
from plugin.amazon.http import DEFAULT_TIMEOUT
from plugin.amazon.http import USER_AGENT
from plugin.amazon.http import request_id_of

log = logging.getLogger(__name__)

DEFAULT_EXPIRES_IN = 3600
RETRY_AFTER_UNAVAILABLE = 60.0


@dataclass(frozen=True)
class LwaCredentials:
    """The app's LWA client credentials and token endpoint (from settings, never hard-coded)."""

    client_id: str
    client_secret: str
    token_url: str


@dataclass(frozen=True)
class TokenGrant:
    """What the token endpoint handed out (``refresh_token`` is None on a plain refresh)."""

    access_token: str
    refresh_token: str | None
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret

    def __repr__(self) -> str:  # never print tokens in logs or tracebacks
        return f"TokenGrant(expires_in={self.expires_in}, token_type={self.token_type!r})"


class LwaClient:
    """Calls the LWA token endpoint for one app's credentials."""

    def __init__(
        self,
        credentials: LwaCredentials,
        http: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        self.credentials = credentials
        self.http = http or requests.Session()
        self.timeout = timeout

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self.http.close()

    def exchange_code(self, code: str, redirect_uri: str) -> TokenGrant:
        """Spend a consent ``code`` for a refresh token and a first access token."""
        grant = self._post(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            what="exchange the Amazon sign-in code",
        )
        if not grant.refresh_token:
            raise AmazonMalformedResponse(
                "Amazon's token endpoint answered the sign-in without a refresh token; "
                "start the connection again."
            )
        return grant

    def refresh(self, refresh_token: str) -> TokenGrant:
        """A new access token for a connection's refresh token."""
        return self._post(
            {"grant_type": "refresh_token", "refresh_token": refresh_token},
            what="refresh the Amazon access token",
        )

    def _post(self, form: dict[str, str], what: str) -> TokenGrant:
        data = {
            **form,
            "client_id": self.credentials.client_id,
            "client_secret": self.credentials.client_secret,
        }
        headers = {"user-agent": USER_AGENT, "accept": "application/json"}
        try:
            response = self.http.post(
                self.credentials.token_url, data=data, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as exc:
            log.warning("LWA token endpoint unreachable (%s): %s", what, type(exc).__name__)
            raise AmazonUnavailable(
                f"Could not {what}: Amazon's sign-in service did not answer "
                f"({type(exc).__name__}). Try again in a minute.",
                retry_after=RETRY_AFTER_UNAVAILABLE,
                operation="lwaToken",
            ) from exc
        with response:
            return _grant_from(response, what)


def _grant_from(response: requests.Response, what: str) -> TokenGrant:
    request_id = request_id_of(response)
    body = _json_or_none(response)
    if response.status_code >= 500:
        log.warning(
            "LWA token endpoint %s (%s) [request id %s]", response.status_code, what, request_id
        )
        raise AmazonUnavailable(
            f"Could not {what}: Amazon's sign-in service failed (HTTP {response.status_code}). "
            "Try again in a minute.",
            retry_after=RETRY_AFTER_UNAVAILABLE,
            operation="lwaToken",
            status=response.status_code,
            request_id=request_id,
        )
    if response.status_code != 200:
        error = _field(body, "error") or f"http_{response.status_code}"
        description = _field(body, "error_description")
        log.warning(
            "LWA token endpoint refused (%s): %s %s [request id %s]",
            what,
            response.status_code,
            error,
            request_id,
        )
        raise AmazonTokenError(
            f"Could not {what}: Amazon answered {error}"
            + (f" ({description})" if description else "")
            + ".",
            error=error,
            description=description,
            operation="lwaToken",
            status=response.status_code,
            request_id=request_id,
        )
    access_token = _field(body, "access_token")
    if not access_token:
        raise AmazonMalformedResponse(
            f"Could not {what}: Amazon's token endpoint answered without an access token.",
            operation="lwaToken",
            status=response.status_code,
            request_id=request_id,
        )
    expires_in = body.get("expires_in") if isinstance(body, dict) else None
    try:
        seconds = int(expires_in) if expires_in is not None else DEFAULT_EXPIRES_IN
    except (TypeError, ValueError):
        seconds = DEFAULT_EXPIRES_IN
    return TokenGrant(
        access_token=access_token,
        refresh_token=_field(body, "refresh_token") or None,
        expires_in=max(seconds, 0),
        token_type=_field(body, "token_type") or "bearer",
    )


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _field(body: Any, name: str) -> str:
    if isinstance(body, dict) and isinstance(body.get(name), str):
        return str(body[name])
    return ""
