"""Xero housekeeping jobs: the Amazon Business contact check and the daily connection check
(``plugin/work/contact_checks.py`` does the work)."""

from __future__ import annotations

from typing import Any

from jobs.context import job_app
from plugin.work import contact_checks
from plugin.work import membership_checks
from plugin.work.context import work_context


def check_contact(org_id: int) -> dict[str, Any]:
    """Check (or set up) the organisation's Amazon Business contact and record any problem."""
    app = job_app()
    with work_context(app) as session:
        return contact_checks.check_contact(session, app, org_id)


def check_all_contacts() -> dict[str, Any]:
    """Daily: enqueue a contact check for every connected organisation."""
    app = job_app()
    with work_context(app) as session:
        return contact_checks.queue_contact_checks(session, app)


def check_memberships() -> dict[str, Any]:
    """Daily: drop memberships the users' Xero connections no longer grant."""
    app = job_app()
    with work_context(app) as session:
        return membership_checks.check_memberships(session, app)
