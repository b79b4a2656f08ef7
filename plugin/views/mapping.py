"""The mapping page: Xero accounts and tax rates for payment methods, expenses, taxes and line
items; used by the wizard and by Manage Integrations (``?from=manage``). Members only (404).

Routes:

- ``GET /orgs/<org_id>/mapping``: the page (``show_page``; the wizard's step
  ``/orgs/<org_id>/setup/mapping`` is ``plugin.views.onboarding``).
- ``GET /orgs/<org_id>/mapping/<section>``: one section (``payment-methods``, ``expenses``,
  ``taxes``, ``line-types``); HTMX gets the fragment (root ``id`` = the section name), a browser
  the whole page. Manage Integrations embeds ``payment-methods`` with ``hx-trigger="load"``.
- ``POST /orgs/<org_id>/mapping/<section>``: save that section; the updated section comes back
  (422 with the problems next to the fields when refused; nothing is saved then).
- ``GET /orgs/<org_id>/mapping/export``: the mapping file (design §7) as a download.
- ``POST /orgs/<org_id>/mapping/import``: upload a mapping file; checked against the chart. The
  file is read by ``mapping.json_text`` (the rules of ``flask mapping-import``), so a malformed
  one is one line naming it, the place and the fault, shown by the upload field (422). The request
  may be a little over the file's 2 MiB (the multipart wrapping), so a file just over 2 MiB is
  refused by name; a larger request is refused before it is read (413 inside Werkzeug), and
  ``too_large`` turns that into the same form error instead of an error page.

Xero not answering while the page is built gives an inline message with a retry button. The
organisation is loaded once for the blueprint (``plugin.auth.access``).
"""

from __future__ import annotations

import json
import re
from typing import Any
from typing import Final

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import g
from flask import redirect
from flask import request
from flask_login import current_user
from flask_login import login_required
from werkzeug.exceptions import NotFound
from werkzeug.exceptions import RequestEntityTooLarge

from plugin.auth.access import current_organisation
from plugin.auth.access import load_organisation_from_url
from plugin.auth.access import member_organisation
from plugin.db import get_session
from plugin.infra.errors import handle_http_error
from plugin.infra.forms import first_error
from plugin.infra.htmx import render
from plugin.infra.outages import OUTAGES
from plugin.infra.outages import Outage
from plugin.infra.outages import explain
from plugin.manage.org_actions import refusal_for
from plugin.mapping.files import dump_mapping
from plugin.mapping.forms import SECTIONS
from plugin.mapping.forms import MappingFileForm
from plugin.mapping.forms import section_form
from plugin.mapping.json_text import MAX_FILE_BYTES
from plugin.mapping.page import MappingInputs
from plugin.mapping.page import MappingPage
from plugin.mapping.page import build_page
from plugin.mapping.page import load_inputs
from plugin.mapping.page import stored_mapping
from plugin.mapping.sections import FileImport
from plugin.mapping.sections import import_file
from plugin.mapping.sections import save_section
from plugin.models import OnboardingStep
from plugin.models import Organisation
from plugin.onboarding import wizard
from plugin.onboarding.steps import next_step_url

bp = Blueprint("mapping", __name__, url_prefix="/orgs/<int:org_id>/mapping")
load_organisation_from_url(bp)

PAGE: Final = "mapping/page.html"
SECTION_TEMPLATES: Final = {
    "payment-methods": "partials/mapping/_payment_methods.html",
    "expenses": "partials/mapping/_expenses.html",
    "taxes": "partials/mapping/_taxes.html",
    "line-types": "partials/mapping/_line_types.html",
    "tracking": "partials/mapping/_tracking.html",
}
ALL_SECTIONS: Final = "partials/mapping/_sections.html"
UPLOAD_ENDPOINT: Final = "mapping.import_"
UPLOAD_REQUEST_BYTES: Final = MAX_FILE_BYTES + 64 * 1024
"""The largest import request read: the file's limit plus room for the multipart wrapping."""
TOO_LARGE: Final = (
    f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB, the most accepted: "
    "it was not read. A mapping file exported from this app is a few kilobytes."
)


@bp.url_value_preprocessor
def _upload_limit(endpoint: str | None, values: dict[str, Any] | None) -> None:
    # Before the app's CSRF check reads the form, so the limit applies to that first read.
    if endpoint == UPLOAD_ENDPOINT:
        request.max_content_length = UPLOAD_REQUEST_BYTES


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> Any:
    """An import request over the limit: the form error, for a member; elsewhere the 413 page.

    Werkzeug refuses it while the CSRF check reads the form, before the organisation is loaded,
    so membership is checked here; nothing is read or changed, so no CSRF token is needed.
    """
    org_id = g.get("org_id")
    if request.endpoint != UPLOAD_ENDPOINT or org_id is None or not current_user.is_authenticated:
        return handle_http_error(error)
    org = member_organisation(get_session(), int(current_user.id), int(org_id))
    if org is None:  # as for any URL of an organisation one is not a member of
        return handle_http_error(NotFound())
    return _import_answer(org, FileImport(False, [TOO_LARGE]))


