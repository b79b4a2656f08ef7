"""Rolling back an import run from the import history (issue 14 point 4).

- ``GET  /orgs/<id>/manage/imports/<run>/rollback``: what a rollback does (or did), per
  transaction; while it runs the fragment polls itself.
- ``POST /orgs/<id>/manage/imports/<run>/rollback``: start it (CSRF; HTMX or a plain form).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import current_app
from flask_login import current_user
from flask_login import login_required

from plugin.auth.access import current_organisation
from plugin.auth.access import load_organisation_from_url
from plugin.db import get_session
from plugin.infra.htmx import render
from plugin.manage.manual_import import import_run_of
from plugin.manage.rollback_page import rollback_context
from plugin.manage.rollback_page import start_rollback

bp = Blueprint("rollbacks", __name__, url_prefix="/orgs/<int:org_id>/manage/imports")
load_organisation_from_url(bp)

PAGE = "manage/rollback.html"
FRAGMENT = "partials/manage/_rollback.html"


def _run_or_404(run_id: int) -> Any:
    org = current_organisation()
    run = import_run_of(get_session(), int(org.id or 0), run_id)
    if run is None:
        abort(404)
    return org, run


@bp.get("/<int:run_id>/rollback")
@login_required
def rollback(run_id: int) -> Any:
    """What rolling the run back does, or did."""
    org, run = _run_or_404(run_id)
    return render(PAGE, FRAGMENT, org=org, **rollback_context(get_session(), run))


@bp.post("/<int:run_id>/rollback")
@login_required
def rollback_start(run_id: int) -> Any:
    """Start rolling the run back."""
    org, run = _run_or_404(run_id)
    session = get_session()
    context = rollback_context(session, run)
    if not context["can_roll_back"]:
        error = "Nothing of this import can be rolled back now."
        return render(PAGE, FRAGMENT, status=409, org=org, error=error, **context)
    actor = str(getattr(current_user, "email", "") or f"user:{current_user.id}")
    queued = start_rollback(current_app, int(org.id or 0), run, actor)
    if queued is None:
        error = "Background work is paused, so the rollback cannot start now. Try again shortly."
        return render(PAGE, FRAGMENT, status=503, org=org, error=error, **context)
    context = {**rollback_context(session, run), "working": True}
    message = "Rollback started: each document is checked in Xero before it is removed."
    return render(PAGE, FRAGMENT, org=org, message=message, **context)
