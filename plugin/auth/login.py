"""Who is signed in (flask-login): loading users, guarding pages, HTMX-aware redirects.

The session cookie carries the user's random session token (flask-login's alternative id),
never their row id. A new token ends every session of the user: signing out (which so ends
copies of the cookie too), "sign out everywhere", and a membership added or removed.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask
from flask import Response
from flask import redirect
from flask import request
from flask import url_for
from flask_login import LoginManager
from flask_login import UserMixin
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.orm import UOWTransaction
from sqlmodel import select

from plugin.db import get_session
from plugin.infra.htmx import is_htmx_request
from plugin.models import Membership
from plugin.models import User

login_manager = LoginManager()
login_manager.session_protection = "strong"
login_manager.login_message = "Please sign in with Xero to continue."


class SignedInUser(UserMixin):
    """The signed-in user as flask-login sees it (wraps the User row)."""

    def __init__(self, user: User) -> None:
        self.row = user
        self.id = user.id

    def get_id(self) -> str:
        """What the session cookie remembers: the session token, not the row id."""
        return self.row.session_token

    @property
    def name(self) -> str:
        return self.row.name or self.row.email


@login_manager.user_loader
def load_user(token: str) -> SignedInUser | None:
    """The signed-in user whose session token the cookie carries (None: signed out)."""
    if not token:
        return None
    user = get_session().exec(select(User).where(User.session_token == token)).first()
    return SignedInUser(user) if user is not None else None


def new_session_token() -> str:
    """A fresh random session token (43 URL-safe characters; a row id never looks like one)."""
    return secrets.token_urlsafe(32)


def end_every_session(db: Session, user: User) -> None:
    """Give the user a new session token (committed): no cookie issued before signs in again."""
    user.session_token = new_session_token()
    db.add(user)
    db.commit()


@event.listens_for(Session, "before_flush")
def _end_sessions_when_memberships_change(
    session: Session, _flush: UOWTransaction, _instances: Any
) -> None:
    """A membership added or removed ends every session of its user (the sign-in that adds
    memberships signs the user in afterwards, with the new token)."""
    user_ids = {
        row.user_id for row in (*session.new, *session.deleted) if isinstance(row, Membership)
    }
    with session.no_autoflush:
        for user_id in user_ids:
            user = session.get(User, user_id) if user_id is not None else None
            if user is not None and user not in session.deleted:
                user.session_token = new_session_token()


@login_manager.unauthorized_handler
def unauthorized() -> Any:
    """Send signed-out visitors to the landing page (HX-Redirect for HTMX requests)."""
    target = url_for("main.index", next=request.full_path if request.method == "GET" else None)
    if is_htmx_request():
        response = Response(status=401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def init_app(app: Flask) -> None:
    """Attach flask-login."""
    login_manager.init_app(app)
