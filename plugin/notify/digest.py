"""The daily digest email: what needs a member's attention in an organisation, and where to fix it.

An organisation's members (those with notifications on) get at most one digest a day, and only
when something is new since the last one: a payment method seen for the first time, more held or
failed entries for a reason, or a connection that needs reconnecting. Each item links to the
exact page that fixes it.

Building the digest is pure (``snapshot_of``, ``is_news``, ``build_digest``); ``gather`` reads the
database and ``send_message`` delivers: through SMTP when ``SMTP_URL`` is set
(``smtp://user:pass@host:587`` upgrades with STARTTLS, ``smtps://`` is TLS from the start,
other ports of ``smtp://`` are plain, for a local relay), else into the
outbox folder (``MAIL_OUTBOX_DIR``, default ``<instance>/outbox``) as ``.eml`` files, which the
``/outbox`` page lists in the demo and the tests.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime
from email.utils import make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from urllib.parse import urlencode
from urllib.parse import urlsplit

from flask import Flask
from flask import render_template
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.models import AmazonConnection
from plugin.models import AuditEvent
from plugin.models import ConnectionStatus
from plugin.models import Membership
from plugin.models import Organisation
from plugin.models import OrgStatus
from plugin.models import User
from plugin.models import utcnow

log = logging.getLogger(__name__)

DIGEST_ACTION = "digest_sent"
ORG_HEADER = "X-Organisation-Id"
SMTP_TIMEOUT = 20
STARTTLS_PORT = 587


# --- Pure: what to report --------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """What needs attention in an organisation right now (compared between digests)."""

    methods: dict[str, str] = field(default_factory=dict)  # key -> label, unmapped and new
    held: dict[str, tuple[str, int]] = field(default_factory=dict)  # code -> (reason, count)
    reconnect: dict[str, str] = field(default_factory=dict)  # "xero" / "amazon:<id>" -> name

    @property
    def empty(self) -> bool:
        """Nothing needs attention."""
        return not (self.methods or self.held or self.reconnect)

    def as_detail(self) -> dict[str, Any]:
        """What the digest's AuditEvent remembers (to tell what is new next time)."""
        return {
            "methods": sorted(self.methods),
            "held": {code: count for code, (_reason, count) in self.held.items()},
            "reconnect": sorted(self.reconnect),
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
    from plugin.manage.services import new_payment_methods
    from plugin.manage.services import reason_groups

    org_id = int(org.id or 0)
    methods = {m.key: m.label or m.key for m in new_payment_methods(session, org_id)}
    held = {g.reason_code: (g.reason, g.count) for g in reason_groups(session, org_id)}
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
    return Snapshot(methods, held, reconnect)


def last_digest(session: Session, org_id: int) -> AuditEvent | None:
    """The organisation's most recent digest event."""
    return session.exec(
        select(AuditEvent)
        .where(AuditEvent.organisation_id == org_id, AuditEvent.action == DIGEST_ACTION)
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .limit(1)
    ).first()


def recipients(session: Session, org_id: int) -> list[User]:
    """Members of the organisation who want the digest and have an email address."""
    users = session.exec(
        select(User)
        .join(Membership, Membership.user_id == User.id)  # type: ignore[arg-type]
        .where(Membership.organisation_id == org_id, Membership.notify == True)  # noqa: E712
        .order_by(col(User.id))
    )
    return [user for user in users if user.email]


# --- Composing and delivering ----------------------------------------------------------------


def compose(digest: Digest, to: str, mail_from: str) -> EmailMessage:
    """The email for one member (plain text, with an HTML alternative)."""
    message = EmailMessage()
    message["Subject"] = digest.subject
    message["From"] = mail_from
    message["To"] = to
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain="amazon-business-for-xero")
    message[ORG_HEADER] = str(digest.org_id)
    message.set_content(render_template("mail/digest.txt", digest=digest))
    message.add_alternative(render_template("mail/digest.html", digest=digest), subtype="html")
    return message


def outbox_dir(app: Flask) -> Path:
    """Where mail goes when no SMTP server is configured."""
    configured = app.config.get("MAIL_OUTBOX_DIR")
    return Path(configured) if configured else Path(app.instance_path) / "outbox"


def send_message(app: Flask, message: EmailMessage) -> None:
    """Deliver through SMTP_URL, or write the message to the outbox folder."""
    url = str(app.config.get("SMTP_URL") or "")
    if url:
        _send_smtp(url, message)
        return
    folder = outbox_dir(app)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S")
    path = folder / f"{stamp}-{message[ORG_HEADER] or 'x'}-{uuid.uuid4().hex[:8]}.eml"
    path.write_bytes(message.as_bytes(policy=policy.SMTP))


def _send_smtp(url: str, message: EmailMessage) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("SMTP_URL must start with smtp:// or smtps://")
    host = parts.hostname or "localhost"
    port = parts.port or (465 if parts.scheme == "smtps" else 587)
    context = ssl.create_default_context()
    server: smtplib.SMTP
    if parts.scheme == "smtps":
        server = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT, context=context)
    else:
        server = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
    with server:
        if parts.scheme == "smtp" and port == STARTTLS_PORT:
            server.starttls(context=context)
        if parts.username:
            server.login(unquote(parts.username), unquote(parts.password or ""))
        server.send_message(message)


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


# --- The outbox page -------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxMail:
    """One mail in the outbox folder, as the outbox page shows it."""

    name: str
    org_id: int | None
    subject: str
    to: str
    date: str
    text: str


def read_outbox(app: Flask, org_ids: Iterable[int]) -> list[OutboxMail]:
    """Mails in the outbox for the given organisations, newest first."""
    wanted = set(org_ids)
    folder = outbox_dir(app)
    if not folder.is_dir():
        return []
    mails: list[OutboxMail] = []
    for path in sorted(folder.glob("*.eml"), reverse=True):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        raw_org = str(message.get(ORG_HEADER) or "")
        org_id = int(raw_org) if raw_org.isdigit() else None
        if org_id not in wanted:
            continue
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""  # type: ignore[attr-defined]
        mails.append(
            OutboxMail(
                path.name,
                org_id,
                str(message.get("Subject", "")),
                str(message.get("To", "")),
                str(message.get("Date", "")),
                str(text),
            )
        )
    return mails
