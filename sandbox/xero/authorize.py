"""Xero's authorize pages: sign in, pick organisations, allow access (or cancel).

``GET /identity/connect/authorize`` validates the request (a bad client_id or redirect_uri gets
an error page, never a redirect) and shows the sign-in form; the consent page lists the user's
tenants as checkboxes. Allow redirects back with ``code`` and ``state``; Cancel with
``error=access_denied``.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from flask import Blueprint
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from sandbox.core import current_sandbox
from sandbox.xero import oauth
from sandbox.xero.seed import PROVIDER_NAME
from sandbox.xero.world import AuthRequest
from sandbox.xero.world import xero_world

bp = Blueprint("xero_authorize", __name__, url_prefix="/identity/connect")

LOCAL_HOSTS = ("127.0.0.1", "localhost")


def redirect_uri_allowed(uri: str, registered: Any) -> bool:
    """Local http URIs are always allowed; others only when in ``SANDBOX_XERO_REDIRECT_URIS``."""
    parts = urlsplit(uri)
    if parts.scheme == "http" and parts.hostname in LOCAL_HOSTS:
        return True
    if isinstance(registered, str):
        registered = [u.strip() for u in registered.split(",") if u.strip()]
    return uri in (registered or [])


def with_query(uri: str, params: dict[str, str | None]) -> str:
    """``uri`` with ``params`` (those not None) appended to its query string."""
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _error_page(message: str, code: str, status: int = 400) -> Any:
    return render_template("xero/error.html", message=message, code=code), status


@bp.get("/authorize")
def authorize() -> Any:
    """Check the authorize request and show the sign-in form."""
    config = current_sandbox().config
    args = request.args
    client_id = args.get("client_id", "")
    redirect_uri = args.get("redirect_uri", "")
    if client_id != config["SANDBOX_XERO_CLIENT_ID"]:
        return _error_page(
            "Invalid client_id: this app is not known to Xero.", "unauthorized_client"
        )
    if not redirect_uri or not redirect_uri_allowed(
        redirect_uri, config.get("SANDBOX_XERO_REDIRECT_URIS")
    ):
        return _error_page(
            "Invalid redirect_uri: it is not registered for this app.", "invalid_request"
        )
    state = args.get("state")
    if args.get("response_type") != "code":
        return redirect(
            with_query(redirect_uri, {"error": "unsupported_response_type", "state": state})
        )
    scope = " ".join(args.get("scope", "").split())
    if not scope or oauth.unknown_scopes(scope):
        return redirect(with_query(redirect_uri, {"error": "invalid_scope", "state": state}))
    method = args.get("code_challenge_method")
    if args.get("code_challenge") and (method or "plain") not in ("S256", "plain"):
        return redirect(with_query(redirect_uri, {"error": "invalid_request", "state": state}))
    auth_request = AuthRequest(
        request_id=secrets.token_urlsafe(16),
        client_id=client_id,
        redirect_uri=redirect_uri,
        scope=scope,
        state=state,
        nonce=args.get("nonce"),
        code_challenge=args.get("code_challenge"),
        code_challenge_method=method,
    )
    with current_sandbox().lock:
        xero_world().pending[auth_request.request_id] = auth_request
    return render_template(
        "xero/sign_in.html", request_id=auth_request.request_id, email="", error=None
    )


@bp.post("/authorize/sign-in")
def sign_in() -> Any:
    """Check the email and password, then go on to the consent page."""
    request_id = request.form.get("request_id", "")
    email = request.form.get("email", "")
    with current_sandbox().lock:
        world = xero_world()
        auth_request = world.pending.get(request_id)
        if auth_request is None:
            return _error_page("This sign-in request has expired. Start again.", "expired")
        user = world.user_by_email(email)
        if user is None or not secrets.compare_digest(
            user.password, request.form.get("password", "")
        ):
            page = render_template(
                "xero/sign_in.html",
                request_id=request_id,
                email=email,
                error="Your email or password is incorrect",
            )
            return page, 200
        auth_request.user_id = user.user_id
    return redirect(url_for("xero_authorize.consent_page", request_id=request_id), code=303)


def _render_consent(request_id: str, error: str | None = None) -> Any:
    world = xero_world()
    auth_request = world.pending.get(request_id)
    if auth_request is None or auth_request.user_id is None:
        return _error_page("This sign-in request has expired. Start again.", "expired")
    user = world.users[auth_request.user_id]
    return render_template(
        "xero/consent.html",
        request_id=request_id,
        user=user,
        tenants=[world.tenants[t] for t in user.tenant_ids],
        scopes=auth_request.scope.split(),
        app_name=PROVIDER_NAME,
        error=error,
    )


@bp.get("/authorize/consent")
def consent_page() -> Any:
    """The organisation picker with Allow access and Cancel."""
    with current_sandbox().lock:
        return _render_consent(request.args.get("request_id", ""))


@bp.post("/authorize/consent")
def consent() -> Any:
    """Allow (connect the chosen tenants and redirect with a code) or cancel."""
    sandbox = current_sandbox()
    request_id = request.form.get("request_id", "")
    with sandbox.lock:
        world = xero_world()
        auth_request = world.pending.get(request_id)
        if auth_request is None or auth_request.user_id is None:
            return _error_page("This sign-in request has expired. Start again.", "expired")
        if request.form.get("action") != "allow":
            del world.pending[request_id]
            return redirect(
                with_query(
                    auth_request.redirect_uri,
                    {"error": "access_denied", "state": auth_request.state},
                )
            )
        user = world.users[auth_request.user_id]
        chosen = [t.lower() for t in request.form.getlist("tenant")]
        if not chosen or any(t not in user.tenant_ids for t in chosen):
            return _render_consent(request_id, error="Select at least one organisation.")
        auth_event_id = oauth.connect_tenants(world, auth_request, chosen, sandbox.clock.now())
        code = oauth.create_code(world, auth_request, auth_event_id, sandbox.clock.time())
        del world.pending[request_id]
    return redirect(
        with_query(
            auth_request.redirect_uri,
            {"code": code, "scope": auth_request.scope, "state": auth_request.state},
        )
    )
