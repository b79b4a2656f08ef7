"""Attachment job (low queue): Amazon's PDF invoices onto the posted Xero documents, within the
organisation's remaining daily Xero budget (``plugin/work/attachments.py`` does the work)."""

from __future__ import annotations

from typing import Any

from rq import get_current_job

from jobs.context import job_app
from plugin.infra.keys import attach_job_id
from plugin.work import attachments
from plugin.work.context import work_context


def attach_documents(org_id: int, limit: int = 20) -> dict[str, Any]:
    """Attach up to ``limit`` PDFs; the scheduler comes back for the rest."""
    job = get_current_job()
    holder = job.id if job is not None else attach_job_id(org_id)
    app = job_app()
    with work_context(app) as session:
        return attachments.attach_documents(session, app, org_id, holder, limit)
