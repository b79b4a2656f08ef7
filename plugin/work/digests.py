"""The daily digest run: one email per organisation with news, to each member who wants it."""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime
from typing import Any

from flask import Flask
from sqlmodel import Session

from plugin.notify import digest

log = logging.getLogger(__name__)


def send_digests(session: Session, app: Flask, now: datetime) -> dict[str, Any]:
    """Send today's digests (at most one per organisation per day; only when there is news).

    A mail server that refuses one organisation's digest does not stop the others.
    """
    sent = skipped = failed = 0
    for org in digest.organisations_to_check(session):
        try:
            result = digest.send_digest(session, app, org, now)
        except (smtplib.SMTPException, OSError) as exc:
            session.rollback()
            log.warning("Could not send the digest of org %s: %s", org.id, exc)
            failed += 1
            continue
        if result.sent:
            sent += result.sent
        else:
            skipped += 1
    return {"emails": sent, "organisations_skipped": skipped, "failed": failed}
