"""What every Amazon Business API operation does before and after its own work.

``operation(name)`` wraps a view: it counts the call, applies injected faults, checks the
``x-amz-access-token`` (and that it belongs to the region in the path), spends a throttle token,
runs the view under the sandbox lock, and stamps ``x-amzn-RequestId`` (and the rate limit) on
every answer, errors included.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint
from flask import Response
from flask import request

from sandbox.amazon.auth import Consent
from sandbox.amazon.errors import AmazonApiError
from sandbox.amazon.errors import error_response
from sandbox.amazon.errors import not_found
from sandbox.amazon.errors import throttled
from sandbox.amazon.errors import unauthorized
from sandbox.amazon.stores import REGIONS_BY_PATH
from sandbox.amazon.stores import STORES
from sandbox.amazon.throttle import LIMITS
from sandbox.amazon.world import get_world
from sandbox.core import current_sandbox

API_PREFIX = "/amazon-api/<region>"
View = Callable[..., Response]

FAULT_ERRORS = {
    "500": AmazonApiError(
        500, "InternalFailure", "We encountered an internal error. Please try again."
    ),
    "503": AmazonApiError(503, "ServiceUnavailable", "Service temporarily unavailable."),
}


def operation(name: str) -> Callable[[View], Callable[..., Response]]:
    """Decorate a view implementing the named Amazon operation (see ``throttle.LIMITS``)."""

    def decorate(view: View) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(region: str, **kwargs: Any) -> Response:
            try:
                response = _run(name, region, view, kwargs)
            except AmazonApiError as error:
                response = error_response(error)
            response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
            if response.status_code < 400:
                response.headers["x-amzn-RateLimit-Limit"] = LIMITS[name].header
            return response

        return wrapper

    return decorate


def _run(name: str, region: str, view: View, kwargs: dict[str, Any]) -> Response:
    sandbox = current_sandbox()
    world = get_world()
    with sandbox.lock:
        world.stats.api_calls[name] += 1
    if region not in REGIONS_BY_PATH:
        raise not_found("Resource not found.", f"Unknown region host: {region}")
    fault = sandbox.faults.pick("amazon", request.path, is_write=request.method != "GET")
    if fault in ("500", "503", "429"):
        with sandbox.lock:
            world.stats.faults[fault] += 1
        raise throttled() if fault == "429" else FAULT_ERRORS[fault]
    if fault == "slow":
        with sandbox.lock:
            world.stats.faults[fault] += 1
        time.sleep(sandbox.faults.slow_seconds("amazon"))
    with sandbox.lock:
        consent = authenticate(region)
        if not world.throttle.take(consent.party, name, sandbox.clock.time()):
            world.stats.throttled[name] += 1
            raise throttled()
        return view(consent=consent, **kwargs)


def authenticate(region: str) -> Consent:
    """The consent behind the request's access token, or a 403 as Amazon words it."""
    token = request.headers.get("x-amz-access-token", "").strip()
    if not token:
        raise unauthorized("The request is missing the x-amz-access-token header.")
    verdict = get_world().auth.verify(token, current_sandbox().clock.time())
    if isinstance(verdict, str):
        raise unauthorized(verdict)
    if STORES[verdict.store].region_path != region:
        raise unauthorized(
            f"The access token was issued for the {STORES[verdict.store].region} region "
            f"and cannot be used on the {REGIONS_BY_PATH[region]} endpoint."
        )
    return verdict


def json_body() -> dict[str, Any]:
    """The request's JSON object body: 415 unless JSON, 400 unless an object."""
    if not request.is_json:
        raise AmazonApiError(
            415,
            "UnsupportedMediaType",
            "The request's Content-Type is not supported.",
            "Send Content-Type: application/json.",
        )
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise AmazonApiError(
            400, "INVALID_REQUEST_PARAMETER", "Missing required request parameters."
        )
    return body


fallback_bp = Blueprint("amazon_api_fallback", __name__, url_prefix=API_PREFIX)


@fallback_bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown_operation(region: str, rest: str) -> Response:
    """Unknown paths under the API prefix answer 404 in Amazon's error shape."""
    response = error_response(not_found("Resource not found.", f"/{rest}"))
    response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
    return response