def _actor() -> str:
    return f"user:{current_user.id}"


def _from_manage() -> bool:
    return request.args.get("from") == "manage"


def _render(
    org: Organisation,
    fragment: str,
    page: MappingPage | None = None,
    status: int = 200,
    outage: Outage | None = None,
    rechecking: int | None = None,
    **extra: Any,
) -> Response:
    manage = _from_manage() or org.onboarding_step == OnboardingStep.DONE
    return render(
        PAGE,
        fragment,
        status=status,
        org=org,
        view=page,
        outage=outage,
        manage=manage,
        query="?from=manage" if _from_manage() else "",
        steps=wizard.steps(org, OnboardingStep.MAP_ACCOUNTS),
        rechecking=rechecking,
        **extra,
    )


def _inputs(org: Organisation) -> MappingInputs | Outage:
    refusal = refusal_for(org, "changing the mapping")
    if refusal is not None:  # every section shows it instead of its form; saves are refused
        return Outage("The mapping cannot change now", refusal, retry=False)
    try:
        return load_inputs(current_app, get_session(), org)
    except OUTAGES as exc:
        current_app.logger.warning("mapping page of org %s: %s", org.id, type(exc).__name__)
        return explain(exc)


def _section_or_404(section: str) -> str:
    if section not in SECTIONS:
        abort(404)
    return SECTION_TEMPLATES[section]


def show_page(org: Organisation) -> Any:
    """The whole mapping page (the wizard's step sends the user back until it is reached)."""
    if not _from_manage() and not wizard.reached(org, OnboardingStep.MAP_ACCOUNTS):
        return redirect(next_step_url(org))
    inputs = _inputs(org)
    if isinstance(inputs, Outage):
        return _render(org, PAGE, status=503, outage=inputs)
    return _render(org, PAGE, build_page(inputs))


@bp.get("")
@login_required
def page() -> Any:
    """The mapping page (from Manage Integrations: ``?from=manage``)."""
    return show_page(current_organisation())


@bp.get("/<section>")
@login_required
def section(section: str) -> Any:
    """One section of the mapping page (HTMX fragment) or the whole page."""
    org = current_organisation()
    fragment = _section_or_404(section)
    inputs = _inputs(org)
    if isinstance(inputs, Outage):
        return _render(org, fragment, status=503, outage=inputs, section_id=section)
    return _render(org, fragment, build_page(inputs), section_id=section)


@bp.post("/<section>")
@login_required
def save(section: str) -> Any:
    """Save one section; answer with it (problems next to the fields, 422, when refused)."""
    org = current_organisation()
    fragment = _section_or_404(section)
    inputs = _inputs(org)
    if isinstance(inputs, Outage):
        return _render(org, fragment, status=503, outage=inputs, section_id=section)
    form = section_form(section, inputs.methods, request.form)
    result = save_section(get_session(), org, inputs, section, form, _actor())
    return _render(
        org, fragment, result.page, result.status, rechecking=result.rechecking, section_id=section
    )


@bp.get("/export")
@login_required
def export() -> Any:
    """Download the mapping (design §7 format, version 2)."""
    org = current_organisation()
    mapping, _unreadable = stored_mapping(get_session(), int(org.id or 0))
    body = json.dumps(dump_mapping(mapping), indent=2, ensure_ascii=False) + "\n"
    name = re.sub(r"[^A-Za-z0-9]+", "-", org.name).strip("-").lower() or f"org-{org.id}"
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="amazon-business-mapping-{name}.json"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/import")
@login_required
def import_() -> Any:
    """Import a mapping file; every problem is listed when it is refused."""
    org = current_organisation()
    inputs = _inputs(org)
    if isinstance(inputs, Outage):
        return _render(org, ALL_SECTIONS, status=503, outage=inputs)
    form = MappingFileForm()
    if form.validate():
        upload = form.mapping_file.data
        # One line with single spaces, as the command prints its messages.
        source = " ".join(str(upload.filename or "").split())[:120] or "mapping.json"
        outcome = import_file(get_session(), org, inputs, source, upload.read(), _actor())
    else:
        outcome = FileImport(False, [first_error(form)])
    return _import_answer(org, outcome, inputs)


def _import_answer(
    org: Organisation, outcome: FileImport, inputs: MappingInputs | None = None
) -> Any:
    """The mapping sections after an import: the outcome by the upload field (422 if refused)."""
    if inputs is None or outcome.ok:  # not read yet, or changed by the import
        fresh = _inputs(org)
        if isinstance(fresh, Outage):
            return _render(org, ALL_SECTIONS, status=503, outage=fresh)
        inputs = fresh
    page = build_page(inputs)
    return _render(
        org,
        ALL_SECTIONS,
        page,
        200 if outcome.ok else 422,
        rechecking=outcome.rechecking,
        transfer_result=outcome,
    )
