"""Recovery jobs: resume what a dead worker or a lost Redis left half done (the policy is in
``plugin/work/recovery.py``). The cron runs it every few minutes; workers queue it when they start
(``plugin.work.recovery.queue_resume``)."""

from __future__ import annotations

from jobs.context import job_app
from plugin.work import recovery


def resume_interrupted() -> dict[str, list[int]]:
    """Queue the imports and posting runs that a dead worker left unfinished."""
    app = job_app()
    with app.app_context():
        return recovery.resume_interrupted(app)
