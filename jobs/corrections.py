"""The correction jobs: roll back an import run or a posting run, correct posted documents to a
changed mapping (``plugin/work/rollbacks.py``, ``plugin/work/remaps.py`` do the work)."""

from __future__ import annotations

from typing import Any

from rq import get_current_job

from jobs.context import job_app
from plugin.infra.keys import remap_job_ids
from plugin.infra.keys import rollback_job_ids
from plugin.work import remaps
from plugin.work import rollbacks
from plugin.work.context import work_context


def rollback_run(
    org_id: int, run_id: int, actor: str, kind: str = "import", hold_after: bool = False
) -> dict[str, Any]:
    """Take the documents the run (an import or a posting run: ``kind``) posted out of Xero,
    unless reconciled or paid; ``hold_after`` holds their entries afterwards."""
    job = get_current_job()
    holder = job.id if job is not None else rollback_job_ids(run_id)[0]
    app = job_app()
    with work_context(app) as session:
        return rollbacks.rollback_run(session, app, org_id, run_id, actor, holder, kind, hold_after)


def remap_posted(org_id: int, transaction_ids: list[str], actor: str) -> dict[str, Any]:
    """Correct posted documents to the current mapping (unless reconciled or paid)."""
    job = get_current_job()
    holder = job.id if job is not None else remap_job_ids(org_id)[0]
    app = job_app()
    with work_context(app) as session:
        return remaps.remap_posted(session, app, org_id, transaction_ids, actor, holder)
