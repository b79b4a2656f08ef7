"""``/healthz``: is the database answering, is Redis answering (503 when either is not); the
queue depths and the failed jobs (those recovery resumed counted apart from the others)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import current_app
from flask import jsonify

from plugin.db import database_ok
from plugin.db import get_engine
from plugin.infra.queues import QUEUE_NAMES
from plugin.infra.queues import get_queue
from plugin.infra.queues import get_redis
from plugin.infra.queues import redis_ok
from plugin.work.recovery import failed_job_counts

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    """Report the status of the database and Redis (and queue depths when Redis is up)."""
    db_up, db_detail = database_ok(get_engine())
    redis_up, redis_detail = redis_ok(get_redis())
    body: dict[str, Any] = {
        "status": "ok" if db_up and redis_up else "unavailable",
        "database": {"ok": db_up, "detail": db_detail},
        "redis": {"ok": redis_up, "detail": redis_detail},
    }
    if redis_up:
        body["queues"] = {name: get_queue(name).count for name in QUEUE_NAMES}
        # "unrecovered" is what needs an operator; "resumed" jobs were killed and their work
        # queued again (and done) by recovery.
        body["failed_jobs"] = failed_job_counts(current_app)
    response = jsonify(body)
    response.status_code = 200 if db_up and redis_up else 503
    response.headers["Cache-Control"] = "no-store"
    return response
