"""Scheduled syncing jobs: the hourly fan-out and one organisation's sync
(``plugin/work/scheduled.py`` does the work)."""

from __future__ import annotations

from typing import Any

from jobs.context import job_app
from plugin.work import scheduled
from plugin.work.context import work_context


def sync_all() -> dict[str, Any]:
    """Queue a sync for every organisation with sync enabled (one per org at a time)."""
    app = job_app()
    with work_context(app) as session:
        return scheduled.sync_all(session, app)


def sync_org(org_id: int) -> dict[str, Any]:
    """Import since the last sync (minus the overlap), post, then check Pay by Invoice bills."""
    app = job_app()
    with work_context(app) as session:
        return scheduled.sync_org(session, app, org_id)
