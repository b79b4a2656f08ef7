"""Connecting an organisation to an Amazon Business store (spec §1.2-1.4).

The view issues a single-use ``state`` (``plugin.auth.oauth_state``) and redirects to
``consent_redirect(...)``; Amazon sends the browser back to ``/amazon/callback`` with ``code``
and ``state`` (or ``error``/``error_description``, which ``explain_consent_error`` turns into
what the user must fix). ``complete_consent`` exchanges the code at once, stores both tokens
encrypted and creates or reconnects the store's ``AmazonConnection``.

- Reconnecting a store that is already connected replaces its tokens and sets it ``active``
  again; its name, account identity and everything else are left alone.
- Which Amazon Business account a new store belongs to cannot be known here (the token answer
  says nothing about the account); the first import claims it (``plugin.amazon.accounts``) and
  refuses a store of a different account or an account another organisation already has.
- ``next_step_after_amazon`` is the one place that builds an app URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session
from sqlmodel import select

from plugin.amazon.errors import AmazonTokenError
from plugin.amazon.lwa import LwaClient
from plugin.amazon.lwa import TokenGrant
from plugin.amazon.regions import Store
from plugin.amazon.regions import consent_url
from plugin.amazon.settings import AmazonSettings
from plugin.auth.token_store import save_amazon_tokens
from plugin.models import AmazonConnection
from plugin.models import AuditEvent
from plugin.models import ConnectionStatus
from plugin.models import Organisation
from plugin.models import utcnow
from plugin.security import TokenCipher

ADMIN_FIX = (
    "Sign in as an Amazon Business administrator of every legal entity in your Amazon "
    "Business account, then choose Allow."
)


def consent_redirect(settings: AmazonSettings, store: Store, state: str) -> str:
    """The store's consent page URL for this app, ``state`` and our callback."""
    return consent_url(
        store,
        application_id=settings.application_id,
        state=state,
        redirect_uri=settings.redirect_uri,
        template=settings.consent_url_template,
    )


@dataclass(frozen=True)
class ConsentProblem:
    """Why a connection attempt failed, and exactly what the user should do about it."""

    title: str
    message: str
    fix: str
    amazon_said: str = ""


def explain_consent_error(error: str, description: str = "") -> ConsentProblem:
    """Turn Amazon's ``error``/``error_description`` into a page the user can act on."""
    error = (error or "").strip()
    said = f"{error}: {description}" if description else error
    text = description.lower()
    if error == "access_denied" and ("admin" in text or "legal entit" in text):
        return ConsentProblem(
            "Amazon Business needs an administrator to connect",
            "The Amazon Business user who signed in is not an administrator of every legal "
            "entity in the business account, so Amazon did not let this app connect.",
            ADMIN_FIX + " If you are not one, ask an administrator to connect, or to make you "
            "an administrator of each legal entity.",
            said,
        )
    if error == "access_denied" and "cancel" in text:
        return ConsentProblem(
            "You cancelled the connection",
            "Nothing was connected because the Amazon authorisation was cancelled.",
            "Start again and choose Allow on Amazon's page. " + ADMIN_FIX,
            said,
        )
    if error == "access_denied":
        return ConsentProblem(
            "Amazon did not allow the connection",
            "Amazon refused to let this app read the store's purchases"
            + (f": {description}" if description else "."),
            ADMIN_FIX + " Make sure you pick the store your business buys on.",
            said,
        )
    if error in ("server_error", "temporarily_unavailable"):
        return ConsentProblem(
            "Amazon could not complete the connection",
            "Amazon's sign-in service had a problem and nothing was connected.",
            "Wait a minute, then start again.",
            said,
        )
    if error in ("invalid_request", "unauthorized_client", "invalid_scope", "invalid_client"):
        return ConsentProblem(
            "This app's Amazon registration was refused",
            "Amazon did not accept this app's connection request. This is a problem with the "
            "app's set-up, not with your Amazon Business account.",
            "Start again; if it happens again, contact support and quote the text below.",
            said,
        )
    return ConsentProblem(
        "Amazon Business did not connect",
        "Amazon sent back an error instead of a connection"
        + (f": {description}" if description else "."),
        "Start again. " + ADMIN_FIX,
        said,
    )


