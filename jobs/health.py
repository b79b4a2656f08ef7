"""Jobs that prove the background machinery works end to end (used by /healthz and tests)."""

from __future__ import annotations

import os
from typing import Any

from rq import get_current_job
from sqlalchemy import text

from jobs.context import job_context
from plugin.models import utcnow


def ping(note: str = "") -> dict[str, Any]:
    """Touch the database from a worker and report who ran it."""
    with job_context() as session:
        session.execute(text("SELECT 1"))
    job = get_current_job()
    if job is not None:
        job.meta["pinged_at"] = utcnow().isoformat()
        job.save_meta()
    return {"note": note, "worker_pid": os.getpid(), "database": "ok"}
