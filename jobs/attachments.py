"""Attachment job (low queue): Amazon's PDF invoices onto the posted Xero documents, within the
organisation's remaining daily Xero budget."""

from __future__ import annotations

from typing import Any

from rq import get_current_job

from jobs.context import job_app
from jobs.context import job_context
from plugin.amazon.errors import AmazonError
from plugin.work import services as sync
from plugin.xero.errors import XeroError


def attach_documents(org_id: int, limit: int = 20) -> dict[str, Any]:
    """Attach up to ``limit`` PDFs; the scheduler comes back for the rest."""
    job = get_current_job()
    holder = job.id if job is not None else f"attach-{org_id}"
    with job_context() as session:
        try:
            counts = sync.run_attachments(session, job_app(), org_id, holder, limit)
        except sync.AlreadyRunning as busy:
            return {"org": org_id, "skipped": f"busy ({busy.job_id})"}
        except (XeroError, AmazonError) as stop:
            return {"org": org_id, "skipped": str(stop)}
        return {
            "org": org_id,
            "attached": counts.attached,
            "unavailable": counts.unavailable,
            "budget_reserved": counts.skipped_for_budget,
        }
