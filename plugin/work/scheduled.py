"""Scheduled syncing: every hour, each organisation with sync on imports from its last sync
(minus an overlap for late Amazon data) and posts; then Pay by Invoice settlements and PDF
attachments on the low queue."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlmodel import Session
from sqlmodel import select

from plugin.infra.keys import attach_job_id
from plugin.infra.keys import settle_job_id
from plugin.infra.keys import sync_job_id
from plugin.infra.locks import AlreadyRunning
from plugin.infra.queues import enqueue_once
from plugin.models import ImportTrigger
from plugin.models import Organisation
from plugin.models import OrgStatus
from plugin.models import utcnow
from plugin.work.imports import HISTORY_LIMIT_DAYS
from plugin.work.imports import start_import
from plugin.work.readiness import ready_to_post

log = logging.getLogger(__name__)


def sync_all(session: Session, app: Flask) -> dict[str, Any]:
    """Queue a sync for every organisation with sync enabled (one per org at a time).

    One organisation that cannot be queued is logged and counted in ``failed``; the others are
    queued all the same.
    """
    ids = [
        int(org_id)
        for org_id in session.exec(
            select(Organisation.id).where(
                Organisation.sync_enabled == True,  # noqa: E712 (SQL expression)
                Organisation.status == OrgStatus.ACTIVE,
            )
        )
        if org_id is not None
    ]
    queued = 0
    failed: list[int] = []
    for org_id in ids:
        try:
            queued += enqueue_once(
                "default", "jobs.sync.sync_org", sync_job_id(org_id), org_id, app=app
            )
        except Exception:
            log.exception("Could not queue the sync of org %s", org_id)
            failed.append(org_id)
    return {
        "organisations": len(ids),
        "queued": queued,
        "failed": len(failed),
    }


def sync_org(session: Session, app: Flask, org_id: int) -> dict[str, Any]:
    """Import since the last sync (minus the overlap), then queue Pay by Invoice settlements
    and attachments (the import queues the posting run when it ends)."""
    org = session.get(Organisation, org_id)
    if org is None or ready_to_post(org) is not None:
        return {"org": org_id, "skipped": "not ready"}
    overlap = timedelta(days=int(app.config["SYNC_OVERLAP_DAYS"]))
    since = (org.last_synced_at or utcnow() - timedelta(days=HISTORY_LIMIT_DAYS)) - overlap
    try:
        run = start_import(
            session,
            app,
            org,
            since.date(),
            utcnow().date(),
            ImportTrigger.SCHEDULED,
            actor="scheduler",
        )
    except AlreadyRunning as busy:
        return {"org": org_id, "skipped": f"busy ({busy.job_id})"}
    enqueue_once(
        "low", "jobs.settlements.check_invoice_payments", settle_job_id(org_id), org_id, app=app
    )
    enqueue_once("low", "jobs.attachments.attach_documents", attach_job_id(org_id), org_id, app=app)
    return {"org": org_id, "import_run": run.id}
