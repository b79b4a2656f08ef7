"""Who may see what: an organisation is reachable only by its members (404 for everyone else,
so the existence of other organisations is not revealed)."""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlmodel import Session
from sqlmodel import select

from plugin.db import get_session
from plugin.models import Membership
from plugin.models import Organisation


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


def user_organisations(session: Session, user_id: int) -> list[Organisation]:
    """Every organisation the user is a member of, by name."""
    statement = (
        select(Organisation)
        .join(Membership, Membership.organisation_id == Organisation.id)  # type: ignore[arg-type]
        .where(Membership.user_id == user_id)
        .order_by(Organisation.name)
    )
    return list(session.exec(statement))
