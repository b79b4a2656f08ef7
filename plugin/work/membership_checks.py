"""The daily membership check (issue 18, point 2): drop memberships the user's Xero connections
no longer grant, between sign-ins.

Why this design. Xero lists a user's connections (``GET /connections``, spec §1.7) only for that
user's own access token, and the app holds one token set per consent, on the organisations that
consent connected (``xero_token_group``), not a separate one per user: a refresh token rotates
on every use (§1.4), so a second stored copy of the same token set for the user would be
spent by whichever copy refreshed first and the other would fail with ``invalid_grant``. So the
check reads, for each token set the app holds, whose it is (the ``xero_userid`` claim of its
access token, §1.8), asks Xero for that user's connections with it, and drops that user's
memberships of organisations no longer among them (``membership_dropped`` audit event with the
date; the user's sessions end; the landing page says "Your access to X was removed in Xero on
<date>"). A member whose consent was superseded by another member's (so the app holds no token
of theirs) is checked at their next sign-in only — see docs/reliability.md (not done yet:
refusing such a membership once it is unverified for N days).

One token set failing (Xero down, a token needing reconnect) never stops the others: logged
with the organisation's id and counted.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.models import Organisation
from plugin.models import OrgStatus
from plugin.models import User
from plugin.xero.auth import unverified_claims
from plugin.xero.errors import XeroNeedsReconnect
from plugin.xero.organisations import drop_memberships_not_granted
from plugin.xero.wiring import xero_identity
from plugin.xero.wiring import xero_tokens

log = logging.getLogger(__name__)


def check_memberships(session: Session, app: Flask) -> dict[str, Any]:
    """Check the memberships of every user whose Xero token set the app holds (once per set)."""
    orgs = session.exec(
        select(Organisation)
        .where(
            Organisation.status == OrgStatus.ACTIVE,
            col(Organisation.xero_token_encrypted).is_not(None),
        )
        .order_by(col(Organisation.id))
    ).all()
    token_sets: dict[str, int] = {}
    for org in orgs:
        token_sets.setdefault(org.xero_token_group or f"org-{org.id}", int(org.id or 0))
    checked: set[int] = set()
    dropped: list[str] = []
    failed: list[int] = []
    unusable = 0
    for org_id in token_sets.values():
        try:
            access = xero_tokens(org_id, app).access_token()
            owner = _owner(session, access)
            if owner is None or owner.id in checked:
                continue
            checked.add(int(owner.id or 0))
            dropped += drop_memberships_not_granted(session, owner, xero_identity(app), access)
            session.commit()
        except XeroNeedsReconnect:
            session.rollback()
            unusable += 1  # the organisation's pages already ask for a reconnect
        except Exception:
            session.rollback()
            log.exception("The membership check with the token of org %s failed", org_id)
            failed.append(org_id)
    return {
        "users_checked": len(checked),
        "memberships_dropped": len(dropped),
        "tokens_unusable": unusable,
        "failed": len(failed),
    }


def _owner(session: Session, access_token: str) -> User | None:
    """The user a Xero access token was issued to (its ``xero_userid`` claim)."""
    xero_user_id = unverified_claims(access_token).get("xero_userid")
    if not xero_user_id:
        return None
    return session.exec(select(User).where(User.xero_user_id == str(xero_user_id))).first()
