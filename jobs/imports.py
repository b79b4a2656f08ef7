"""The import job: fetch an ImportRun's range from Amazon Business into the ledger, with its
progress in the job's meta (``plugin/work/imports.py`` does the work)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rq import get_current_job

from jobs.context import job_app
from plugin.infra.keys import import_job_id
from plugin.work import imports
from plugin.work.context import work_context
from plugin.work.import_progress import Progress


def import_range(run_id: int) -> dict[str, Any]:
    """Run one import (progress in the job's meta and on the ImportRun), then queue posting."""
    job = get_current_job()
    holder = job.id if job is not None else import_job_id(run_id)

    def report(progress: Progress) -> None:
        if job is not None:
            job.meta["progress"] = asdict(progress)
            job.save_meta()

    app = job_app()
    with work_context(app) as session:
        return imports.import_range(session, app, run_id, holder, report)
