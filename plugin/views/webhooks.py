"""``POST /webhooks/xero``: signed Xero events, verified and queued (never processed inline).

The signature is base64(HMAC-SHA256(raw body, webhook key)), compared in constant time; a bad
one gets 401 with no body (which is also how the intent-to-receive handshake is answered).
Delivery is at least once, so events are de-duplicated in Redis. A ``CONTACT`` event for an
organisation's Amazon Business contact queues the contact check.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from typing import Any

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import request
from sqlmodel import select

from plugin.db import get_session
from plugin.infra.keys import contact_check_job_id
from plugin.infra.keys import webhook_seen_key
from plugin.infra.queues import enqueue_once
from plugin.infra.queues import get_redis
from plugin.models import Organisation
from plugin.security import csrf

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
csrf.exempt(bp)

DEDUPE_SECONDS = 7 * 24 * 3600


def signature_ok(raw_body: bytes, signature: str | None, key: str) -> bool:
    """True when ``signature`` is Xero's HMAC of exactly these bytes with our webhook key."""
    if not key or not signature:
        return False
    expected = base64.b64encode(hmac.new(key.encode(), raw_body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, signature)


def _empty(status: int) -> Response:
    return Response(b"", status=status)


@bp.post("/xero")
def xero() -> Any:
    """Verify, de-duplicate and queue Xero's events; answer within Xero's 5 seconds."""
    raw = request.get_data(cache=False)
    if not signature_ok(
        raw, request.headers.get("x-xero-signature"), current_app.config["XERO_WEBHOOK_KEY"]
    ):
        return _empty(401)
    try:
        payload = json.loads(raw or b"{}")
        events = payload.get("events") or []
    except (ValueError, AttributeError):
        return _empty(400)
    if not isinstance(events, list):
        return _empty(400)  # signed, but not Xero's shape: nothing to queue
    redis_client = get_redis()
    for event in events:
        if not isinstance(event, dict) or event.get("eventCategory") != "CONTACT":
            continue
        fingerprint = "|".join(
            str(event.get(k, "")) for k in ("tenantId", "resourceId", "eventDateUtc", "eventType")
        )
        digest = hashlib.sha256(fingerprint.encode()).hexdigest()
        if not redis_client.set(webhook_seen_key(digest), "1", nx=True, ex=DEDUPE_SECONDS):
            continue  # delivered before
        org = (
            get_session()
            .exec(
                select(Organisation).where(
                    Organisation.xero_tenant_id == str(event.get("tenantId", "")),
                    Organisation.amazon_contact_id == str(event.get("resourceId", "")),
                )
            )
            .first()
        )
        if org is not None and org.id is not None:
            enqueue_once("default", "jobs.xero.check_contact", contact_check_job_id(org.id), org.id)
            log.info("Queued a contact check for organisation %s", org.id)
    return _empty(200)
