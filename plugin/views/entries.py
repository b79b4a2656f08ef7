"""One ledger entry: the page Xero documents link to (``Url``, "Go to ..." in Xero).

``GET /orgs/<org_id>/entries/<transaction_id>``: members of the organisation only (404 for
everyone else, and for a transaction the organisation does not have). Shows the state and the
reason in plain words, the Xero document, the amounts and the line items as Amazon sent them.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import render_template
from flask_login import login_required
from sqlmodel import select

from plugin.access import organisation_or_404
from plugin.db import get_session
from plugin.entry_view import describe
from plugin.models import LedgerEntry
from plugin.models import PaymentMethod

bp = Blueprint("entries", __name__)


@bp.get("/orgs/<int:org_id>/entries/<transaction_id>")
@login_required
def entry(org_id: int, transaction_id: str) -> Any:
    """The ledger entry of one Amazon Business transaction."""
    org = organisation_or_404(org_id)
    session = get_session()
    found = session.exec(
        select(LedgerEntry).where(
            LedgerEntry.organisation_id == org.id,
            LedgerEntry.amazon_transaction_id == transaction_id,
        )
    ).first()
    if found is None:
        abort(404)
    method = session.exec(
        select(PaymentMethod).where(
            PaymentMethod.organisation_id == org.id,
            PaymentMethod.key == (found.payment_method_key or ""),
        )
    ).first()
    return render_template("entries/entry.html", org=org, view=describe(found, method))
