"""Who is signed in (flask-login): loading users, guarding pages, HTMX-aware redirects."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask import Response
from flask import redirect
from flask import request
from flask import url_for
from flask_login import LoginManager
from flask_login import UserMixin

from plugin.db import get_session
from plugin.infra.htmx import is_htmx_request
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
        return str(self.id)

    @property
    def name(self) -> str:
        return self.row.name or self.row.email


@login_manager.user_loader
def load_user(user_id: str) -> SignedInUser | None:
    """The signed-in user for a session cookie's id."""
    try:
        user = get_session().get(User, int(user_id))
    except ValueError:
        return None
    return SignedInUser(user) if user is not None else None


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
