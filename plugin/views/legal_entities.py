"""The Legal entities section (issue 16 point 3), shown in set-up (review) and in Manage
Integrations; members of the organisation only (404 otherwise).

- ``GET  /orgs/<org_id>/legal-entities``: the section (a fragment for HTMX, else a page).
- ``POST /orgs/<org_id>/legal-entities``: save which legal entities the organisation takes
  (CSRF; HTMX answers the section in place). A legal entity another organisation takes is
  refused with a message that names that organisation only to its own members (409).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import current_app
from flask_login import current_user
from flask_login import login_required

from plugin.amazon.forms import LegalEntitiesForm
from plugin.auth.access import current_organisation
from plugin.auth.access import load_organisation_from_url
from plugin.db import get_session
from plugin.infra.forms import valid_or_400
from plugin.infra.htmx import render
from plugin.manage.legal_entity_page import save_choice
from plugin.manage.legal_entity_page import section_context

bp = Blueprint("legal_entities", __name__, url_prefix="/orgs/<int:org_id>/legal-entities")
load_organisation_from_url(bp)

PAGE = "legal_entities/page.html"
FRAGMENT = "partials/legal_entities/_section.html"


def _context() -> dict[str, Any]:
    return section_context(get_session(), current_organisation(), int(current_user.id))


@bp.get("")
@login_required
def section() -> Any:
    """Which legal entities of the account this organisation takes."""
    return render(PAGE, FRAGMENT, **_context())


@bp.post("")
@login_required
def save() -> Any:
    """Take the ticked legal entities, release the others this organisation took."""
    org = current_organisation()
    names = [row.name for row in _context()["entity_rows"]]
    form = valid_or_400(LegalEntitiesForm(names))
    actor = f"user:{current_user.id}"
    outcome = save_choice(current_app, get_session(), org, set(form.entity.data or ()), actor)
    response = render(
        PAGE,
        FRAGMENT,
        status=409 if outcome.refused else 200,
        saved=outcome.message,
        refused=outcome.refused,
        **_context(),
    )
    if outcome.taken or outcome.released:  # the set-up review reads its preview again
        response.headers["HX-Trigger"] = "legal-entities-changed"
    return response
