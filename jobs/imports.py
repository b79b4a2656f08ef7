"""The import job: fetch an ImportRun's range from Amazon Business into the ledger."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rq import get_current_job

from jobs.context import job_app
from jobs.context import job_context
from plugin.infra.queues import enqueue_once
from plugin.work import services as sync


def import_range(run_id: int) -> dict[str, Any]:
    """Run one import (progress in the job's meta and on the ImportRun), then queue posting."""
    job = get_current_job()
    holder = job.id if job is not None else f"import-{run_id}"

    def report(progress: sync.Progress) -> None:
        if job is not None:
            job.meta["progress"] = asdict(progress)
            job.save_meta()

    with job_context() as session:
        app = job_app()
        try:
            run = sync.run_import(session, app, run_id, holder, report)
        except sync.AlreadyRunning as busy:  # a resumed copy of this run, or a posting run
            return {"run": run_id, "skipped": f"busy ({busy.job_id})"}
        except sync.RunFinished as ended:  # a late copy: another job imported this run
            return {"run": run_id, "skipped": f"already {ended.run.state}"}
        if sync.posts_after_import(session, run):
            org_id = run.organisation_id
            enqueue_once("high", "jobs.posting.post_ready", f"post-{org_id}", org_id)
        return {"run": run_id, "state": run.state, "fetched": run.fetched, "new": run.new}
