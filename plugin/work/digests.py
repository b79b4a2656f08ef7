"""The daily digest run: one email per organisation with news, to each member who wants it.

One organisation's digest failing (its mail refused, its data unreadable) never stops the
others: it is logged with the organisation's id and counted in ``failed``.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime
from typing import Any

from flask import Flask
from sqlmodel import Session

from plugin.models import Organisation
from plugin.notify import digest

log = logging.getLogger(__name__)


def send_digests(session: Session, app: Flask, now: datetime) -> dict[str, Any]:
    """Send today's digests (at most one per organisation per day; only when there is news).

    A failure for one organisation (a mail server refusing it, or anything else) is logged and
    counted, and the next organisation's digest goes out all the same.
    """
    sent = skipped = 0
    failed: list[int] = []
    for org_id in [int(org.id or 0) for org in digest.organisations_to_check(session)]:
        try:
            org = session.get(Organisation, org_id)
            if org is None:
                continue
            result = digest.send_digest(session, app, org, now)
        except (smtplib.SMTPException, OSError) as exc:
            session.rollback()
            log.warning("Could not send the digest of org %s: %s", org_id, exc)
            failed.append(org_id)
            continue
        except Exception:
            session.rollback()
            log.exception("The digest of org %s failed", org_id)
            failed.append(org_id)
            continue
        if result.sent:
            sent += result.sent
        else:
            skipped += 1
    return {
        "emails": sent,
        "organisations_skipped": skipped,
        "failed": len(failed),
    }
