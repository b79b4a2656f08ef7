"""What the status of Manage Integrations says while posting to Xero is paused: what happened
(rate limited, Xero failing, unavailable, unreachable, access revoked) and what happens next.

Pure: the kind comes from ``plugin.xero.errors.pause_kind``, recorded on the job that resumes
the run (``plugin.work.posting_run.pause_meta``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from plugin.xero.errors import PauseKind

REVOKED_HEADLINE = "Access to Xero was revoked: reconnect."
"""The headline for an organisation whose Xero connection no longer works (401/403)."""


@dataclass(frozen=True)
class PauseNotice:
    """One status line: what happened (``headline``) and what happens next."""

    headline: str
    next_step: str
    bad: bool = False  # needs the user (access revoked), not only patience


def pause_notice(kind: str | None, http_status: int | None, resumes_at: datetime) -> PauseNotice:
    """The words for a posting run paused by an outage of ``kind``, resuming at ``resumes_at``."""
    at = f"{resumes_at:%H:%M} UTC"
    if kind == PauseKind.RATE_LIMITED:
        return PauseNotice(
            f"Xero asked us to slow down; posting resumes at {at}.",
            "Nothing is lost: posting carries on by itself.",
        )
    if kind == PauseKind.FAILING:
        status = f"HTTP {http_status}" if http_status else "an answer we could not read"
        return PauseNotice(
            f"Xero is failing ({status}) — we retry every minute; next try at {at}.",
            "Nothing is lost: what was sent is checked in Xero before anything is sent again.",
        )
    if kind == PauseKind.UNAVAILABLE:
        return PauseNotice(
            "Xero is unavailable (maintenance or the organisation is offline); "
            f"we try again at {at}.",
            "Nothing is lost: posting carries on by itself when Xero is back.",
        )
    if kind == PauseKind.UNREACHABLE:
        return PauseNotice(
            f"Xero cannot be reached — we retry every minute; next try at {at}.",
            "Nothing is lost: what was sent is checked in Xero before anything is sent again.",
        )
    if kind == PauseKind.REVOKED:
        return PauseNotice(
            REVOKED_HEADLINE,
            "Nothing is posted until you reconnect; your history is kept.",
            bad=True,
        )
    return PauseNotice(
        f"Posting to Xero is paused; next try at {at}.",
        "Nothing is lost: posting carries on by itself.",
    )
