"""Pay by Invoice settlement job: bills Amazon reports Closed get their Xero payment."""

from __future__ import annotations

from typing import Any

from rq import get_current_job

from jobs.context import job_app
from jobs.context import job_context
from plugin.amazon.errors import AmazonNeedsReconnect
from plugin.work import services as sync
from plugin.xero.errors import XeroConnectionRevoked
from plugin.xero.errors import XeroNeedsReconnect


def check_invoice_payments(org_id: int) -> dict[str, Any]:
    """Create the Xero payments of closed Pay by Invoice bills."""
    job = get_current_job()
    holder = job.id if job is not None else f"settle-{org_id}"
    with job_context() as session:
        try:
            counts = sync.run_settlements(session, job_app(), org_id, holder)
        except sync.AlreadyRunning as busy:
            return {"org": org_id, "skipped": f"busy ({busy.job_id})"}
        except (XeroNeedsReconnect, XeroConnectionRevoked, AmazonNeedsReconnect) as stop:
            return {"org": org_id, "skipped": str(stop)}
        return {
            "org": org_id,
            "checked": counts.checked,
            "paid": counts.paid,
            "allocated": counts.allocated,
        }
