"""The Amazon Business contact check of connected organisations (daily, and after a Xero
webhook says the contact changed): set it up or record the problem the user must fix."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from sqlmodel import Session
from sqlmodel import select

from plugin.infra.keys import contact_check_job_id
from plugin.infra.queues import enqueue_once
from plugin.models import Organisation
from plugin.models import OrgStatus
from plugin.xero import organisations
from plugin.xero.contact import refresh_contact_status
from plugin.xero.errors import XeroConnectionRevoked
from plugin.xero.errors import XeroNeedsReconnect
from plugin.xero.wiring import xero_client
from plugin.xero.wiring import xero_identity
from plugin.xero.wiring import xero_tokens

log = logging.getLogger(__name__)


def check_contact(session: Session, app: Flask, org_id: int) -> dict[str, Any]:
    """Check (or set up) the organisation's Amazon Business contact and record any problem."""
    org = session.get(Organisation, org_id)
    if org is None or org.status != OrgStatus.ACTIVE:
        return {"org_id": org_id, "skipped": "not connected"}
    try:
        problem = refresh_contact_status(session, org, xero_client(org, app))
    except XeroConnectionRevoked:
        access = xero_tokens(org_id, app).access_token()
        organisations.confirm_revoked(session, org, xero_identity(app), access)
        return {"org_id": org_id, "disconnected": True}
    except XeroNeedsReconnect:
        return {"org_id": org_id, "needs_reconnect": True}
    return {"org_id": org_id, "problem": problem.kind.value if problem else None}


def queue_contact_checks(session: Session, app: Flask) -> dict[str, Any]:
    """Queue a contact check for every connected organisation (one that cannot be queued is
    logged and counted in ``failed``; the others are queued all the same)."""
    ids = list(session.exec(select(Organisation.id).where(Organisation.status == OrgStatus.ACTIVE)))
    failed: list[int] = []
    for org_id in ids:
        if org_id is None:
            continue
        try:
            enqueue_once(
                "default", "jobs.xero.check_contact", contact_check_job_id(org_id), org_id, app=app
            )
        except Exception:
            log.exception("Could not queue the contact check of org %s", org_id)
            failed.append(org_id)
    return {
        "enqueued": len(ids) - len(failed),
        "failed": len(failed),
    }
