"""The per-store consent page (``/amazon/<store>/b2b/abws/oauth``) and the LWA token endpoint.

Stateless between pages (no cookies): the sign-in form posts the consent parameters back, and
the Allow/Cancel page carries a single-use ticket.
"""

from __future__ import annotations

from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request

from sandbox.amazon.auth import ACCESS_TOKEN_SECONDS
from sandbox.amazon.auth import AccessToken
from sandbox.amazon.auth import Consent
from sandbox.amazon.auth import LwaError
from sandbox.amazon.stores import STORES
from sandbox.amazon.stores import Store
from sandbox.amazon.world import get_world
from sandbox.core import current_sandbox

bp = Blueprint("amazon_consent", __name__, template_folder="../templates")

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
NOT_ADMIN = (
    "The signed-in user must be an Amazon Business administrator of every legal entity of "
    "the business account to authorise this application. Ask an administrator of all legal "
    "entities to connect, or make this user an administrator of each legal entity."
)


class ConsentProblem(Exception):
    """A request the consent page refuses without redirecting (a page, not a redirect)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def error_page(message: str, status: int = 400, store: Store | None = None) -> Response:
    """Amazon's own error page: nothing goes back to the application."""
    html = render_template("amazon/error.html", message=message, store=store)
    return Response(html, status=status)


def with_query(url: str, **params: str) -> str:
    """``url`` with ``params`` added to its query string."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def redirect_back(redirect_uri: str, **params: str) -> Response:
    """302 to the application's redirect URI with ``params``."""
    response = redirect(with_query(redirect_uri, **params), code=302)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def consent_params(store_code: str, values: dict[str, str]) -> tuple[Store, str, str]:
    """Validate store, applicationId, redirect_uri and state; (store, redirect_uri, state)."""
    store = STORES.get(store_code.upper())
    if store is None:
        raise ConsentProblem(f"There is no Amazon Business store '{store_code}'.", 404)
    expected = current_app.config["SANDBOX_AMAZON_APPLICATION_ID"]
    if values.get("applicationId") != expected:
        raise ConsentProblem(
            "The application that sent you here is not registered (unknown applicationId). "
            "Contact the application's developer."
        )
    redirect_uri = values.get("redirect_uri", "")
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or parts.hostname not in LOCAL_HOSTS:
        raise ConsentProblem(
            "The redirect_uri is missing or not registered for this application "
            "(the sandbox accepts http://127.0.0.1… and http://localhost… addresses)."
        )
    state = values.get("state", "")
    if not state:
        raise ConsentProblem("The request is missing the state parameter.")
    return store, redirect_uri, state


@bp.get("/amazon/<store_code>/b2b/abws/oauth")
def consent_page(store_code: str) -> Response:
    """Check the parameters, then show the sign-in form."""
    try:
        store, redirect_uri, state = consent_params(store_code, dict(request.args))
    except ConsentProblem as problem:
        return error_page(problem.message, problem.status)
    return render_signin(store, redirect_uri, state)


def render_signin(
    store: Store, redirect_uri: str, state: str, error: str = "", email: str = "", status: int = 200
) -> Response:
    """The sign-in form, carrying the consent parameters as hidden fields."""
    html = render_template(
        "amazon/signin.html",
        store=store,
        application_id=current_app.config["SANDBOX_AMAZON_APPLICATION_ID"],
        redirect_uri=redirect_uri,
        state=state,
        error=error,
        email=email,
    )
    return Response(html, status=status)