def explain_exchange_failure(error: AmazonTokenError | Exception) -> ConsentProblem:
    """What to tell the user when the sign-in code could not be exchanged for tokens."""
    if isinstance(error, AmazonTokenError) and error.error == "invalid_grant":
        return ConsentProblem(
            "The Amazon sign-in expired",
            "Amazon no longer accepts this sign-in: its code lasts five minutes and works once.",
            "Start again and finish signing in on Amazon without pausing.",
            str(error),
        )
    if isinstance(error, AmazonTokenError):
        return ConsentProblem(
            "Amazon refused to complete the connection",
            "Amazon's sign-in service did not accept this app's request, so nothing was "
            "connected. This is a problem with the app's set-up, not with your account.",
            "Start again; if it happens again, contact support and quote the text below.",
            str(error),
        )
    return ConsentProblem(
        "Amazon could not complete the connection",
        "We could not reach Amazon's sign-in service to finish connecting, so nothing was "
        "connected.",
        "Wait a minute, then start again.",
        str(error),
    )


@dataclass(frozen=True)
class ConnectResult:
    """The store connection that was created or reconnected."""

    connection: AmazonConnection
    reconnected: bool


def complete_consent(
    session: Session,
    settings: AmazonSettings,
    cipher: TokenCipher,
    org: Organisation,
    store: Store,
    code: str,
    actor: str = "",
    lwa: LwaClient | None = None,
) -> ConnectResult:
    """Exchange ``code`` now, then store the tokens on the org's connection for ``store``."""
    client = lwa or LwaClient(settings.lwa_credentials)
    try:
        grant = client.exchange_code(code, settings.redirect_uri)
    finally:
        if lwa is None:
            client.close()
    return save_connection(session, cipher, org, store, grant, actor)


def save_connection(
    session: Session,
    cipher: TokenCipher,
    org: Organisation,
    store: Store,
    grant: TokenGrant,
    actor: str = "",
) -> ConnectResult:
    """Create the store's connection, or replace an existing one's tokens; commit."""
    assert org.id is not None
    connection = session.exec(
        select(AmazonConnection).where(
            AmazonConnection.organisation_id == org.id, AmazonConnection.store == store.code
        )
    ).first()
    reconnected = connection is not None
    if connection is None:
        connection = AmazonConnection(
            organisation_id=org.id,
            name=store.display_name,
            store=store.code,
            region=store.region,
        )
    now = utcnow()
    save_amazon_tokens(
        cipher,
        connection,
        refresh_token=grant.refresh_token,
        access_token=grant.access_token,
        expires_at=now + timedelta(seconds=grant.expires_in),
    )
    connection.status = ConnectionStatus.ACTIVE
    connection.status_reason = None
    session.add(connection)
    session.add(
        AuditEvent(
            organisation_id=org.id,
            actor=actor,
            action="amazon_reconnected" if reconnected else "amazon_connected",
            detail={"store": store.code},
        )
    )
    session.commit()
    return ConnectResult(connection, reconnected)


def next_step_after_amazon(org: Organisation) -> str:
    """Where the browser goes after a store connected: the wizard's next step.

    An org that was at "connect Amazon Business" moves on to "import history"; one further on
    (a reconnect, a second store) continues where it was.
    """
    from plugin.db import get_session  # the request's session: the only Flask touch here
    from plugin.models import OnboardingStep
    from plugin.onboarding.steps import next_step_url
    from plugin.onboarding.wizard import advance

    if org.onboarding_step == OnboardingStep.CONNECT_AMAZON:
        advance(get_session(), org, OnboardingStep.IMPORT_HISTORY, actor="amazon_connected")
    return next_step_url(org)
