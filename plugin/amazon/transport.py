"""Sending one Amazon Business API operation: headers, rate limits, retries, error mapping.

``AmazonTransport`` is the base of ``AmazonBusinessClient``: the regional base URL, the
``x-amz-access-token`` header (no SigV4), a user agent naming the app,
``accept: application/json``, a timeout on every request, per-operation rate limits in Redis
(``TokenBucket`` keyed by connection and operation, so every worker shares them), the retry
policy (``plugin.amazon.retry``) and turning Amazon's errors into ours (``plugin.amazon.errors``).

- 401, or a 403 whose error mentions the token (expired, invalid, unauthorized): refresh the
  access token once and send again (not counted as a retry). A 401 after that marks the
  connection ``needs_reconnect`` (spec §6); a 403 after that is ``AmazonForbidden``.
- ``x-amzn-RateLimit-Limit`` is Amazon's own rate for the operation: it replaces our default
  for the rest of the client's life, lower or higher (spec §3.1: an older page gave
  getTransactions 0.5/s; §9 item 1: the Document API's rates changed in February 2026).
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from typing import Protocol

import requests

from plugin.amazon.errors import AmazonBadRequest
from plugin.amazon.errors import AmazonError
from plugin.amazon.errors import AmazonForbidden
from plugin.amazon.errors import AmazonMalformedResponse
from plugin.amazon.errors import AmazonNeedsReconnect
from plugin.amazon.errors import AmazonNotFound
from plugin.amazon.errors import AmazonRateLimited
from plugin.amazon.errors import AmazonUnavailable
from plugin.amazon.http import DEFAULT_TIMEOUT
from plugin.amazon.http import USER_AGENT
from plugin.amazon.http import ErrorBody
from plugin.amazon.http import parse_error_body
from plugin.amazon.http import request_id_of
from plugin.amazon.regions import Store
from plugin.amazon.retry import RETRYABLE_STATUSES
from plugin.amazon.retry import RetryableFailure
from plugin.amazon.retry import RetryPolicy
from plugin.amazon.retry import retry_after_of
from plugin.amazon.retry import retrying
from plugin.infra import metrics
from plugin.infra.keys import amazon_limit_key
from plugin.infra.ratelimit import RateLimitWait
from plugin.infra.ratelimit import TokenBucket

log = logging.getLogger(__name__)

TOKEN_WORDS = ("token", "expired", "unauthorized", "unauthorised", "signature", "credential")


@dataclass(frozen=True)
class OperationLimit:
    """Amazon's token bucket for one operation: requests per second and burst."""

    rate: float
    burst: int


DOCUMENT_API_RATE = 0.1
"""Every Document API operation allows 0.1 requests per second (about 6 a minute) since
February 2026 (spec §9 item 1); the bursts are those of spec §4."""

# Spec §6, §4 and §9 item 1 (the Document API's rate).
OPERATION_LIMITS: dict[str, OperationLimit] = {
    "getTransactions": OperationLimit(2.0, 10),
    "getInvoiceDetailsByOrderLineItems": OperationLimit(2.0, 10),
    "getBatchInvoicePaymentDetails": OperationLimit(2.0, 10),
    "createReport": OperationLimit(DOCUMENT_API_RATE, 15),
    "getReports": OperationLimit(DOCUMENT_API_RATE, 10),
    "getReport": OperationLimit(DOCUMENT_API_RATE, 15),
    "cancelReport": OperationLimit(DOCUMENT_API_RATE, 10),
    "getReportDocument": OperationLimit(DOCUMENT_API_RATE, 15),
}


class TokenSource(Protocol):
    """What the client needs from the token side (``tokens.AccessTokenProvider``)."""

    def access_token(self) -> str: ...

    def refresh(self) -> str: ...

    def mark_needs_reconnect(self, why: str) -> str: ...


@dataclass
class _Call:
    """One operation being sent: what to send, and what happened so far."""

    operation: str
    method: str
    url: str
    params: dict[str, str] | None
    json: Any
    refreshed: bool = False
    failures: int = 0


