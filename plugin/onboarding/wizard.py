"""The set-up wizard's steps: their order, the step indicator, and moving an org forward.

An organisation remembers its step (``Organisation.onboarding_step``); it only ever moves
forward, when a step is completed. Visiting an earlier step changes nothing, so "Back" keeps
what was entered; a step further on than the org has reached sends the user to where set-up
continues instead (``plugin.onboarding.steps.next_step_url``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlmodel import Session

from plugin.models import AuditEvent
from plugin.models import OnboardingStep
from plugin.models import Organisation
from plugin.models import utcnow
from plugin.onboarding.steps import STEP_PATHS

ORDER: Final = (
    OnboardingStep.CONNECT_AMAZON,
    OnboardingStep.IMPORT_HISTORY,
    OnboardingStep.MAP_ACCOUNTS,
    OnboardingStep.REVIEW,
    OnboardingStep.DONE,
)
LABELS: Final = {
    OnboardingStep.CONNECT_AMAZON: "Connect Amazon Business",
    OnboardingStep.IMPORT_HISTORY: "Import history",
    OnboardingStep.MAP_ACCOUNTS: "Map accounts",
    OnboardingStep.REVIEW: "Review",
}


@dataclass(frozen=True)
class StepView:
    """One entry of the step indicator."""

    label: str
    url: str | None  # None when the step cannot be visited yet
    state: str  # "done" | "current" | "todo"


def position(step: str) -> int:
    """Return the index of ``step`` in the wizard (unknown steps count as the first)."""
    try:
        return ORDER.index(OnboardingStep(step))
    except ValueError:
        return 0


def reached(org: Organisation, step: OnboardingStep) -> bool:
    """Return whether the organisation has got as far as ``step``."""
    return position(org.onboarding_step) >= position(step)


def advance(session: Session, org: Organisation, to: OnboardingStep, actor: str) -> bool:
    """Move the org's step forward to ``to`` (never backwards); commit; True when it moved."""
    if position(org.onboarding_step) >= position(to):
        return False
    before = org.onboarding_step
    org.onboarding_step = to
    org.updated_at = utcnow()
    session.add(org)
    session.add(
        AuditEvent(
            organisation_id=org.id,
            actor=actor,
            action="onboarding_step",
            detail={"from": str(before), "to": str(to)},
        )
    )
    session.commit()
    return True


def steps(org: Organisation, current: OnboardingStep) -> list[StepView]:
    """Return the step indicator for a page of step ``current``: Connect Xero is always done."""
    shown = [StepView("Connect Xero", None, "done")]
    org_at = position(org.onboarding_step)
    for step in ORDER[:-1]:
        index = position(step)
        if step == current:
            state = "current"
        elif index < org_at:
            state = "done"
        else:
            state = "todo"
        url = STEP_PATHS[step].format(org_id=org.id) if index <= org_at else None
        shown.append(StepView(LABELS[step], url, state))
    return shown
