"""Whether an organisation's actions (Import, Retry, Save, Sync now) may run: not while it is
disconnected from Xero or needs reconnecting. The pages show those actions switched off with
this message, and the server refuses them with it (pure)."""

from __future__ import annotations

from typing import Final

from plugin.models import Organisation
from plugin.models import OrgStatus

REFUSALS: Final = {
    OrgStatus.DISCONNECTED: "Xero is disconnected: reconnect to Xero before {action}.",
    OrgStatus.NEEDS_RECONNECT: "Xero asks you to reconnect before {action}.",
}


def refusal_for(org: Organisation, action: str = "retrying") -> str | None:
    """The message refusing ``action`` ("importing", "saving", …) for this org, or None."""
    template = REFUSALS.get(OrgStatus(org.status)) if org.status else None
    return template.format(action=action) if template else None
