"""The daily digest email: what needs a member's attention in an organisation, and where to fix it.

An organisation's members (those with notifications on) get at most one digest a day, and only
when something is new since the last one: a payment method seen for the first time, more held or
failed entries for a reason, more purchases waiting for review (review mode), or a connection
that needs reconnecting. Each item links to the exact page that fixes it; a digest sent says how
many purchases wait for review, whatever else it is about.

Building the digest is pure (``is_news``, ``due``, ``build_digest``); ``snapshot_of`` and
``recipients`` read the database; ``send_digest`` puts it together and hands each email to
``plugin.notify.mail``.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.ledger.counts import counts_by_state
from plugin.manage.entries import reason_groups
from plugin.manage.status import new_payment_methods
from plugin.models import AmazonConnection
from plugin.models import AuditEvent
from plugin.models import ConnectionStatus
from plugin.models import EntryState
from plugin.models import Membership
from plugin.models import Organisation
from plugin.models import OrgStatus
from plugin.models import User
from plugin.models import utcnow
from plugin.notify.mail import compose
from plugin.notify.mail import send_message

DIGEST_ACTION = "digest_sent"


# --- Pure: what to report --------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """What needs attention in an organisation right now (compared between digests)."""

    methods: dict[str, str] = field(default_factory=dict)  # key -> label, unmapped and new
    held: dict[str, tuple[str, int]] = field(default_factory=dict)  # code -> (reason, count)
    reconnect: dict[str, str] = field(default_factory=dict)  # "xero" / "amazon:<id>" -> name
    in_review: int = 0  # purchases waiting for the bookkeeper's approval (ledger.review)

    @property
    def empty(self) -> bool:
        """Nothing needs attention."""
        return not (self.methods or self.held or self.reconnect or self.in_review)

    def as_detail(self) -> dict[str, Any]:
        """What the digest's AuditEvent remembers (to tell what is new next time)."""
        return {
            "methods": sorted(self.methods),
            "held": {code: count for code, (_reason, count) in self.held.items()},
            "reconnect": sorted(self.reconnect),
            "in_review": self.in_review,
        }


def is_news(current: Snapshot, previous: dict[str, Any] | None) -> bool:
    """Whether ``current`` has something the last digest (its ``as_detail``) did not report."""
    if current.empty:
        return False
    if previous is None:
        return True
    if set(current.methods) - set(previous.get("methods") or []):
        return True
    if set(current.reconnect) - set(previous.get("reconnect") or []):
        return True
    if current.in_review > int(previous.get("in_review") or 0):
        return True
    before = previous.get("held") or {}
    return any(count > int(before.get(code, 0)) for code, (_r, count) in current.held.items())


def due(last_sent: datetime | None, now: datetime) -> bool:
    """At most one digest per organisation per (UTC) day."""
    return last_sent is None or last_sent.date() < now.date()


@dataclass(frozen=True)
class DigestItem:
    """One thing to fix, with the link that goes straight there."""

    title: str
    detail: str
    url: str


@dataclass(frozen=True)
class Digest:
    """One organisation's digest."""

    org_id: int
    org_name: str
    items: list[DigestItem]
    settings_url: str

    @property
    def subject(self) -> str:
        """The email subject."""
        count = len(self.items)
        things = "1 thing needs" if count == 1 else f"{count} things need"
        return f"{self.org_name}: {things} your attention in Amazon Business for Xero"


def build_digest(org_id: int, org_name: str, base_url: str, snapshot: Snapshot) -> Digest:
    """Turn a snapshot into a digest whose every item links to the page that fixes it."""
    base = base_url.rstrip("/")
    manage = f"{base}/orgs/{org_id}/manage"
    items: list[DigestItem] = []
    if "xero" in snapshot.reconnect:
        items.append(
            DigestItem(
                "Reconnect to Xero",
                "Xero no longer accepts our connection, so nothing is posted until you reconnect.",
                f"{manage}#xero",
            )
        )
    for key, name in sorted(snapshot.reconnect.items()):
        if key != "xero":
            items.append(
                DigestItem(
                    f"Reconnect {name}",
                    "Amazon Business no longer accepts our connection to this store, so its "
                    "purchases are not imported.",
                    f"{manage}#amazon",
                )
            )
    for label in sorted(snapshot.methods.values()):
        items.append(
            DigestItem(
                f"New payment method: {label}",
                "Choose the Xero account its purchases go to; they are held until then.",
                f"{manage}#payment-methods-section",
            )
        )
    if snapshot.in_review:
        count = snapshot.in_review
        noun = "purchase waits" if count == 1 else "purchases wait"
        items.append(
            DigestItem(
                f"{count} {noun} for your review",
                "Review before posting is on for this organisation: nothing of these is in Xero "
                "until you approve it.",
                f"{base}/orgs/{org_id}/review",
            )
        )
    for code, (reason, count) in sorted(snapshot.held.items(), key=lambda kv: -kv[1][1]):
        noun = "purchase is" if count == 1 else "purchases are"
        query = urlencode({"state": "attention", "reason": code})
        items.append(
            DigestItem(f"{count} {noun} waiting: {reason}", "", f"{manage}/entries?{query}")
        )
    return Digest(org_id, org_name, items, f"{manage}#notifications")


