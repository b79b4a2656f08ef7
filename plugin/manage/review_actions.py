"""What the review page does (issue 16 point 4): approve purchases and start the posting run
that posts them, save one purchase's coding, switch the posting mode. Each leaves an
AuditEvent; the ledger side (one conditional move per entry, exactly once) is
``plugin.ledger.review``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from sqlmodel import Session

from plugin import posting
from plugin.infra.keys import post_job_id
from plugin.infra.queues import enqueue_once
from plugin.ledger import review
from plugin.ledger.counts import counts_by_state
from plugin.manage.status import REDIS_ERRORS
from plugin.models import AuditEvent
from plugin.models import EntryState
from plugin.models import Organisation
from plugin.work.readiness import ready_to_post

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Approval:
    """What one approval did: how many it approved, and whether their posting started."""

    approved: int
    why_not: str | None = None  # the organisation cannot post now (they wait, approved)
    queued: bool | None = True  # None: Redis is down (they post at the next run)
    nothing_chosen: bool = False  # "approve the ticked" with nothing ticked

    @property
    def message(self) -> str:
        """What the page says."""
        if self.nothing_chosen:
            return "Tick the purchases you want to approve first."
        if not self.approved:
            return "Nothing to approve: those purchases were already approved or have moved on."
        noun = "purchase" if self.approved == 1 else "purchases"
        if self.why_not is not None:
            return f"Approved {self.approved} {noun}. They post once this is fixed: {self.why_not}"
        if self.queued is None:
            return (
                f"Approved {self.approved} {noun}. Background work is paused, so they post at "
                "the next run."
            )
        return f"Approved {self.approved} {noun}: posting to Xero now."


def start_posting(app: Flask, org: Organisation) -> tuple[str | None, bool | None]:
    """Queue the organisation's posting run (one more after a running one): (why it cannot
    post now, whether queued; None when Redis is down)."""
    why_not = ready_to_post(org)
    if why_not is not None:
        return why_not, False
    org_id = int(org.id or 0)
    try:
        queued = enqueue_once(
            "high", "jobs.posting.post_ready", post_job_id(org_id), org_id, app=app, follow_up=True
        )
    except REDIS_ERRORS as exc:
        log.warning("Could not queue the posting of org %s: %s", org_id, type(exc).__name__)
        return None, None
    return None, queued


def approve_entries(
    session: Session,
    app: Flask,
    org: Organisation,
    actor: str,
    entry_ids: list[int] | None,
    as_of: datetime | None = None,
) -> Approval:
    """Approve the given purchases (None: all that were in review ``as_of``) and post them."""
    org_id = int(org.id or 0)
    if entry_ids is not None and not entry_ids:
        return Approval(0, nothing_chosen=True)
    moved = review.approve(session, org_id, actor, entry_ids, as_of)
    if not moved:
        return Approval(0)
    session.add(
        AuditEvent(
            organisation_id=org_id,
            actor=actor,
            action="entries_approved",
            detail={"count": len(moved), "entry_ids": moved[:100], "all": entry_ids is None},
        )
    )
    session.commit()
    why_not, queued = start_posting(app, org)
    return Approval(len(moved), why_not, queued)


def save_coding(
    session: Session, org: Organisation, entry_id: int, coding: posting.Coding, actor: str
) -> None:
    """Store one purchase's coding (raises ``review.NotInReview`` when it is not in review)."""
    org_id = int(org.id or 0)
    review.set_coding(session, org_id, entry_id, coding, actor)
    session.add(
        AuditEvent(
            organisation_id=org_id,
            actor=actor,
            action="entry_coded",
            detail={"entry": entry_id, "coding": None if coding.empty else coding.as_json()},
        )
    )
    session.commit()


def set_mode(session: Session, org: Organisation, review_on: bool, actor: str) -> str:
    """Switch between posting automatically and reviewing first; returns what the page says."""
    moved = review.use_review(session, org, review_on)
    waiting = counts_by_state(session, int(org.id or 0)).get(EntryState.REVIEW, 0)
    session.add(
        AuditEvent(
            organisation_id=org.id,
            actor=actor,
            action="posting_mode",
            detail={"mode": review.mode_of(org), "back_to_review": moved, "in_review": waiting},
        )
    )
    session.commit()
    if review_on:
        extra = (
            f" {moved} {'purchase that was' if moved == 1 else 'purchases that were'} about to "
            "post now wait for your review too."
            if moved
            else ""
        )
        return f"Review before posting is on: new purchases wait here for your approval.{extra}"
    if waiting:
        noun = "purchase waiting" if waiting == 1 else "purchases waiting"
        return (
            "Purchases post to Xero by themselves again. The "
            f"{waiting} {noun} for your review stay here until you approve them."
        )
    return "Purchases post to Xero by themselves again."
