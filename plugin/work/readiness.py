"""Whether an organisation may post now: the one check every run makes before touching Xero."""

from __future__ import annotations

from plugin.models import OnboardingStep
from plugin.models import Organisation
from plugin.models import OrgStatus
from plugin.xero.contact import contact_problem_of


class NotReady(Exception):
    """The organisation cannot post yet (set-up unfinished, needs reconnect, contact problem)."""


def ready_to_post(org: Organisation) -> str | None:
    """None when the organisation may post now, else why not (in words for the user)."""
    if org.status != OrgStatus.ACTIVE:
        return org.status_reason or "The organisation is not connected to Xero."
    if org.onboarding_step != OnboardingStep.DONE or not org.sync_enabled:
        return "Set-up is not finished (or sync is turned off)."
    problem = contact_problem_of(org)
    if problem is not None:
        return problem.message
    return None
