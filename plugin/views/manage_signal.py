"""``GET /orgs/<id>/manage/signal``: the change signal of Manage Integrations
(``plugin.manage.change_signal``), asked for every 2 seconds by ``static/js/manage_signal.js``.

Its own small blueprint under the same URL prefix (``plugin/views/manage.py`` is at its size
limit); members only, like every organisation route.
"""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import jsonify
from flask_login import login_required

from plugin.auth.access import current_organisation
from plugin.auth.access import load_organisation_from_url
from plugin.db import get_session
from plugin.manage import change_signal

bp = Blueprint("manage_signal", __name__, url_prefix="/orgs/<int:org_id>/manage")
load_organisation_from_url(bp)


@bp.get("/signal")
@login_required
def signal() -> Response:
    """The fingerprint of each part of the page; never cached."""
    org = current_organisation()
    response = jsonify(change_signal.page_fingerprints(get_session(), current_app, org))
    response.headers["Cache-Control"] = "no-store"
    return response
