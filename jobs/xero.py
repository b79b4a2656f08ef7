"""Xero housekeeping jobs: the Amazon Business contact check and the daily connection check."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from jobs.context import job_context
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


def check_contact(org_id: int) -> dict[str, Any]:
    """Check (or set up) the organisation's Amazon Business contact and record any problem."""
    with job_context() as session:
        org = session.get(Organisation, org_id)
        if org is None or org.status != OrgStatus.ACTIVE:
            return {"org_id": org_id, "skipped": "not connected"}
        try:
            problem = refresh_contact_status(session, org, xero_client(org))
        except XeroConnectionRevoked:
            access = xero_tokens(org_id).access_token()
            organisations.confirm_revoked(session, org, xero_identity(), access)
            return {"org_id": org_id, "disconnected": True}
        except XeroNeedsReconnect:
            return {"org_id": org_id, "needs_reconnect": True}
        return {"org_id": org_id, "problem": problem.kind.value if problem else None}


def check_all_contacts() -> dict[str, Any]:
    """Daily: enqueue a contact check for every connected organisation."""
    with job_context() as session:
        ids = list(
            session.exec(select(Organisation.id).where(Organisation.status == OrgStatus.ACTIVE))
        )
        for org_id in ids:
            enqueue_once("default", "jobs.xero.check_contact", f"contact-check-{org_id}", org_id)
    return {"enqueued": len(ids)}
