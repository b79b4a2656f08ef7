"""The daily digest job: one email per organisation with news, to each member who wants it."""

from __future__ import annotations

import logging
import smtplib
from typing import Any

from jobs.context import job_app
from jobs.context import job_context
from plugin.models import utcnow
from plugin.notify import digest as notifications

log = logging.getLogger(__name__)


def send_digests() -> dict[str, Any]:
    """Send today's digests (at most one per organisation per day; only when there is news)."""
    app = job_app()
    now = utcnow()
    sent = skipped = failed = 0
    with job_context() as session:
        for org in notifications.organisations_to_check(session):
            try:
                result = notifications.send_digest(session, app, org, now)
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
