"""The tie-out report (issue 16 point 5), reached from Manage Integrations.

- ``GET /orgs/<id>/manage/tie-out``: per month and payment method, Amazon's total against what
  is in Xero, held (by reason) and waiting, the difference, each figure linked to its entries,
  and a chart of the months.
- ``GET /orgs/<id>/manage/tie-out.csv``: the same figures as a CSV download.

Members of the organisation only (404 for everyone else); both are reads, with no form.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import Response
from flask import render_template
from flask_login import login_required

from plugin.auth.access import current_organisation
from plugin.auth.access import load_organisation_from_url
from plugin.db import get_session
from plugin.manage.tie_out_page import report_context
from plugin.manage.tie_out_page import report_csv
from plugin.models import utcnow

bp = Blueprint("tie_out", __name__, url_prefix="/orgs/<int:org_id>/manage")
load_organisation_from_url(bp)


@bp.get("/tie-out")
@login_required
def report() -> Any:
    """The tie-out report page."""
    org = current_organisation()
    return render_template("manage/tie_out.html", org=org, **report_context(get_session(), org))


@bp.get("/tie-out.csv")
@login_required
def download() -> Response:
    """The tie-out report as CSV."""
    org = current_organisation()
    name = f"tie-out-{org.id}-{utcnow():%Y-%m-%d}.csv"
    return Response(
        report_csv(get_session(), org),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
