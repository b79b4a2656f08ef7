"""Scheduled syncing: every hour, each organisation with sync on imports from its last sync
(minus an overlap for late Amazon data) and posts; then Pay by Invoice settlements."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from jobs.context import job_app
from jobs.context import job_context
from plugin.infra.queues import enqueue_once
from plugin.models import ImportTrigger
from plugin.models import Organisation
from plugin.models import OrgStatus
from plugin.models import utcnow
from plugin.work import services as sync


def sync_all() -> dict[str, Any]:
    """Queue a sync for every organisation with sync enabled (one per org at a time)."""
    with job_context() as session:
        ids = [
            int(org_id)
            for org_id in session.exec(
                select(Organisation.id).where(
                    Organisation.sync_enabled == True,  # noqa: E712 (SQL expression)
                    Organisation.status == OrgStatus.ACTIVE,
                )
            )
        ]
        queued = sum(enqueue_once("default", "jobs.sync.sync_org", f"sync-{i}", i) for i in ids)
    return {"organisations": len(ids), "queued": queued}


def sync_org(org_id: int) -> dict[str, Any]:
    """Import since the last sync (minus the overlap), post, then check Pay by Invoice bills."""
    app = job_app()
    with job_context() as session:
        org = session.get(Organisation, org_id)
        if org is None or sync.ready_to_post(org) is not None:
            return {"org": org_id, "skipped": "not ready"}
        overlap = timedelta(days=int(app.config["SYNC_OVERLAP_DAYS"]))
        since = (org.last_synced_at or utcnow() - timedelta(days=sync.HISTORY_LIMIT_DAYS)) - overlap
        try:
            run = sync.start_import(
                session,
                app,
                org,
                since.date(),
                utcnow().date(),
                ImportTrigger.SCHEDULED,
                actor="scheduler",
            )
        except sync.AlreadyRunning as busy:
            return {"org": org_id, "skipped": f"busy ({busy.job_id})"}
        enqueue_once("low", "jobs.settlements.check_invoice_payments", f"settle-{org_id}", org_id)
        enqueue_once("low", "jobs.attachments.attach_documents", f"attach-{org_id}", org_id)
        return {"org": org_id, "import_run": run.id}
