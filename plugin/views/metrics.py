"""``GET /metrics``: the Prometheus scrape, never public.

With ``METRICS_TOKEN`` set, a scrape must send ``Authorization: Bearer <token>`` (401 without
it). Without a token the endpoint does not exist in production (404), and elsewhere answers
only the machine itself (a scrape from 127.0.0.1 or ::1; anything else gets 404).
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import request
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client import CollectorRegistry
from prometheus_client import generate_latest
from prometheus_client import multiprocess

from plugin.config import is_production
from plugin.db import get_engine
from plugin.infra import metrics
from plugin.infra.metric_collectors import EntriesByStateCollector
from plugin.infra.metric_collectors import QueueDepthCollector
from plugin.infra.queues import QUEUE_NAMES
from plugin.infra.queues import get_queue

bp = Blueprint("metrics", __name__)

LOOPBACK = {"127.0.0.1", "::1"}


def scrape_allowed(config: Any, authorization: str | None, remote_addr: str | None) -> bool:
    """Whether this scrape may see the metrics (the rules in the module docstring); raises 404
    where the endpoint must not be seen to exist."""
    token = str(config.get("METRICS_TOKEN") or "")
    if token:
        sent = (authorization or "").removeprefix("Bearer ").strip()
        return bool(sent) and hmac.compare_digest(sent.encode(), token.encode())
    if is_production(config) or remote_addr not in LOOPBACK:
        abort(404)
    return True


def scrape_registry() -> CollectorRegistry:
    """Every process's counters (multiprocess files) plus the figures read now."""
    registry = CollectorRegistry()
    directory = metrics.multiprocess_dir()
    own = metrics.metrics().registry
    if directory is not None and own is None:
        multiprocess.MultiProcessCollector(registry, path=str(directory))
    registry.register(QueueDepthCollector([get_queue(name) for name in QUEUE_NAMES]))
    registry.register(EntriesByStateCollector(get_engine()))
    return registry


@bp.get("/metrics")
def scrape() -> Any:
    """The metrics in Prometheus's text format."""
    if not scrape_allowed(
        current_app.config, request.headers.get("Authorization"), request.remote_addr
    ):
        return Response(
            "A bearer token is required.\n",
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            mimetype="text/plain",
        )
    body = generate_latest(scrape_registry())
    own = metrics.metrics().registry
    if own is not None:  # not in multiprocess mode (no directory): this process's own figures
        body += generate_latest(own)
    return Response(body, headers={"Cache-Control": "no-store"}, content_type=CONTENT_TYPE_LATEST)
