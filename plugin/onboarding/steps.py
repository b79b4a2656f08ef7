"""Where an organisation's set-up continues: each organisation remembers its step."""

from __future__ import annotations

from plugin.models import OnboardingStep
from plugin.models import Organisation

STEP_PATHS = {
    OnboardingStep.CONNECT_AMAZON: "/orgs/{org_id}/amazon",
    OnboardingStep.IMPORT_HISTORY: "/orgs/{org_id}/setup/history",
    OnboardingStep.MAP_ACCOUNTS: "/orgs/{org_id}/setup/mapping",
    OnboardingStep.REVIEW: "/orgs/{org_id}/setup/review",
    OnboardingStep.DONE: "/orgs/{org_id}/manage",
}


def next_step_url(org: Organisation) -> str:
    """The page where this organisation's set-up continues (or Manage Integrations when done)."""
    path = STEP_PATHS.get(OnboardingStep(org.onboarding_step), STEP_PATHS[OnboardingStep.DONE])
    return path.format(org_id=org.id)
