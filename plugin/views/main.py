"""The landing page and signing out."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import session
from flask import url_for
from flask_login import logout_user

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> Any:
    """What the app does, and how to start."""
    can_sign_in = "xero.connect" in current_app.view_functions
    return render_template("main/index.html", can_sign_in=can_sign_in)


@bp.post("/logout")
def logout() -> Any:
    """Sign out and forget the session."""
    logout_user()
    session.clear()
    flash("You are signed out.", "success")
    return redirect(url_for("main.index"))
