"""The outbox folder: where mail goes when no SMTP server is configured (``MAIL_OUTBOX_DIR``,
default ``<instance>/outbox``), one ``.eml`` file per message, and reading it back for the
``/outbox`` page of the demo and the tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from flask import Flask

from plugin.config import is_development
from plugin.models import utcnow

ORG_HEADER = "X-Organisation-Id"
"""The header naming the organisation a mail is about (the outbox page shows a member theirs)."""


def outbox_served(app: Flask) -> bool:
    """The ``/outbox`` page exists only in development and only while no SMTP server is
    configured (the mail really goes out otherwise, and the page would show members' mail)."""
    return is_development(app.config) and not app.config.get("SMTP_URL")


def outbox_dir(app: Flask) -> Path:
    """Where mail goes when no SMTP server is configured."""
    configured = app.config.get("MAIL_OUTBOX_DIR")
    return Path(configured) if configured else Path(app.instance_path) / "outbox"


def write(app: Flask, message: EmailMessage) -> Path:
    """Write the message to the outbox folder as a ``.eml`` file; returns its path."""
    folder = outbox_dir(app)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S")
    path = folder / f"{stamp}-{message[ORG_HEADER] or 'x'}-{uuid.uuid4().hex[:8]}.eml"
    path.write_bytes(message.as_bytes(policy=policy.SMTP))
    return path


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
        text = body.get_content() if body is not None else ""
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
