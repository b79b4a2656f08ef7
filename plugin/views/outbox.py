"""``GET /outbox``: the demo's mail, the digests written to the outbox folder for the signed-in
user's organisations (only in development with no SMTP server configured; 404 otherwise)."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import render_template
from flask_login import current_user
from flask_login import login_required

from plugin.auth.access import user_organisations
from plugin.db import get_session
from plugin.notify.outbox import outbox_served
from plugin.notify.outbox import read_outbox

bp = Blueprint("outbox", __name__, url_prefix="/outbox")


@bp.get("")
@login_required
def page() -> str:
    """The digests in the outbox folder for the user's organisations, newest first."""
    if not outbox_served(current_app):
        abort(404)
    orgs = user_organisations(get_session(), int(current_user.id))
    mails = read_outbox(current_app, [int(o.id or 0) for o in orgs])
    return render_template("manage/outbox.html", mails=mails, orgs={o.id: o for o in orgs})