class AmazonTransport:
    """One store connection's HTTP side of the Amazon Business API."""

    def __init__(
        self,
        *,
        base_url: str,
        tokens: TokenSource,
        connection_id: int,
        store: Store,
        limiter: TokenBucket | None = None,
        http: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        limiter_max_wait: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.connection_id = connection_id
        self.store = store
        self.limiter = limiter
        self.http = http or requests.Session()
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self.limiter_max_wait = limiter_max_wait
        self.retrying = retrying(self.retry, sleep=self._pause, rng=self.rng)
        self._limits = dict(OPERATION_LIMITS)

    def _pause(self, seconds: float) -> None:
        self.sleep(float(seconds))

    def close(self) -> None:
        """Release HTTP connection pools (ours and the token provider's)."""
        self.http.close()
        close = getattr(self.tokens, "close", None)
        if callable(close):
            close()

    # --- One call, with limits, retries and error mapping -----------------------------------

    def call(
        self,
        operation: str,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        json: Any = None,
    ) -> requests.Response:
        """Send one operation; the successful response, or one of our errors."""
        call = _Call(operation, method, self.base_url + path, params, json)
        return self.retrying(self._attempt, call)

    def _attempt(self, call: _Call) -> requests.Response:
        while True:  # a second pass only after refreshing an expired access token
            response = self._send(call)
            metrics.amazon_call(call.operation, response.status_code)
            self._observe_limit(call.operation, response)
            if response.status_code < 400:
                return response
            status = response.status_code
            error = parse_error_body(response)
            request_id = request_id_of(response)
            retry_after = retry_after_of(response)
            response.close()
            log.warning(
                "Amazon %s for connection %s failed: HTTP %s %s [request id %s]",
                call.operation,
                self.connection_id,
                status,
                error.summary(),
                request_id,
            )
            context: dict[str, Any] = {
                "operation": call.operation,
                "status": status,
                "code": error.code,
                "amazon_message": error.message,
                "details": error.details,
                "request_id": request_id,
            }
            if (
                status in (401, 403)
                and not call.refreshed
                and (status == 401 or _about_token(error))
            ):
                call.refreshed = True
                self.tokens.refresh()
                continue
            if status in RETRYABLE_STATUSES:
                call.failures += 1
                raise RetryableFailure(partial(self._gave_up, status, error, context), retry_after)
            raise self._refused(status, error, context)

    def _send(self, call: _Call) -> requests.Response:
        self._throttle(call.operation)
        headers = {
            "x-amz-access-token": self.tokens.access_token(),
            "user-agent": USER_AGENT,
            "accept": "application/json",
        }
        if call.json is not None:
            headers["content-type"] = "application/json"
        try:
            return self.http.request(
                call.method,
                call.url,
                params=call.params,
                json=call.json,
                headers=headers,
                timeout=self.timeout,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            metrics.amazon_call(call.operation, None)
            call.failures += 1
            failures, kind = call.failures, type(exc).__name__
            log.warning("Amazon %s: %s (attempt %s)", call.operation, kind, failures)
            raise RetryableFailure(
                lambda _wait: AmazonUnavailable(
                    f"Amazon did not answer {call.operation} for {self.store.display_name} "
                    f"after {failures} attempts ({kind}). We will try again later.",
                    retry_after=self.retry.max_delay,
                    operation=call.operation,
                )
            ) from exc

    def _throttle(self, operation: str) -> None:
        if self.limiter is None:
            return
        limit = self._limits[operation]
        try:
            self.limiter.take(
                amazon_limit_key(self.connection_id, operation),
                limit.rate,
                limit.burst,
                max_wait=self.limiter_max_wait,
            )
        except RateLimitWait as wait:
            raise AmazonRateLimited(
                f"Pausing Amazon {operation} calls for {self.store.display_name} to stay within "
                f"Amazon's rate limit; continuing in {wait.retry_after:.0f} s.",
                retry_after=wait.retry_after,
                operation=operation,
            ) from wait

    def _observe_limit(self, operation: str, response: requests.Response) -> None:
        header = response.headers.get("x-amzn-RateLimit-Limit")
        if not header:
            return
        try:
            rate = float(header)
        except ValueError:
            return
        current = self._limits[operation]
        if rate > 0 and math.isfinite(rate) and rate != current.rate:
            self._limits[operation] = OperationLimit(rate, current.burst)

    def _gave_up(
        self, status: int, error: ErrorBody, context: dict[str, Any], wait: float
    ) -> AmazonError:
        what = f"{context['operation']} for {self.store.display_name}"
        if status == 429:
            return AmazonRateLimited(
                f"Amazon is limiting how fast we may call {what}; we will continue in "
                f"{wait:.0f} s.",
                retry_after=wait,
                **context,
            )
        return AmazonUnavailable(
            f"Amazon kept failing {what} (HTTP {status}"
            + (f", {error.summary()}" if error.summary() else "")
            + f"); we will try again in {wait:.0f} s.",
            retry_after=wait,
            **context,
        )

    def _refused(self, status: int, error: ErrorBody, context: dict[str, Any]) -> AmazonError:
        what = f"{context['operation']} for {self.store.display_name}"
        said = error.summary() or f"HTTP {status}"
        if status == 401:
            reason = self.tokens.mark_needs_reconnect(
                f"Amazon rejected its access even after a fresh token ({said})."
            )
            return AmazonNeedsReconnect(reason, **context)
        if status == 403:
            return AmazonForbidden(
                f"Amazon denied access to {what}: {said}. Connect the store again as an "
                "Amazon Business administrator of every legal entity; if that does not help, "
                "the app may lack the Amazon API role for this operation (contact support).",
                **context,
            )
        if status == 404:
            return AmazonNotFound(f"Amazon found nothing for {what}: {said}.", **context)
        if status in (400, 413, 415, 422):
            return AmazonBadRequest(
                f"Amazon rejected the {what} request: {said}. Retrying will not help; "
                "contact support if it keeps happening.",
                **context,
            )
        return AmazonError(f"Amazon answered {what} with HTTP {status}: {said}.", **context)

    # --- Reading answers ----------------------------------------------------------------------

    def read_json(self, response: requests.Response, operation: str, where: str) -> dict[str, Any]:
        """The answer's JSON object, or ``AmazonMalformedResponse`` naming ``where``."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise AmazonMalformedResponse(
                f"Amazon's answer for {where} is not the documented JSON object.",
                operation=operation,
                status=response.status_code,
                request_id=request_id_of(response),
            )
        return body

    def read_with(
        self,
        response: requests.Response,
        operation: str,
        where: str,
        parser: Callable[[Any, str], list[Any]],
    ) -> list[Any]:
        """The answer read by ``parser``; a ``ValueError`` from it is a malformed answer."""
        body = self.read_json(response, operation, where)
        try:
            return parser(body, where)
        except ValueError as exc:
            raise AmazonMalformedResponse(
                f"Amazon's answer could not be read: {exc}",
                operation=operation,
                request_id=request_id_of(response),
            ) from exc


def _about_token(error: ErrorBody) -> bool:
    text = f"{error.code} {error.message} {error.details}".lower()
    return any(word in text for word in TOKEN_WORDS)
