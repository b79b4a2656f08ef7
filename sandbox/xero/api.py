"""The Accounting API's request pipeline, shared by every ``/api.xro/2.0`` blueprint.

Before each call: bearer token (401), ``xero-tenant-id`` connected for the token's user (403),
rate limits (429), injected faults, ``Idempotency-Key`` replay. After it: the remaining-limit
headers, remembering the response for its idempotency key, and dropping the connection for a
``drop_after_write`` fault. Plus small helpers the endpoint modules use to answer.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

from flask import Blueprint
from flask import Response
from flask import g
from flask import jsonify
from flask import request

from sandbox.core import current_sandbox
from sandbox.core import drop_client_connection
from sandbox.xero import oauth
from sandbox.xero.limits import Limits
from sandbox.xero.limits import limit_headers
from sandbox.xero.limits import retry_after_seconds
from sandbox.xero.world import IdempotentResponse
from sandbox.xero.world import Tenant
from sandbox.xero.world import xero_world
from sandbox.xero.xerojson import envelope
from sandbox.xero.xerojson import problem

API_PREFIX = "/api.xro/2.0"
WRITE_METHODS = ("PUT", "POST", "DELETE")
NOT_FOUND_TEXT = "The resource you're looking for cannot be found"
UNHANDLED_DETAIL = (
    "An error occurred in Xero. Check the API Status page http://status.developer.xero.com "
    "for current service status."
)


def api_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint under ``/api.xro/2.0`` with the Accounting API's pipeline attached."""
    bp = Blueprint(name, import_name, url_prefix=API_PREFIX)
    bp.before_request(_before)
    bp.after_request(_after)
    bp.teardown_request(_teardown)
    return bp


def current_tenant() -> Tenant:
    """The tenant named by ``xero-tenant-id`` (checked by the pipeline)."""
    return xero_world().tenants[g.xero_tenant_id]  # type: ignore[no-any-return]


def respond(key: str, items: list[Any], status: int = 200, **extra: Any) -> Response:
    """Xero's envelope around ``items``."""
    response = jsonify(envelope(current_sandbox().clock.now(), key, items, **extra))
    response.status_code = status
    return response


def error_response(body: dict[str, Any], status: int = 400) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def not_found() -> Response:
    """Xero's 404 for an unknown id (plain text)."""
    return Response(NOT_FOUND_TEXT, status=404, mimetype="text/plain")


def request_elements(key: str) -> list[dict[str, Any]] | None:
    """The elements of a write: ``{"<key>": [...]}``, a list, or one bare object."""
    body = request.get_json(silent=True)
    if isinstance(body, dict) and isinstance(body.get(key), list):
        items = body[key]
    elif isinstance(body, list):
        items = body
    elif isinstance(body, dict) and body:
        items = [body]
    else:
        return None
    return [without_nulls(item) if isinstance(item, dict) else {} for item in items]


