"""Correcting posted documents to the current mapping in the background (``ledger.remaps``):
under the organisation's work lock, record a ``remap`` correction for each document the member
confirmed, then make every pending correction (``ledger.corrections``). A busy organisation, a
rate limit or an outage: the corrections recorded wait for the next posting run (recovery
queues one for them), and this job comes back later for the ones not yet recorded.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from sqlmodel import Session

from plugin.infra.keys import remap_job_ids
from plugin.infra.locks import AlreadyRunning
from plugin.infra.locks import lock_seconds
from plugin.infra.locks import org_lock
from plugin.infra.queues import enqueue_later
from plugin.infra.queues import get_redis
from plugin.ledger.corrections import apply_corrections
from plugin.ledger.remaps import record_remap
from plugin.models import AuditEvent
from plugin.models import Organisation
from plugin.work.posting_run import load_rules
from plugin.work.posting_run import posting_context
from plugin.xero.errors import XeroConnectionLost
from plugin.xero.errors import XeroRateLimited
from plugin.xero.errors import XeroServerError
from plugin.xero.errors import XeroUnavailable

log = logging.getLogger(__name__)


def remap_posted(
    session: Session,
    app: Flask,
    org_id: int,
    transaction_ids: list[str],
    actor: str,
    holder: str,
) -> dict[str, Any]:
    """Correct the given posted documents to the current mapping (module doc)."""
    org = session.get(Organisation, org_id)
    if org is None:
        return {"org": org_id, "skipped": "no such organisation"}
    try:
        with org_lock(get_redis(app), org_id, holder, lock_seconds(app)):
            recorded = record_remap(session, org_id, transaction_ids, actor)
            session.add(
                AuditEvent(
                    organisation_id=org_id,
                    actor=actor,
                    action="remap_started",
                    detail={"documents": recorded},
                )
            )
            session.commit()
            client, mapping, chart = load_rules(app, session, org)
            counts = apply_corrections(
                session, org_id, client, mapping, chart, posting_context(app, org)
            )
    except AlreadyRunning:
        return _later(app, org_id, transaction_ids, actor, 30, "busy")
    except (XeroRateLimited, XeroUnavailable, XeroServerError, XeroConnectionLost) as pause:
        delay = float(getattr(pause, "retry_after", None) or 60)
        return _later(app, org_id, [], actor, delay, pause.message)
    log.info("Remap of org %s: %s", org_id, counts)
    return {"org": org_id, "applied": counts.applied, "held": counts.held}


def _later(
    app: Flask, org_id: int, ids: list[str], actor: str, seconds: float, why: str
) -> dict[str, Any]:
    enqueue_later(
        "high",
        seconds + 1,
        "jobs.corrections.remap_posted",
        org_id,
        ids,
        actor,
        job_ids=remap_job_ids(org_id)[1:],
        app=app,
    )
    return {"org": org_id, "skipped": why, "retry_in": seconds}
