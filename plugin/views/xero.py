"""Sign up / sign in with Xero, the organisation picker, disconnect and account deletion.

The App Store launch URL is ``/xero/connect``. The callback verifies ``state`` (single use, bound
to this browser) and the id_token, signs the user in and records the organisations authorised
in this consent; then the user continues to Amazon Business. The organisation of the
``/xero/orgs/<org_id>/...`` routes is loaded once for the blueprint (``plugin.auth.access``).
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import redis
from flask import Blueprint
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_login import current_user
from flask_login import login_required
from flask_login import login_user
from flask_login import logout_user

from plugin.auth import oauth_state
from plugin.auth.access import current_organisation
from plugin.auth.access import load_organisation_from_url
from plugin.auth.access import organisation_or_404
from plugin.auth.access import user_organisations
from plugin.auth.login import SignedInUser
from plugin.auth.login import end_every_session
from plugin.auth.token_store import read_xero_token
from plugin.db import get_session
from plugin.infra.forms import ConfirmForm
from plugin.infra.forms import valid_or_400
from plugin.infra.keys import post_job_id
from plugin.infra.placed_flash import flash_at
from plugin.infra.queues import enqueue_once
from plugin.models import OnboardingStep
from plugin.models import Organisation
from plugin.models import User
from plugin.onboarding.steps import next_step_url
from plugin.security import token_cipher
from plugin.xero import contact
from plugin.xero import organisations
from plugin.xero.errors import IdTokenError
from plugin.xero.errors import XeroError
from plugin.xero.errors import XeroTokenError
from plugin.xero.wiring import xero_client
from plugin.xero.wiring import xero_identity

log = logging.getLogger(__name__)

bp = Blueprint("xero", __name__, url_prefix="/xero")
load_organisation_from_url(bp)
CONSENT_ORGS_KEY = "consent_org_ids"


def _problem(title: str, message: str, status: int = 400) -> Any:
    return (
        render_template(
            "errors/error.html",
            title=title,
            message=message,
            retry_url=url_for("xero.connect"),
            status=status,
        ),
        status,
    )


@bp.get("/connect")
def connect() -> Any:
    """Start the Xero consent (App Store launch URL and "Sign in with Xero")."""
    nonce = secrets.token_urlsafe(24)
    state = oauth_state.issue("xero", nonce=nonce)
    return redirect(xero_identity().authorization_url(state, nonce))


@bp.get("/callback")
def callback() -> Any:
    """Xero sends the browser back here with ``code`` and ``state`` (or an ``error``)."""
    error = request.args.get("error")
    try:
        stored = oauth_state.consume("xero", request.args.get("state"))
    except oauth_state.StateError as exc:
        if error:
            return _problem("Sign-in cancelled", "Nothing was connected.", 400)
        return _problem("We could not complete the sign-in", str(exc))
    if error:
        if error == "access_denied":
            return _problem(
                "You cancelled the connection",
                "Nothing was connected to Xero. You can start again whenever you are ready.",
                200,
            )
        description = request.args.get("error_description") or error
        return _problem("Xero did not connect", f"Xero said: {description}")
    code = request.args.get("code")
    if not code:
        return _problem("We could not complete the sign-in", "Xero sent no authorisation code.")

    identity = xero_identity()
    try:
        # A state always carries its nonce; one without would match no id_token.
        sign_in = identity.sign_in(code, nonce=str(stored.get("nonce") or ""))
        outcome = organisations.record_consent(
            get_session(), sign_in, identity, token_cipher(current_app)
        )
    except IdTokenError as exc:
        log.warning("Rejected a Xero sign-in: %s", exc.message)
        return _problem("We could not verify your Xero sign-in", exc.message)
    except XeroTokenError as exc:
        return _problem(
            "Xero did not accept the sign-in", f"{exc.message} Please start again.", 400
        )
    except XeroError as exc:
        log.warning("Xero sign-in failed: %s", exc.message)
        return _problem("Xero did not complete the sign-in", exc.message, 502)

    login_user(SignedInUser(outcome.user))
    for org in outcome.organisations:
        _refresh_details(org)
    for org in outcome.reconnected:
        _resume_posting(org)
    if outcome.refused and not outcome.organisations:
        return _problem(
            "Only Xero organisations can be connected",
            f"{', '.join(outcome.refused)} is not an organisation (practices cannot hold "
            "purchases). Start again and choose an organisation.",
        )
    if outcome.refused:
        flash(
            f"Skipped {', '.join(outcome.refused)}: only organisations can be connected.",
            "warning",
        )
    if outcome.dropped:
        flash(
            f"Removed from your list: {', '.join(outcome.dropped)}. Your Xero login no longer "
            "has access to it (or the app was disconnected there). If you need it, ask an "
            "adviser of that organisation in Xero for access, then sign in again.",
            "warning",
        )
    if not outcome.organisations:
        return _problem("No organisation was connected", "Choose an organisation in Xero.")
    if len(outcome.organisations) == 1:
        return redirect(next_step_url(outcome.organisations[0]))
    session[CONSENT_ORGS_KEY] = [org.id for org in outcome.organisations]
    return redirect(url_for("xero.pick_organisation"))


def _resume_posting(org: Organisation) -> None:
    """Posting paused by the disconnection resumes now (else: with the next sync)."""
    try:
        enqueue_once("high", "jobs.posting.post_ready", post_job_id(int(org.id or 0)), org.id)
    except (redis.RedisError, OSError) as exc:
        log.warning("Could not queue posting for reconnected org %s: %s", org.id, exc)


def _refresh_details(org: Organisation) -> None:
    """Read the organisation's country, currency and lock dates (best effort at sign-up)."""
    client = xero_client(org, max_wait=5)
    try:
        organisations.apply_organisation_details(org, client.organisation())
        org.settings = {**(org.settings or {}), "xero_actions": client.organisation_actions()}
    except XeroError as exc:
        log.warning("Could not read details of %s: %s", org.xero_tenant_id, exc.message)
    db = get_session()
    db.add(org)
    db.commit()


