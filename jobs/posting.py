"""The posting job: post what is ready for an organisation; come back later after a Xero rate
limit, an outage or a busy organisation (``plugin/work/posting_run.py`` does the work)."""

from __future__ import annotations

from typing import Any

from rq import get_current_job

from jobs.context import job_app
from plugin.infra.keys import post_job_id
from plugin.work import posting_run
from plugin.work.context import work_context


def post_ready(org_id: int, include_failed: bool = False) -> dict[str, Any]:
    """Post everything ready; ``include_failed`` (after a mapping change) also retries entries
    Xero refused."""
    job = get_current_job()
    holder = job.id if job is not None else post_job_id(org_id)
    app = job_app()
    with work_context(app) as session:
        return posting_run.post_ready(session, app, org_id, holder, include_failed)
