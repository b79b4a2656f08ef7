"""Connecting an organisation to Amazon Business, store by store (design §1 step 3).

Routes (members of the organisation only; everyone else gets 404):

- ``GET /orgs/<org_id>/amazon``: the region picker and the org's store connections.
- ``POST /orgs/<org_id>/amazon``: start consent for the chosen store (redirect to Amazon).
- ``GET /amazon/callback``: Amazon's redirect back; verify state, exchange the code at once.
- ``POST /orgs/<org_id>/amazon/<connection_id>/name``: rename a connection (form or HTMX).

The organisation of ``<org_id>`` is loaded once for ``bp`` (``plugin.auth.access``). The
callback is on its own blueprint, ``callback_bp``: its URL is the redirect URI registered with
Amazon and carries no organisation (that comes from the state).

Views stay thin: state handling is ``plugin.auth.oauth_state``, everything else
``plugin.amazon.consent``. The callback answers with ``Referrer-Policy: no-referrer`` whatever
happens (the URL carries the authorization code). The picker page widens CSP ``form-action``
to the stores' consent origins, because the POST that starts consent ends in a redirect there.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from plugin.amazon.connections import InvalidName
from plugin.amazon.connections import connection_of
from plugin.amazon.connections import connections_of
from plugin.amazon.connections import rename_connection
from plugin.amazon.consent import ConsentProblem
from plugin.amazon.consent import complete_consent
from plugin.amazon.consent import consent_redirect
from plugin.amazon.consent import explain_consent_error
from plugin.amazon.consent import explain_exchange_failure
from plugin.amazon.consent import next_step_after_amazon
from plugin.amazon.disconnect import WITHDRAW_AT_AMAZON
from plugin.amazon.disconnect import disconnect_store
from plugin.amazon.errors import AmazonError
from plugin.amazon.forms import RenameConnectionForm
from plugin.amazon.forms import StoreForm
from plugin.amazon.regions import Store
from plugin.amazon.regions import UnknownStore
from plugin.amazon.regions import consent_origins
from plugin.amazon.regions import default_store_code
from plugin.amazon.regions import picker_stores
from plugin.amazon.regions import store_for
from plugin.amazon.settings import AmazonSettings
from plugin.auth import oauth_state
from plugin.auth.access import current_organisation
from plugin.auth.access import load_organisation_from_url
from plugin.auth.access import organisation_or_404
from plugin.auth.access import user_organisations
from plugin.auth.oauth_state import StateError
from plugin.db import get_session
from plugin.infra.forms import ConfirmForm
from plugin.infra.forms import first_error
from plugin.infra.forms import valid_or_400
from plugin.infra.htmx import is_htmx_request
from plugin.infra.htmx import render
from plugin.models import Organisation
from plugin.security import set_security_headers
from plugin.security import token_cipher

bp = Blueprint("amazon", __name__, url_prefix="/orgs/<int:org_id>/amazon")
load_organisation_from_url(bp)
callback_bp = Blueprint("amazon_callback", __name__, url_prefix="/amazon")

FLOW = "amazon"


def _settings() -> AmazonSettings:
    return AmazonSettings.from_config(current_app.config)


def consent_form_targets() -> str:
    """The CSP ``form-action`` sources a page needs whose forms end on Amazon's consent pages
    (``amazon.start`` redirects there: Chromium checks form-action on the redirect too)."""
    return " " + " ".join(consent_origins(_settings().consent_url_template))


@callback_bp.after_request
def _no_referrer_on_callback(response: Response) -> Response:
    """The callback URL holds the authorization code: never let it leak as a Referer."""
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _connect_page(org: Organisation, status: int = 200, error: str = "") -> Response:
    settings = _settings()
    connections = connections_of(get_session(), int(org.id or 0))
    connected = {c.store for c in connections}
    stores = picker_stores()
    html = render_template(
        "amazon/connect.html",
        org=org,
        connections=connections,
        stores=stores,
        default_store=default_store_code(org.country, [store.code for store in stores]),
        connected=connected,
        configured=bool(settings.client_id and settings.application_id),
        error=error,
    )
    response = Response(html, status=status)
    targets = " " + " ".join(consent_origins(settings.consent_url_template))
    return set_security_headers(response, form_targets=targets)


@bp.get("")
@login_required
def connect_page() -> Response:
    """Pick an Amazon Business store to connect; list the stores already connected."""
    return _connect_page(current_organisation())


@bp.post("")
@login_required
def start() -> Any:
    """Send the browser to the chosen store's consent page with a fresh single-use state."""
    org = current_organisation()
    settings = _settings()
    if not (settings.client_id and settings.application_id):
        return _connect_page(
            org,
            503,
            "Amazon Business is not configured on this server yet (AMAZON_CLIENT_ID, "
            "AMAZON_CLIENT_SECRET and AMAZON_APPLICATION_ID). Ask the person who runs it.",
        )
    form = StoreForm()
    if not form.validate() or form.chosen is None:
        return _connect_page(org, 400, first_error(form))
    store = form.chosen
    state = oauth_state.issue(FLOW, org_id=org.id, store=store.code)
    return redirect(consent_redirect(settings, store, state), code=303)


