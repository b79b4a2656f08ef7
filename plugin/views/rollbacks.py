"""Rolling back an import run or a posting run from the history on Manage (issue 14 point 4).

- ``GET  /orgs/<id>/manage/imports/<run>/rollback``: what a rollback of the import does (or
  did), per transaction; while it runs the fragment polls itself.
- ``POST /orgs/<id>/manage/imports/<run>/rollback``: start it (CSRF; HTMX or a plain form);
  ``afterwards=hold`` holds the purchases afterwards instead of posting them again.
- ``GET|POST /orgs/<id>/manage/postings/<run>/rollback``: the same for a posting run.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import request
from flask_login import current_user
from flask_login import login_required

from plugin.auth.access import current_organisation
from plugin.auth.access import load_organisation_from_url
from plugin.db import get_session
from plugin.infra.htmx import render
from plugin.manage.manual_import import import_run_of
from plugin.manage.rollback_page import rollback_context
from plugin.manage.rollback_page import start_rollback
from plugin.work.posting_runs import posting_run_of

bp = Blueprint("rollbacks", __name__, url_prefix="/orgs/<int:org_id>/manage")
load_organisation_from_url(bp)

PAGE = "manage/rollback.html"
FRAGMENT = "partials/manage/_rollback.html"


def _run_or_404(kind: str, run_id: int) -> Any:
    org = current_organisation()
    find = posting_run_of if kind == "posting" else import_run_of
    run = find(get_session(), int(org.id or 0), run_id)
    if run is None:
        abort(404)
    return org, run


def _show(kind: str, run_id: int) -> Any:
    org, run = _run_or_404(kind, run_id)
    return render(PAGE, FRAGMENT, org=org, **rollback_context(get_session(), run))


def _start(kind: str, run_id: int) -> Any:
    org, run = _run_or_404(kind, run_id)
    session = get_session()
    context = rollback_context(session, run)
    if not context["can_roll_back"]:
        error = f"Nothing of this {context['noun']} can be rolled back now."
        return render(PAGE, FRAGMENT, status=409, org=org, error=error, **context)
    actor = str(getattr(current_user, "email", "") or f"user:{current_user.id}")
    hold_after = request.form.get("afterwards") == "hold"
    queued = start_rollback(current_app, int(org.id or 0), run, actor, hold_after)
    if queued is None:
        error = "Background work is paused, so the rollback cannot start now. Try again shortly."
        return render(PAGE, FRAGMENT, status=503, org=org, error=error, **context)
    context = {**rollback_context(session, run), "working": True}
    message = "Rollback started: each document is checked in Xero before it is removed."
    return render(PAGE, FRAGMENT, org=org, message=message, **context)


@bp.get("/imports/<int:run_id>/rollback")
@login_required
def rollback(run_id: int) -> Any:
    """What rolling the import back does, or did."""
    return _show("import", run_id)


@bp.post("/imports/<int:run_id>/rollback")
@login_required
def rollback_start(run_id: int) -> Any:
    """Start rolling the import back."""
    return _start("import", run_id)


@bp.get("/postings/<int:run_id>/rollback")
@login_required
def posting_rollback(run_id: int) -> Any:
    """What rolling the posting run back does, or did."""
    return _show("posting", run_id)


@bp.post("/postings/<int:run_id>/rollback")
@login_required
def posting_rollback_start(run_id: int) -> Any:
    """Start rolling the posting run back."""
    return _start("posting", run_id)
