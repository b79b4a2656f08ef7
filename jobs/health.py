"""Jobs that prove the background machinery works end to end (used by /healthz and tests)."""

from __future__ import annotations

import os
from typing import Any

from rq import get_current_job

from jobs.context import job_app
from plugin.models import utcnow
from plugin.work.context import work_context
from plugin.work.health import touch_database


def ping(note: str = "") -> dict[str, Any]:
    """Touch the database from a worker and report who ran it."""
    with work_context(job_app()) as session:
        database = touch_database(session)
    job = get_current_job()
    if job is not None:
        job.meta["pinged_at"] = utcnow().isoformat()
        job.save_meta()
    return {"note": note, "worker_pid": os.getpid(), "database": database}
