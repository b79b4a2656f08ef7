"""What Manage Integrations does: retry entries, mark them posted by hand (and take it back),
sync now, turn syncing and a member's digest on or off. Each action leaves an AuditEvent.

Queuing degrades when Redis is down: ``queue_job`` answers None and the caller says that
background work is paused.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from sqlalchemy import false as sql_false
from sqlalchemy import update
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin import ledger
from plugin.infra.keys import retry_job_id
from plugin.infra.keys import sync_job_id
from plugin.infra.queues import enqueue_once
from plugin.manage.entries import ATTENTION
from plugin.manage.entries import STATE_FILTERS
from plugin.manage.entries import cause_conditions
from plugin.manage.held_groups import Cause
from plugin.manage.status import REDIS_ERRORS
from plugin.models import AuditEvent
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import Membership
from plugin.models import OnboardingStep
from plugin.models import Organisation
from plugin.models import utcnow

log = logging.getLogger(__name__)


def queue_job(app: Flask, func: str, job_id: str, *args: Any) -> bool | None:
    """Queue a unique job on ``high``: True queued, False already queued, None Redis is down."""
    try:
        return enqueue_once("high", func, job_id, *args, app=app)
    except REDIS_ERRORS as exc:
        log.warning("Could not queue %s: %s", job_id, type(exc).__name__)
        return None


def sync_now(app: Flask, org: Organisation) -> bool | None:
    """Queue an immediate sync of the organisation (see ``queue_job`` for the answer)."""
    return queue_job(app, "jobs.sync.sync_org", sync_job_id(int(org.id or 0)), int(org.id or 0))


def retry_entries(
    session: Session,
    app: Flask,
    org: Organisation,
    actor: str,
    entry_ids: list[int] | None = None,
    reason_code: str | None = None,
) -> int:
    """Send held/failed entries (given ids, or all of one cause) back for posting.

    ``reason_code`` is a reason code or a cause (``held_groups.Cause.param``). Returns how many
    went back; queues a posting run that re-evaluates them.
    """
    org_id = int(org.id or 0)
    cause = Cause.from_param(reason_code) if reason_code is not None else None
    if reason_code is not None:
        conditions = cause_conditions(cause) if cause is not None else [sql_false()]
        statement = (
            update(LedgerEntry)
            .where(
                col(LedgerEntry.organisation_id) == org_id,
                *conditions,
                col(LedgerEntry.state).in_(STATE_FILTERS[ATTENTION]),
            )
            .values(state=EntryState.FETCHED, updated_at=utcnow())
        )
        count = int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]
        session.commit()
    else:
        count = ledger.retry(session, org_id, entry_ids or [])
    session.add(
        AuditEvent(
            organisation_id=org_id,
            actor=actor,
            action="entries_retried",
            detail={"count": count, "reason_code": reason_code, "entry_ids": entry_ids},
        )
    )
    session.commit()
    if count:
        queue_job(app, "jobs.posting.post_ready", retry_job_id(org_id), org_id, True)
    return count


def _audit_entry(
    session: Session, org_id: int, actor: str, action: str, entry: LedgerEntry, **extra: Any
) -> None:
    """Record what the user did to one entry (committed)."""
    detail = {"entry": entry.id, "transaction": entry.amazon_transaction_id, **extra}
    session.add(AuditEvent(organisation_id=org_id, actor=actor, action=action, detail=detail))
    session.commit()


def mark_posted_by_hand(
    session: Session, org: Organisation, entry: LedgerEntry, actor: str, marked_by: str
) -> bool:
    """The user posted this held/failed entry in Xero themselves: it becomes final (see
    ``ledger.mark_posted_by_hand``; ``marked_by`` is their name, for the note). False when it
    had already moved on."""
    org_id = int(org.id or 0)
    marked = ledger.mark_posted_by_hand(session, org_id, int(entry.id or 0), marked_by)
    if marked:
        _audit_entry(session, org_id, actor, "entry_posted_by_hand", entry)
    return marked


def confirm_duplicate(
    session: Session, org: Organisation, entry: LedgerEntry, actor: str, confirmed_by: str
) -> bool:
    """ "That is this purchase": the document the bank-feed guard found is this purchase; final
    (``ledger.confirm_duplicate``). False when it had already moved on."""
    org_id = int(org.id or 0)
    found = entry.duplicate_of
    confirmed = ledger.confirm_duplicate(session, org_id, int(entry.id or 0), confirmed_by)
    if confirmed:
        _audit_entry(session, org_id, actor, "entry_confirmed_in_xero", entry, xero_document=found)
    return confirmed


def clear_duplicate(
    session: Session, app: Flask, org: Organisation, entry: LedgerEntry, actor: str
) -> bool:
    """ "It is a different purchase: post it": never held by the guard again; posting queued."""
    org_id = int(org.id or 0)
    found = entry.duplicate_of
    cleared = ledger.clear_duplicate(session, org_id, int(entry.id or 0))
    if cleared:
        _audit_entry(session, org_id, actor, "entry_not_a_duplicate", entry, xero_document=found)
        queue_job(app, "jobs.posting.post_ready", retry_job_id(org_id), org_id, True)
    return cleared


def unmark_posted_by_hand(
    session: Session, app: Flask, org: Organisation, entry: LedgerEntry, actor: str
) -> bool:
    """Take back "posted by hand": the entry is evaluated again and posted if it can be."""
    org_id = int(org.id or 0)
    unmarked = ledger.unmark_posted_by_hand(session, org_id, int(entry.id or 0))
    if unmarked:
        _audit_entry(session, org_id, actor, "entry_by_hand_taken_back", entry)
        queue_job(app, "jobs.posting.post_ready", retry_job_id(org_id), org_id, True)
    return unmarked


def set_sync_enabled(session: Session, org: Organisation, enabled: bool, actor: str) -> str:
    """Turn scheduled syncing on or off; returns a message for the user."""
    if enabled and org.onboarding_step != OnboardingStep.DONE:
        return "Finish set-up first: syncing starts when set-up is finished."
    org.sync_enabled = enabled
    org.updated_at = utcnow()
    session.add(org)
    session.add(
        AuditEvent(
            organisation_id=org.id,
            actor=actor,
            action="sync_enabled" if enabled else "sync_disabled",
        )
    )
    session.commit()
    return "Syncing is on." if enabled else "Syncing is off: nothing is imported or posted."


def membership_of(session: Session, org_id: int, user_id: int) -> Membership | None:
    """The user's membership of the organisation (it holds their digest preference)."""
    return session.exec(
        select(Membership).where(
            Membership.organisation_id == org_id, Membership.user_id == user_id
        )
    ).first()


def set_notify(session: Session, membership: Membership, notify: bool) -> None:
    """Turn the daily digest email on or off for one member."""
    membership.notify = notify
    session.add(membership)
    session.commit()
