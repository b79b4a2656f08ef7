"""Pay by Invoice settlement job: credit notes allocated to their bills, bills Amazon reports
Closed paid; after a rate limit or outage it comes back later (``plugin/work/settlements.py``
does the work)."""

from __future__ import annotations

from typing import Any

from rq import get_current_job

from jobs.context import job_app
from plugin.infra.keys import settle_job_id
from plugin.work import settlements
from plugin.work.context import work_context


def check_invoice_payments(org_id: int) -> dict[str, Any]:
    """Allocate credit notes and create the Xero payments of closed Pay by Invoice bills."""
    job = get_current_job()
    holder = job.id if job is not None else settle_job_id(org_id)
    app = job_app()
    with work_context(app) as session:
        return settlements.check_invoice_payments(session, app, org_id, holder)
