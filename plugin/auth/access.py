"""Who may see what: an organisation is reachable only by its members (404 for everyone else,
so the existence of other organisations is not revealed).

``load_organisation_from_url(bp)`` does it once for a blueprint whose URLs hold ``<org_id>``:
the views find the member's organisation with ``current_organisation()``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import g
from flask import request
from flask_login import current_user
from flask_login.config import EXEMPT_METHODS
from sqlmodel import Session
from sqlmodel import select

from plugin.db import get_session
from plugin.models import AuditEvent
from plugin.models import Membership
from plugin.models import Organisation
from plugin.models import utcnow


def member_organisation(session: Session, user_id: int, org_id: int) -> Organisation | None:
    """The organisation if ``user_id`` is a member of it, else None."""
    statement = (
        select(Organisation)
        .join(Membership, Membership.organisation_id == Organisation.id)  # type: ignore[arg-type]
        .where(Membership.user_id == user_id, Organisation.id == org_id)
    )
    return session.exec(statement).first()


def organisation_or_404(org_id: int) -> Organisation:
    """The signed-in user's organisation ``org_id``; 404 when they are not a member."""
    if not current_user.is_authenticated:
        abort(404)
    org = member_organisation(get_session(), int(current_user.id), org_id)
    if org is None:
        abort(404)
    return org


def load_organisation_from_url(bp: Blueprint) -> None:
    """Load the organisation of ``<org_id>`` once for every view of ``bp``.

    A URL value preprocessor pops ``org_id`` (the views do not take it); then, after the app's
    own checks (CSRF), a signed-out visitor gets what ``login_required`` gives them and anyone
    but a member gets 404, before the view runs.
    """
    bp.url_value_preprocessor(_pop_org_id)
    bp.before_request(_load_organisation)


def current_organisation() -> Organisation:
    """The organisation of this request's URL (see ``load_organisation_from_url``)."""
    org: Organisation = g.organisation
    return org


def _pop_org_id(endpoint: str | None, values: dict[str, Any] | None) -> None:
    g.org_id = values.pop("org_id", None) if values else None


def _load_organisation() -> Any:
    if g.get("org_id") is None or request.method in EXEMPT_METHODS:
        return None
    if not current_user.is_authenticated and not current_app.config.get("LOGIN_DISABLED"):
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    g.organisation = organisation_or_404(int(g.org_id))
    return None


def user_organisations(session: Session, user_id: int) -> list[Organisation]:
    """Every organisation the user is a member of, by name."""
    statement = (
        select(Organisation)
        .join(Membership, Membership.organisation_id == Organisation.id)  # type: ignore[arg-type]
        .where(Membership.user_id == user_id)
        .order_by(Organisation.name)
    )
    return list(session.exec(statement))


REMOVED_SHOWN_DAYS = 30


def removed_memberships(session: Session, user_id: int) -> list[tuple[str, str]]:
    """(organisation name, date) of the user's memberships dropped in the last 30 days because
    their Xero connections no longer granted them (at a sign-in or in the daily check)."""
    statement = (
        select(AuditEvent)
        .where(
            AuditEvent.action == "membership_dropped",
            AuditEvent.actor == f"user:{user_id}",
            AuditEvent.at >= utcnow() - timedelta(days=REMOVED_SHOWN_DAYS),
        )
        .order_by(AuditEvent.at)  # type: ignore[arg-type]
    )
    removed = []
    for event in session.exec(statement):
        detail = event.detail or {}
        name = str(detail.get("organisation") or f"organisation {event.organisation_id}")
        removed.append((name, event.at.strftime("%-d %B %Y")))
    return removed
