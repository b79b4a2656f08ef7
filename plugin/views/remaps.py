"""Correcting posted documents after a mapping change (issue 14 point 3).

- ``GET  /orgs/<id>/manage/remap``: the preview: each posted document the current mapping would
  post differently, with exactly what changes.
- ``POST /orgs/<id>/manage/remap``: correct the documents of the preview (CSRF; HTMX or plain).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import current_app
from flask import request
from flask_login import current_user
from flask_login import login_required

from plugin.auth.access import current_organisation
from plugin.auth.access import load_organisation_from_url
from plugin.db import get_session
from plugin.infra.htmx import render
from plugin.manage.remap_page import remap_context
from plugin.manage.remap_page import start_remap

bp = Blueprint("remaps", __name__, url_prefix="/orgs/<int:org_id>/manage/remap")
load_organisation_from_url(bp)

PAGE = "manage/remap.html"
FRAGMENT = "partials/manage/_remap.html"


@bp.get("")
@login_required
def remap() -> Any:
    """Which posted documents the current mapping would change, and how."""
    org = current_organisation()
    return render(PAGE, FRAGMENT, org=org, **remap_context(get_session(), current_app, org))


@bp.post("")
@login_required
def remap_start() -> Any:
    """Correct the documents the member saw in the preview (still differing now)."""
    org = current_organisation()
    context = remap_context(get_session(), current_app, org)
    shown = set(request.form.getlist("transaction_id"))
    ids = [line.transaction_id for line in context["lines"] if line.transaction_id in shown]
    if not ids:
        error = "Nothing to correct: the documents shown no longer differ from the mapping."
        return render(PAGE, FRAGMENT, status=409, org=org, error=error, **context)
    actor = str(getattr(current_user, "email", "") or f"user:{current_user.id}")
    if start_remap(current_app, int(org.id or 0), ids, actor) is None:
        error = "Background work is paused, so the correction cannot start now. Try again shortly."
        return render(PAGE, FRAGMENT, status=503, org=org, error=error, **context)
    message = (
        f"Correcting {len(ids)} documents: each is read in Xero first; reconciled or paid ones "
        "are left as they are and say so on their page."
    )
    return render(PAGE, FRAGMENT, org=org, message=message, started=ids, **context)