def _problem_page(
    problem: ConsentProblem, org: Organisation | None, store: Store | None, status: int
) -> Response:
    if org is None:
        orgs = user_organisations(get_session(), int(current_user.id))
        org = orgs[0] if len(orgs) == 1 else None
    html = render_template("amazon/problem.html", problem=problem, org=org, store=store)
    response = Response(html, status=status)
    if org is not None:
        settings = _settings()
        targets = " " + " ".join(consent_origins(settings.consent_url_template))
        set_security_headers(response, form_targets=targets)
    return response


@callback_bp.get("/callback")
@login_required
def callback() -> Any:
    """Amazon's redirect back: check state, explain errors, or exchange the code at once."""
    try:
        data = oauth_state.consume(FLOW, request.args.get("state"))
    except StateError as exc:
        problem = ConsentProblem(
            "This Amazon sign-in cannot be used",
            str(exc),
            "Nothing was connected. Start connecting the store again from this app.",
        )
        return _problem_page(problem, None, None, 400)
    org = organisation_or_404(int(data.get("org_id") or 0))
    try:
        store = store_for(str(data.get("store") or ""))
    except UnknownStore:
        return _problem_page(
            ConsentProblem(
                "This Amazon sign-in cannot be used",
                "The sign-in was started for a store this app no longer offers.",
                "Pick the store again and start over.",
            ),
            org,
            None,
            400,
        )
    if request.args.get("error"):
        problem = explain_consent_error(
            request.args.get("error", ""), request.args.get("error_description", "")
        )
        return _problem_page(problem, org, store, 400)
    code = request.args.get("code", "")
    if not code:
        problem = ConsentProblem(
            "Amazon sent no sign-in code",
            "Amazon came back without the code this app needs, so nothing was connected.",
            "Start again and choose Allow on Amazon's page.",
        )
        return _problem_page(problem, org, store, 400)
    try:
        result = complete_consent(
            get_session(),
            _settings(),
            token_cipher(current_app),
            org,
            store,
            code,
            actor=f"user:{current_user.id}",
        )
    except AmazonError as exc:
        current_app.logger.warning("Amazon code exchange failed for org %s: %s", org.id, exc)
        return _problem_page(explain_exchange_failure(exc), org, store, 502)
    name = result.connection.name
    if result.reconnected:
        flash(f"{name} is connected again. Imports carry on from where they stopped.", "success")
    else:
        flash(f"{name} is connected.", "success")
    return redirect(next_step_after_amazon(org))


@bp.post("/<int:connection_id>/name")
@login_required
def rename(connection_id: int) -> Any:
    """Rename a store connection; HTMX gets the updated row, a plain form a redirect."""
    org = current_organisation()
    session = get_session()
    connection = connection_of(session, int(org.id or 0), connection_id)
    if connection is None:
        abort(404)
    form = valid_or_400(RenameConnectionForm())
    error = ""
    try:
        rename_connection(session, connection, form.name.data or "")
    except InvalidName as exc:
        error = str(exc)
    if not is_htmx_request():
        flash(error or f"Renamed to {connection.name}.", "error" if error else "success")
        return redirect(url_for("amazon.connect_page", org_id=org.id))
    return render(
        "amazon/connect.html",
        "partials/_amazon_connection.html",
        status=400 if error else 200,
        org=org,
        connection=connection,
        rename_error=error,
    )


@bp.get("/<int:connection_id>/disconnect")
@login_required
def confirm_disconnect(connection_id: int) -> Any:
    """Say what disconnecting one store does before doing it."""
    org = current_organisation()
    connection = connection_of(get_session(), int(org.id or 0), connection_id)
    if connection is None:
        abort(404)
    return render_template(
        "amazon/disconnect.html", org=org, connection=connection, withdraw=WITHDRAW_AT_AMAZON
    )


@bp.post("/<int:connection_id>/disconnect")
@login_required
def disconnect(connection_id: int) -> Any:
    """Disconnect one store: its tokens deleted, its purchases kept; back to Manage."""
    org = current_organisation()
    valid_or_400(ConfirmForm())
    session = get_session()
    connection = connection_of(session, int(org.id or 0), connection_id)
    if connection is None:
        abort(404)
    disconnect_store(session, connection, f"user:{current_user.id}")
    flash(
        f"{connection.name} is disconnected: nothing more is imported from it. Its purchases "
        f"are kept. {WITHDRAW_AT_AMAZON}",
        "success",
    )
    return redirect(url_for("manage.page", org_id=org.id) + "#amazon")
