"""Control endpoints for tests and the demo: reset, clock, faults (``/_sandbox/...``)."""

from __future__ import annotations

from flask import Blueprint
from flask import Flask
from flask import jsonify
from flask import request

from sandbox.core import current_sandbox

bp = Blueprint("sandbox_control", __name__, url_prefix="/_sandbox")


@bp.post("/reset")
def reset():  # type: ignore[no-untyped-def]
    """Rebuild all state from the seed (optionally a new one, and new config values)."""
    body = request.get_json(silent=True) or {}
    sandbox = current_sandbox()
    for key, value in (body.get("config") or {}).items():
        if key.startswith("SANDBOX_"):
            sandbox.config[key] = value
    sandbox.reset(seed=body.get("seed"))
    return jsonify({"ok": True, "seed": sandbox.config["SANDBOX_SEED"]})


@bp.post("/clock")
def clock():  # type: ignore[no-untyped-def]
    """Advance the sandbox clock (``advance_seconds``) and/or change its ``speed``."""
    body = request.get_json(silent=True) or {}
    sandbox = current_sandbox()
    if "speed" in body:
        sandbox.clock.set_speed(float(body["speed"]))
    if "advance_seconds" in body:
        sandbox.clock.advance(float(body["advance_seconds"]))
    return jsonify({"now": sandbox.clock.now().isoformat(), "speed": sandbox.clock.speed})


@bp.post("/faults")
def faults():  # type: ignore[no-untyped-def]
    """Configure faults: ``{"service": "xero", "rates": {"500": 0.05}, "seed": 1}`` or
    ``{"service": "xero", "queue": {"kind": "drop_after_write", "count": 1, "path_contains": ""}}``;
    ``{"clear": true}`` turns all off."""
    body = request.get_json(silent=True) or {}
    sandbox = current_sandbox()
    try:
        if body.get("clear"):
            sandbox.faults.clear()
        service = body.get("service", "xero")
        if "rates" in body:
            sandbox.faults.configure(
                service,
                body["rates"],
                seed=int(body.get("seed", 0)),
                slow_seconds=float(body.get("slow_seconds", 3.0)),
            )
        if "queue" in body:
            q = body["queue"]
            sandbox.faults.queue(
                service, q["kind"], int(q.get("count", 1)), q.get("path_contains", "")
            )
    except (ValueError, KeyError, TypeError) as exc:
        return jsonify({"error": str(exc)}), 400
    return jsonify(sandbox.faults.summary())


@bp.get("/faults")
def faults_summary():  # type: ignore[no-untyped-def]
    """What faults are configured and how many were injected."""
    return jsonify(current_sandbox().faults.summary())


def init_app(app: Flask) -> None:
    """Register the control endpoints."""
    app.register_blueprint(bp)