# --- Reading the database --------------------------------------------------------------------


def snapshot_of(session: Session, org: Organisation) -> Snapshot:
    """What needs attention in the organisation now."""
    org_id = int(org.id or 0)
    methods = {m.key: m.label or m.key for m in new_payment_methods(session, org_id)}
    held = {g.param: (g.reason, g.count) for g in reason_groups(session, org_id)}
    reconnect: dict[str, str] = {}
    if org.status == OrgStatus.NEEDS_RECONNECT:
        reconnect["xero"] = "Xero"
    for connection in session.exec(
        select(AmazonConnection).where(
            AmazonConnection.organisation_id == org_id,
            AmazonConnection.status == ConnectionStatus.NEEDS_RECONNECT,
        )
    ):
        reconnect[f"amazon:{connection.id}"] = connection.name or f"Amazon {connection.store}"
    in_review = counts_by_state(session, org_id).get(EntryState.REVIEW, 0)
    return Snapshot(methods, held, reconnect, in_review)


def last_digest(session: Session, org_id: int) -> AuditEvent | None:
    """The organisation's most recent digest event."""
    return session.exec(
        select(AuditEvent)
        .where(AuditEvent.organisation_id == org_id, AuditEvent.action == DIGEST_ACTION)
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .limit(1)
    ).first()


MEMBERSHIP_TRUSTED_DAYS = 14


def recipients(session: Session, org_id: int, now: datetime | None = None) -> list[User]:
    """Members of the organisation who want the digest, have an email address, and whose
    membership Xero granted within the last ``MEMBERSHIP_TRUSTED_DAYS`` days.

    A membership is re-verified at each sign-in and, for users whose Xero token the app holds,
    by the daily membership check. A member the app cannot check (no token of theirs, not
    signed in for two weeks) may have lost their access in Xero: they get no digest until they
    sign in again (issue 18 point 2)."""
    cutoff = (now or utcnow()) - timedelta(days=MEMBERSHIP_TRUSTED_DAYS)
    users = session.exec(
        select(User)
        .join(Membership, Membership.user_id == User.id)  # type: ignore[arg-type]
        .where(
            Membership.organisation_id == org_id,
            Membership.notify == True,  # noqa: E712
            col(Membership.verified_at) >= cutoff,
        )
        .order_by(col(User.id))
    )
    return [user for user in users if user.email]


# --- Sending ---------------------------------------------------------------------------------


@dataclass
class DigestResult:
    """What one digest run did for one organisation."""

    org_id: int
    sent: int = 0
    skipped: str = ""


def send_digest(session: Session, app: Flask, org: Organisation, now: datetime) -> DigestResult:
    """Send the organisation's digest to its members if one is due and there is news."""
    org_id = int(org.id or 0)
    result = DigestResult(org_id)
    last = last_digest(session, org_id)
    if not due(last.at if last else None, now):
        result.skipped = "already sent today"
        return result
    current = snapshot_of(session, org)
    if not is_news(current, last.detail if last else None):
        result.skipped = "nothing new"
        return result
    people = recipients(session, org_id)
    if not people:
        result.skipped = "no one wants it"
        return result
    digest = build_digest(org_id, org.name, str(app.config["PUBLIC_URL"]), current)
    for person in people:
        send_message(app, compose(digest, person.email, str(app.config["MAIL_FROM"])))
        result.sent += 1
    session.add(
        AuditEvent(
            organisation_id=org_id,
            at=now,
            actor="notifications",
            action=DIGEST_ACTION,
            detail={**current.as_detail(), "recipients": result.sent},
        )
    )
    session.commit()
    return result


def organisations_to_check(session: Session) -> list[Organisation]:
    """Organisations that may have something to report (not disconnected on purpose)."""
    return list(
        session.exec(
            select(Organisation)
            .where(Organisation.status != OrgStatus.DISCONNECTED)
            .order_by(col(Organisation.id))
        )
    )