@bp.post("/amazon/<store_code>/b2b/abws/oauth")
def sign_in(store_code: str) -> Response:
    """Check the password; refuse non-admins and foreign stores; else show Allow/Cancel."""
    try:
        store, redirect_uri, state = consent_params(store_code, dict(request.form))
    except ConsentProblem as problem:
        return error_page(problem.message, problem.status)
    email = request.form.get("email", "").strip().lower()
    password = request.form.get("password", "")
    sandbox = current_sandbox()
    with sandbox.lock:
        world = get_world()
        user = world.users.get(email)
        if user is None or user.password != password:
            return render_signin(
                store, redirect_uri, state, "Your email or password is incorrect.", email
            )
        account = world.accounts[user.account_key]
        if store.code not in account.stores:
            return redirect_back(
                redirect_uri,
                error="access_denied",
                error_description=(
                    f"The Amazon Business account '{account.name}' does not buy on "
                    f"{store.domain} (store {store.code}). Connect a store where it buys: "
                    f"{', '.join(account.stores)}."
                ),
                state=state,
            )
        if not user.admin_of_all_entities:
            return redirect_back(
                redirect_uri, error="access_denied", error_description=NOT_ADMIN, state=state
            )
        ticket = world.auth.open_ticket(
            email, account.key, store.code, redirect_uri, state, sandbox.clock.time()
        )
        html = render_template(
            "amazon/consent.html",
            store=store,
            account=account,
            user=user,
            ticket=ticket.ticket,
        )
    return Response(html, status=200)


@bp.post("/amazon/<store_code>/b2b/abws/oauth/decision")
def decide(store_code: str) -> Response:
    """Allow → ``redirect_uri?code=…&state=…``; Cancel → ``error=access_denied``."""
    sandbox = current_sandbox()
    with sandbox.lock:
        world = get_world()
        ticket = world.auth.take_ticket(
            request.form.get("ticket", ""), store_code.upper(), sandbox.clock.time()
        )
        if ticket is None:
            return error_page("This consent page has expired. Start again from the application.")
        if request.form.get("decision") != "allow":
            return redirect_back(
                ticket.redirect_uri,
                error="access_denied",
                error_description="The user cancelled the authorization request.",
                state=ticket.state,
            )
        code = world.auth.issue_code(ticket, sandbox.clock.time())
    return redirect_back(ticket.redirect_uri, code=code.code, state=ticket.state)


@bp.post("/auth/o2/token")
def token_endpoint() -> Response:
    """LWA: ``authorization_code`` and ``refresh_token`` grants, client credentials in the body."""
    sandbox = current_sandbox()
    form = request.form
    grant = form.get("grant_type", "")
    with sandbox.lock:
        world = get_world()
        world.stats.token_calls[grant or "missing"] += 1
        try:
            consent, token = grant_tokens(grant, form)
        except LwaError as error:
            world.stats.token_calls["failed"] += 1
            response = jsonify({"error": error.error, "error_description": error.description})
            response.status_code = error.status
            response.headers["Cache-Control"] = "no-store"
            return response
    response = jsonify(
        {
            "access_token": token.token,
            "refresh_token": consent.refresh_token,
            "token_type": "bearer",
            "expires_in": ACCESS_TOKEN_SECONDS,
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def grant_tokens(grant: str, form: dict[str, str]) -> tuple[Consent, AccessToken]:
    """Check the client and the grant; the consent and a new access token."""
    if not grant:
        raise LwaError(
            "invalid_request", "The request is missing a required parameter : grant_type"
        )
    config = current_app.config
    if (
        form.get("client_id") != config["SANDBOX_AMAZON_CLIENT_ID"]
        or form.get("client_secret") != config["SANDBOX_AMAZON_CLIENT_SECRET"]
    ):
        raise LwaError("invalid_client", "Client authentication failed", 401)
    auth = get_world().auth
    now = current_sandbox().clock.time()
    if grant == "authorization_code":
        for name in ("code", "redirect_uri"):
            if not form.get(name):
                raise LwaError(
                    "invalid_request", f"The request is missing a required parameter : {name}"
                )
        return auth.exchange_code(form["code"], form["redirect_uri"], now)
    if grant == "refresh_token":
        if not form.get("refresh_token"):
            raise LwaError(
                "invalid_request", "The request is missing a required parameter : refresh_token"
            )
        return auth.refresh(form["refresh_token"], now)
    raise LwaError(
        "unsupported_grant_type", "The authorization grant type is not supported: " + grant
    )