def without_nulls(value: Any) -> Any:
    """``value`` with every null field dropped (Xero never echoes nulls back)."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value if v is not None]
    return value


def invalid_body() -> Response:
    """The 400 for a body that is not the JSON Xero expects."""
    return error_response(
        {"ErrorNumber": 14, "Type": "PostDataInvalidException", "Message": "Invalid Json data"}
    )


def summarize_errors() -> bool:
    """``summarizeErrors`` (default true: any bad element fails the whole request)."""
    return request.args.get("summarizeErrors", "true").strip().lower() != "false"


def _before() -> Response | None:
    sandbox = current_sandbox()
    base = str(sandbox.config["SANDBOX_BASE_URL"])
    check = oauth.check_bearer(request.headers.get("Authorization"), base, sandbox.clock.time())
    if check.claims is None:
        return error_response(problem(401, "Unauthorized", check.detail), 401)
    tenant_id = request.headers.get("xero-tenant-id", "").strip().lower()
    with sandbox.lock:
        world = xero_world()
        connections = world.user_connections(check.claims["xero_userid"], check.claims["client_id"])
        tenant = world.tenants.get(tenant_id)
        if (
            tenant is None
            or tenant.organisation is None
            or not any(c.tenant_id == tenant_id for c in connections)
        ):
            return error_response(problem(403, "Forbidden", "AuthenticationUnsuccessful"), 403)
        decision = world.limits.acquire(
            tenant_id, sandbox.clock.time(), Limits.from_config(sandbox.config)
        )
        g.xero_decision = decision
        if not decision.allowed:
            problem_name = decision.problem or "minute"
            world.stats.rate_limited[problem_name] += 1
            world.stats.rate_limited_by_tenant[tenant_id] += 1
            return _too_many(problem_name, decision.retry_after)
        g.xero_tenant_id = tenant_id
        g.xero_limit_state = world.limits
        g.xero_claims = check.claims
        world.stats.api_calls[tenant_id] += 1
        resource = request.path.removeprefix(API_PREFIX + "/").split("/", 1)[0]
        world.stats.api_calls_by_endpoint[f"{request.method} {resource}"] += 1
    fault = _apply_fault()
    if fault is not None:
        return fault
    replay = _idempotent_replay()
    if replay is None and g.get("xero_slow_seconds"):
        # Slow while processing: the key is already known to be in flight meanwhile.
        time.sleep(g.xero_slow_seconds)
    return replay


def _too_many(problem_name: str, sandbox_seconds: float) -> Response:
    speed = current_sandbox().clock.speed
    response = error_response(
        problem(429, "Too Many Requests", f"Rate limit exceeded: {problem_name}"), 429
    )
    response.headers["Retry-After"] = str(retry_after_seconds(sandbox_seconds, speed))
    response.headers["X-Rate-Limit-Problem"] = problem_name
    return response


def _apply_fault() -> Response | None:
    sandbox = current_sandbox()
    is_write = request.method in WRITE_METHODS
    # Matched against "METHOD /path", so a queued fault can aim at writes ("PUT /api.xro/...").
    fault = sandbox.faults.pick("xero", f"{request.method} {request.path}", is_write)
    if fault == "500":
        return error_response(problem(500, "An error occurred", UNHANDLED_DETAIL), 500)
    if fault == "503":
        return Response("Organisation offline", status=503, mimetype="text/plain")
    if fault == "429":
        return _too_many("minute", 60.0)
    if fault == "slow":
        g.xero_slow_seconds = sandbox.faults.slow_seconds("xero")
    if fault == "drop_after_write":
        g.xero_drop_connection = True
    return None


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.full_path, g.xero_tenant_id):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(request.get_data())
    return digest.hexdigest()


def _idempotent_replay() -> Response | None:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or request.method not in WRITE_METHODS:
        return None
    sandbox = current_sandbox()
    scoped = (str(g.xero_claims["client_id"]), key)
    fingerprint = _fingerprint()
    with sandbox.lock:
        world = xero_world()
        now = sandbox.clock.time()
        memory = world.idempotency_seconds
        for stale in [k for k, v in world.idempotency.items() if now - v.stored_at >= memory]:
            del world.idempotency[stale]
        remembered = world.idempotency.get(scoped)
        if remembered is None:
            if scoped in world.keys_in_flight:
                world.stats.concurrent_same_key += 1
                if world.concurrent_same_key == "conflict":
                    return error_response(
                        problem(
                            409,
                            "Conflict",
                            f"A request with the Idempotency-Key '{key}' is still in progress.",
                        ),
                        409,
                    )
            world.keys_in_flight.add(scoped)
            g.xero_idempotency = (scoped, fingerprint)
            g.xero_key_in_flight = scoped
            return None
        if remembered.fingerprint != fingerprint:
            return error_response(
                {
                    "ErrorNumber": 10,
                    "Type": "ValidationException",
                    "Message": (
                        f"The Idempotency-Key '{key}' has already been used with a different "
                        "request. Use a new key for a different request."
                    ),
                    "Elements": [],
                }
            )
        world.stats.idempotent_replays += 1
    g.xero_replayed = True
    return Response(remembered.body, status=remembered.status, content_type=remembered.content_type)


def _after(response: Response) -> Response:
    decision = g.get("xero_decision")
    if decision is not None:
        response.headers.update(limit_headers(decision))
    response.headers["Xero-Correlation-Id"] = str(uuid.uuid4())
    remembered = g.get("xero_idempotency")
    if remembered is not None and response.status_code < 500 and not g.get("xero_replayed"):
        scoped, fingerprint = remembered
        sandbox = current_sandbox()
        with sandbox.lock:
            xero_world().idempotency[scoped] = IdempotentResponse(
                fingerprint=fingerprint,
                status=response.status_code,
                body=response.get_data(),
                content_type=response.content_type or "application/json",
                stored_at=sandbox.clock.time(),
            )
    if g.get("xero_drop_connection") and not drop_client_connection():
        raise ConnectionAbortedError("connection dropped by the drop_after_write fault")
    return response


def _teardown(_error: BaseException | None) -> None:
    in_flight = g.get("xero_key_in_flight")
    if in_flight is not None:
        with current_sandbox().lock:
            xero_world().keys_in_flight.discard(in_flight)
    state = g.get("xero_limit_state")
    tenant_id = g.get("xero_tenant_id")
    if state is not None and tenant_id:
        with current_sandbox().lock:
            state.release(tenant_id)


def paginate(items: list[Any]) -> tuple[list[Any], dict[str, Any]]:
    """One page of ``items`` when ``page`` is given (1-based, ``pageSize`` default 100, max
    1000), else all of them; plus the envelope's extra ``pagination`` field when paging."""
    if "page" not in request.args:
        return items, {}
    try:
        page = max(int(request.args.get("page", "1")), 1)
        size = min(max(int(request.args.get("pageSize", "100")), 1), 1000)
    except ValueError:
        page, size = 1, 100
    start = (page - 1) * size
    pagination = {
        "page": page,
        "pageSize": size,
        "pageCount": (len(items) + size - 1) // size,
        "itemCount": len(items),
    }
    return items[start : start + size], {"pagination": pagination}