@bp.get("/organisations")
@login_required
def pick_organisation() -> Any:
    """Several organisations were authorised: which one to set up first."""
    ids = session.get(CONSENT_ORGS_KEY) or []
    orgs = [organisation_or_404(int(org_id)) for org_id in ids]
    if not orgs:  # opened directly, not after a consent: the user's organisations
        orgs = user_organisations(get_session(), int(current_user.id))
    return render_template(
        "xero/pick_organisation.html",
        organisations=orgs,
        just_connected=bool(ids),
        next_step_url=next_step_url,
    )


@bp.post("/orgs/<int:org_id>/disconnect")
@login_required
def disconnect() -> Any:
    """Disconnect the organisation from Xero (its ledger is kept)."""
    org = current_organisation()
    valid_or_400(ConfirmForm())
    cipher = token_cipher(current_app)
    token = read_xero_token(cipher, org) if org.xero_token_encrypted else None
    organisations.disconnect(
        get_session(),
        org,
        xero_identity(),
        str(token.get("access_token")) if token else None,
        actor=f"user:{current_user.id}",
    )
    flash(f"{org.name} is disconnected from Xero. Its history is kept.", "success")
    return redirect(url_for("main.index"))


@bp.post("/orgs/<int:org_id>/contact/repair")
@login_required
def repair_contact() -> Any:
    """One-click repair of the Amazon Business contact (renamed, archived, merged, deleted)."""
    org = current_organisation()
    try:
        contact.repair_and_record(get_session(), org, xero_client(org))
    except XeroError as exc:
        flash_at(f"Xero did not let us repair the contact: {exc.message}", "error", "contact")
    else:
        if org.onboarding_step == OnboardingStep.DONE:  # what the contact held, posts now
            _resume_posting(org)
            message = "The Amazon Business contact is repaired; posting resumes now."
        else:
            message = "The Amazon Business contact is repaired."
        flash_at(message, "success", "contact")
    return redirect(next_step_url(org))


@bp.post("/account/sign-out-everywhere")
@login_required
def sign_out_everywhere() -> Any:
    """End every session of the signed-in user's account (copies of this cookie included) but
    this one, which continues with the new session token."""
    user = current_user.row
    end_every_session(get_session(), user)
    login_user(SignedInUser(user))
    flash("Every other session of your account is signed out.", "success")
    return redirect(url_for("main.index"))


@bp.post("/account/delete")
@login_required
def delete_account() -> Any:
    """Delete the signed-in user's account and revoke their Xero tokens."""
    db = get_session()
    user = db.get(User, int(current_user.id))
    if user is not None:
        organisations.delete_account(db, user, xero_identity(), token_cipher(current_app))
    logout_user()
    session.clear()
    flash("Your account is deleted and its Xero access revoked.", "success")
    return redirect(url_for("main.index"))
