"""Control endpoints for the benchmarks: many organisations at once, and a log of API calls.

- ``POST /_sandbox/bulk-orgs {"count": 200, "transactions": 200, "days": 90}`` adds ``count``
  Xero organisations (``Bulk Org 001`` …, each a copy of the seeded UK chart, tax rates and
  contacts) each with its own user (``bulk-001@example.com`` …, password ``sandbox``), and as many
  Amazon Business accounts (one UK store, ``transactions`` purchases over ``days`` days ending
  now) each with its own administrator (``buyer-001@bulk.example`` …). Everything derives from
  the seed and the index, so the same request after the same reset gives the same data. A reset
  removes them again.
- ``POST /_sandbox/limits {"SANDBOX_XERO_APP_MINUTE_LIMIT": 120}`` changes Xero's limits from
  now on without a reset (a benchmark sets up at the real limits, then runs at tighter ones).
- ``POST /_sandbox/call-log {"enabled": true}`` starts (and empties) a log of Accounting API
  calls: tenant, sandbox time, status. ``GET /_sandbox/call-log/summary`` reports, from it, the
  most calls any tenant got admitted in a sliding minute, the same app-wide, and the 429s.
  The log is off by default and costs nothing then.

Nothing here changes how the seeded organisations and accounts behave.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections import deque
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from typing import Any

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import g
from flask import jsonify
from flask import request

from sandbox.amazon.generator import generate_account
from sandbox.amazon.ids import account_id
from sandbox.amazon.ids import customer_id
from sandbox.amazon.profiles import SANDBOX_PASSWORD
from sandbox.amazon.profiles import THAMES
from sandbox.amazon.profiles import Person
from sandbox.amazon.world import Account
from sandbox.amazon.world import User as AmazonUser
from sandbox.amazon.world import get_world
from sandbox.core import current_sandbox
from sandbox.xero import seed
from sandbox.xero.build import build_tenant
from sandbox.xero.build import stable_id
from sandbox.xero.world import XeroUser
from sandbox.xero.world import xero_world

bp = Blueprint("sandbox_bulk", __name__, url_prefix="/_sandbox")

MAX_ORGS = 2000
WINDOW = 60.0  # a Xero minute, in sandbox seconds


def org_name(index: int) -> str:
    """The Xero organisation (and Amazon account) name of bulk org ``index`` (1-based)."""
    return f"Bulk Org {index:03d}"


def xero_email(index: int) -> str:
    """The Xero user who can sign in to bulk org ``index``."""
    return f"bulk-{index:03d}@example.com"


def amazon_email(index: int) -> str:
    """The Amazon Business administrator of bulk account ``index``."""
    return f"buyer-{index:03d}@bulk.example"


def _tenant_spec(index: int) -> dict[str, Any]:
    thames = next(spec for spec in seed.TENANTS if spec["key"] == "thames")
    name = org_name(index)
    return {
        **thames,
        "key": f"bulk-{index:03d}",
        "name": name,
        "organisation": {
            **thames["organisation"],
            "Name": name,
            "LegalName": f"{name} Limited",
            "ShortCode": f"!b{index:04d}",
        },
    }


def _amazon_profile(index: int) -> Any:
    uk = replace(THAMES.stores[0], share=1.0)
    return replace(
        THAMES,
        key=f"bulk-{index:03d}",
        name=org_name(index),
        stores=(uk,),
        legal_entities=(org_name(index),),
        people=(
            Person(f"Bulk Buyer {index:03d}", amazon_email(index), True, True),
            Person(f"Bulk Colleague {index:03d}", f"colleague-{index:03d}@bulk.example"),
        ),
    )


@bp.post("/bulk-orgs")
def bulk_orgs() -> Response:
    """Add ``count`` Xero organisations and Amazon Business accounts (see the module doc)."""
    body = request.get_json(silent=True) or {}
    try:
        count = int(body.get("count", 10))
        transactions = int(body.get("transactions", 200))
        days = int(body.get("days", current_sandbox().config["SANDBOX_AMAZON_HISTORY_DAYS"]))
        first = int(body.get("first", 1))
    except (TypeError, ValueError):
        return _problem("count, transactions, days and first must be integers")
    if not 1 <= count <= MAX_ORGS or transactions < 0 or days < 1 or first < 1:
        return _problem(f"count must be 1..{MAX_ORGS}; transactions >= 0; days, first >= 1")
    sandbox = current_sandbox()
    created = []
    with sandbox.lock:
        xero = xero_world()
        amazon = get_world()
        end = sandbox.clock.now()
        for index in range(first, first + count):
            spec = _tenant_spec(index)
            tenant = build_tenant(xero.seed, spec)
            xero.tenants[tenant.tenant_id] = tenant
            user_id = stable_id(xero.seed, "user", spec["key"])
            xero.users[user_id] = XeroUser(
                user_id=user_id,
                email=xero_email(index),
                given_name="Bulk",
                family_name=f"User {index:03d}",
                password=seed.PASSWORD,
                tenant_ids=[tenant.tenant_id],
            )
            profile = _amazon_profile(index)
            amazon.accounts[profile.key] = Account(
                profile.key, account_id(amazon.seed, profile.key), profile
            )
            for person in profile.people:
                if person.login:
                    amazon.users[person.email] = AmazonUser(
                        email=person.email,
                        name=person.name,
                        customer_id=customer_id(amazon.seed, person.email),
                        account_key=profile.key,
                        password=SANDBOX_PASSWORD,
                        admin_of_all_entities=person.admin_of_all_entities,
                    )
            generated = generate_account(
                profile, seed=amazon.seed, end=end, days=days, count=transactions
            )
            amazon.book(profile.key, "UK").add_many(generated, end)
            created.append(
                {
                    "index": index,
                    "tenantId": tenant.tenant_id,
                    "tenantName": tenant.name,
                    "xeroUser": xero_email(index),
                    "amazonAccount": profile.key,
                    "amazonUser": amazon_email(index),
                    "transactions": len(generated),
                }
            )
    return jsonify({"created": created})


@bp.post("/limits")
def limits() -> Response:
    """Change Xero's limits from now on, keeping all state:
    ``{"SANDBOX_XERO_APP_MINUTE_LIMIT": 120}`` (any ``SANDBOX_XERO_*_LIMIT``)."""
    body = request.get_json(silent=True) or {}
    config = current_sandbox().config
    try:
        changes = {k: int(v) for k, v in body.items()}
    except (TypeError, ValueError):
        return _problem("limits must be integers")
    unknown = [k for k in changes if not (k.startswith("SANDBOX_XERO_") and k.endswith("_LIMIT"))]
    if unknown:
        return _problem(f"not a Xero limit: {', '.join(sorted(unknown))}")
    config.update(changes)
    return jsonify({k: config[k] for k in config if str(k).endswith("_LIMIT")})


# --- The call log ------------------------------------------------------------------------------


@dataclass
class CallLog:
    """Accounting API calls seen while the log is on: (sandbox time, tenant, status)."""

    enabled: bool = False
    calls: list[tuple[float, str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, when: float, tenant: str, status: int) -> None:
        with self.lock:
            self.calls.append((when, tenant, status))

    def summary(self, minute_limit: int, app_minute_limit: int) -> dict[str, Any]:
        """The busiest sliding minute per tenant and app-wide, and the 429s."""
        with self.lock:
            calls = sorted(self.calls)
        admitted = [(when, tenant) for when, tenant, status in calls if status != 429]
        per_tenant: dict[str, list[float]] = {}
        for when, tenant in admitted:
            per_tenant.setdefault(tenant, []).append(when)
        busiest = {tenant: _busiest_minute(times) for tenant, times in per_tenant.items()}
        limited = Counter(tenant for _when, tenant, status in calls if status == 429)
        top = max(busiest.items(), key=lambda kv: kv[1], default=("", 0))
        return {
            "calls": len(calls),
            "admitted": len(admitted),
            "tenants": len(per_tenant),
            "max_tenant_calls_per_minute": top[1],
            "busiest_tenant": top[0],
            "tenant_minute_limit": minute_limit,
            "tenants_over_limit": sorted(t for t, n in busiest.items() if n > minute_limit),
            "max_app_calls_per_minute": _busiest_minute([when for when, _ in admitted]),
            "app_minute_limit": app_minute_limit,
            "rate_limited_total": sum(limited.values()),
            "rate_limited_by_tenant": dict(limited),
            "first": calls[0][0] if calls else None,
            "last": calls[-1][0] if calls else None,
        }


def _busiest_minute(times: list[float]) -> int:
    """The most of ``times`` (sorted) that fall within any window of WINDOW seconds."""
    window: deque[float] = deque()
    best = 0
    for when in times:
        window.append(when)
        while window[0] <= when - WINDOW:
            window.popleft()
        best = max(best, len(window))
    return best


def _call_log() -> CallLog:
    return current_sandbox().worlds.setdefault("call_log", CallLog())  # type: ignore[no-any-return]


@bp.post("/call-log")
def call_log_control() -> Response:
    """``{"enabled": true}`` starts an empty log; ``{"enabled": false}`` stops it."""
    body = request.get_json(silent=True) or {}
    log = _call_log()
    with log.lock:
        log.enabled = bool(body.get("enabled", True))
        log.calls.clear()
    return jsonify({"enabled": log.enabled})


@bp.get("/call-log/summary")
def call_log_summary() -> Response:
    """What the log saw (see ``CallLog.summary``)."""
    config = current_sandbox().config
    return jsonify(
        _call_log().summary(
            int(config["SANDBOX_XERO_MINUTE_LIMIT"]), int(config["SANDBOX_XERO_APP_MINUTE_LIMIT"])
        )
    )


def _record_call(response: Response) -> Response:
    sandbox = current_sandbox()
    log = sandbox.worlds.get("call_log")
    if log is None or not log.enabled or not request.path.startswith("/api.xro/"):
        return response
    tenant = str(g.get("xero_tenant_id") or request.headers.get("xero-tenant-id", "")).lower()
    log.record(sandbox.clock.time(), tenant, response.status_code)
    return response


def _problem(message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = 400
    return response


def init_app(app: Flask) -> None:
    """Register the bulk and call-log endpoints (the log survives resets; it is emptied on
    ``POST /_sandbox/call-log``)."""
    app.register_blueprint(bp)
    app.after_request(_record_call)
    # Keep the log object across resets (worlds are rebuilt, this entry is not touched by them).
    app.extensions["sandbox"].worlds.setdefault("call_log", CallLog())
