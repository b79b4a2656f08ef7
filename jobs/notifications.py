"""The daily digest job: one email per organisation with news, to each member who wants it
(``plugin/work/digests.py`` does the work)."""

from __future__ import annotations

from typing import Any

from jobs.context import job_app
from plugin.models import utcnow
from plugin.work import digests
from plugin.work.context import work_context


def send_digests() -> dict[str, Any]:
    """Send today's digests (at most one per organisation per day; only when there is news)."""
    app = job_app()
    with work_context(app) as session:
        return digests.send_digests(session, app, utcnow())
