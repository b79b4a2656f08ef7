"""The rollback job: roll back an import run (``plugin/work/rollbacks.py`` does the work)."""

from __future__ import annotations

from typing import Any

from rq import get_current_job

from jobs.context import job_app
from plugin.infra.keys import rollback_job_ids
from plugin.work import rollbacks
from plugin.work.context import work_context


def rollback_run(org_id: int, run_id: int, actor: str) -> dict[str, Any]:
    """Take the documents the run posted out of Xero (unless reconciled or paid)."""
    job = get_current_job()
    holder = job.id if job is not None else rollback_job_ids(run_id)[0]
    app = job_app()
    with work_context(app) as session:
        return rollbacks.rollback_run(session, app, org_id, run_id, actor, holder)
