"""The landing page and signing out."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import session
from flask import url_for
from flask_login import current_user
from flask_login import logout_user

from plugin.auth.access import removed_memberships
from plugin.auth.access import user_organisations
from plugin.auth.login import end_every_session
from plugin.db import get_session
from plugin.onboarding.steps import next_step_url

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> Any:
    """What the app does, and how to start."""
    organisations = []
    removed: list[tuple[str, str]] = []
    if current_user.is_authenticated:
        organisations = user_organisations(get_session(), int(current_user.id))
        removed = removed_memberships(get_session(), int(current_user.id))
    return render_template(
        "main/index.html",
        organisations=organisations,
        removed=removed,
        next_step_url=next_step_url,
    )


@bp.post("/logout")
def logout() -> Any:
    """Sign out and forget the session; a new session token ends every copy of the cookie."""
    if current_user.is_authenticated:
        end_every_session(get_session(), current_user.row)
    logout_user()
    session.clear()
    flash("You are signed out.", "success")
    return redirect(url_for("main.index"))
