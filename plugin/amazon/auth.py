"""Connecting an organisation to Amazon Business store by store, and keeping its tokens fresh.

Consent (spec §1.2-1.4): the view issues a single-use ``state`` (``plugin.auth.oauth_state``) and
redirects to ``consent_redirect(...)``; Amazon sends the browser back to ``/amazon/callback``
with ``code`` and ``state`` (or ``error``/``error_description``, which ``explain_consent_error``
turns into what the user must fix). ``complete_consent`` exchanges the code at once, stores both
tokens encrypted and creates or reconnects the store's ``AmazonConnection``.

Tokens (spec §1.4): access tokens last an hour. ``AccessTokenProvider`` caches the current one
encrypted on the connection (and in memory) and refreshes it 60 s before it expires. Amazon
reuses refresh tokens (no rotation), so two workers refreshing at once is harmless and no lock
is taken. ``invalid_grant`` on refresh marks the connection ``needs_reconnect`` (committed at
once) and raises ``AmazonNeedsReconnect`` so the connection's jobs pause.

Nothing here needs a request or the Flask app: settings come as plain values
(``AmazonSettings.from_config(app.config)``), the database through a session (or a session
factory for the provider) and secrets through the ``TokenCipher``; so jobs and the CLI use the
same code. ``next_step_after_amazon`` is the one place that builds an app URL.

Decisions:
- Reconnecting a store that is already connected replaces its tokens and sets it ``active``
  again; its name, account identity and everything else are left alone.
- Which Amazon Business account a new store belongs to cannot be known here (the token answer
  says nothing about the account); the first import claims it (``plugin.amazon.accounts``) and
  refuses a store of a different account or an account another organisation already has.
- The default name is the store's display name ("Amazon Business UK"); names are 1-120
  characters of the user's choosing, trimmed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

import requests
from sqlmodel import Session
from sqlmodel import select

from plugin.amazon.errors import AmazonNeedsReconnect
from plugin.amazon.errors import AmazonTokenError
from plugin.amazon.lwa import LwaClient
from plugin.amazon.lwa import LwaCredentials
from plugin.amazon.lwa import TokenGrant
from plugin.amazon.regions import Store
from plugin.amazon.regions import consent_url
from plugin.amazon.regions import lwa_token_url
from plugin.auth.token_store import read_amazon_access_token
from plugin.auth.token_store import read_amazon_refresh_token
from plugin.auth.token_store import save_amazon_tokens
from plugin.models import AmazonConnection
from plugin.models import AuditEvent
from plugin.models import ConnectionStatus
from plugin.models import Organisation
from plugin.models import utcnow
from plugin.security import TokenCipher

log = logging.getLogger(__name__)

CALLBACK_PATH = "/amazon/callback"
REFRESH_MARGIN = timedelta(seconds=60)
MAX_NAME_LENGTH = 120
ADMIN_FIX = (
    "Sign in as an Amazon Business administrator of every legal entity in your Amazon "
    "Business account, then choose Allow."
)

SessionFactory = Callable[[], AbstractContextManager[Session]]


# --- Settings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AmazonSettings:
    """The Amazon Business settings, as plain values (built from the app config once)."""

    client_id: str
    client_secret: str
    application_id: str
    lwa_token_url: str
    consent_url_template: str
    api_url_template: str
    public_url: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AmazonSettings:
        """Read the ``AMAZON_*`` settings and ``PUBLIC_URL`` from a config mapping."""
        return cls(
            client_id=str(config.get("AMAZON_CLIENT_ID") or ""),
            client_secret=str(config.get("AMAZON_CLIENT_SECRET") or ""),
            application_id=str(config.get("AMAZON_APPLICATION_ID") or ""),
            lwa_token_url=lwa_token_url(str(config.get("AMAZON_LWA_TOKEN_URL") or "")),
            consent_url_template=str(config.get("AMAZON_CONSENT_URL_TEMPLATE") or ""),
            api_url_template=str(config.get("AMAZON_API_URL_TEMPLATE") or ""),
            public_url=str(config.get("PUBLIC_URL") or "").rstrip("/"),
        )

    @property
    def redirect_uri(self) -> str:
        """Where Amazon sends the browser back (must be registered on the app in SPP)."""
        return self.public_url + CALLBACK_PATH

    @property
    def lwa_credentials(self) -> LwaCredentials:
        """The LWA client credentials and token endpoint."""
        return LwaCredentials(self.client_id, self.client_secret, self.lwa_token_url)

    def __repr__(self) -> str:  # keep the client secret out of logs
        return f"AmazonSettings(client_id={self.client_id!r}, public_url={self.public_url!r})"


# --- Consent ---------------------------------------------------------------------------------


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


def connections_of(session: Session, org_id: int) -> list[AmazonConnection]:
    """The organisation's store connections, oldest first."""
    statement = (
        select(AmazonConnection)
        .where(AmazonConnection.organisation_id == org_id)
        .order_by(AmazonConnection.id)  # type: ignore[arg-type]
    )
    return list(session.exec(statement))


def connection_of(session: Session, org_id: int, connection_id: int) -> AmazonConnection | None:
    """The organisation's connection ``connection_id``, or None (also for other orgs' ones)."""
    connection = session.get(AmazonConnection, connection_id)
    if connection is None or connection.organisation_id != org_id:
        return None
    return connection


class InvalidName(ValueError):
    """A connection name that cannot be used; the message says why."""


def rename_connection(session: Session, connection: AmazonConnection, name: str) -> None:
    """Give a connection the user's name for it (1-120 characters) and commit."""
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise InvalidName("Give the connection a name, for example 'Amazon Business UK'.")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidName(f"Keep the name to {MAX_NAME_LENGTH} characters or fewer.")
    connection.name = cleaned
    connection.updated_at = utcnow()
    session.add(connection)
    session.commit()


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


# --- Tokens ----------------------------------------------------------------------------------


def mark_needs_reconnect(session: Session, connection: AmazonConnection, reason: str) -> None:
    """Set the connection to ``needs_reconnect`` with a reason the user can act on; commit."""
    connection.status = ConnectionStatus.NEEDS_RECONNECT
    connection.status_reason = reason
    connection.access_token_encrypted = None
    connection.access_token_expires_at = None
    connection.updated_at = utcnow()
    session.add(connection)
    session.add(
        AuditEvent(
            organisation_id=connection.organisation_id,
            actor="amazon",
            action="amazon_needs_reconnect",
            detail={"store": connection.store, "reason": reason},
        )
    )
    session.commit()


def reconnect_reason(connection: AmazonConnection, why: str) -> str:
    """The sentence shown when a store must be connected again."""
    name = connection.name or f"Amazon Business {connection.store}"
    return (
        f"{name} must be connected again: {why} Connect it again as an Amazon Business "
        "administrator of every legal entity; nothing already imported is lost."
    )


class AccessTokenProvider:
    """Access tokens for one connection: cached encrypted, refreshed 60 s before expiry.

    Built from plain values (``token_provider_for``), so it works in requests, jobs and the CLI.
    """

    def __init__(
        self,
        connection_id: int,
        lwa: LwaClient,
        session_factory: SessionFactory,
        cipher: TokenCipher,
        clock: Callable[[], datetime] = utcnow,
        refresh_margin: timedelta = REFRESH_MARGIN,
    ) -> None:
        self.connection_id = connection_id
        self.lwa = lwa
        self.session_factory = session_factory
        self.cipher = cipher
        self.clock = clock
        self.refresh_margin = refresh_margin
        self._token: str | None = None
        self._expires_at: datetime | None = None

    def close(self) -> None:
        """Release the LWA client's connections."""
        self.lwa.close()

    def _fresh(self, expires_at: datetime | None) -> bool:
        return expires_at is not None and expires_at - self.refresh_margin > self.clock()

    def access_token(self) -> str:
        """A usable access token: from memory, else the database, else a refresh."""
        if self._token is not None and self._fresh(self._expires_at):
            return self._token
        with self.session_factory() as session:
            connection = self._load(session)
            if self._fresh(connection.access_token_expires_at):
                token = read_amazon_access_token(self.cipher, connection)
                if token:
                    self._token, self._expires_at = token, connection.access_token_expires_at
                    return token
            return self._refresh(session, connection)

    def refresh(self) -> str:
        """Get a new access token now (after Amazon said the current one expired)."""
        self._token = self._expires_at = None
        with self.session_factory() as session:
            return self._refresh(session, self._load(session))

    def mark_needs_reconnect(self, why: str) -> str:
        """Record that the customer must reconnect (e.g. 401 after a fresh token); the reason."""
        self._token = self._expires_at = None
        with self.session_factory() as session:
            connection = self._connection(session)
            reason = reconnect_reason(connection, why)
            mark_needs_reconnect(session, connection, reason)
            return reason

    def _connection(self, session: Session) -> AmazonConnection:
        connection = session.get(AmazonConnection, self.connection_id)
        if connection is None:
            raise AmazonNeedsReconnect(
                "This Amazon Business connection no longer exists; connect the store again."
            )
        return connection

    def _load(self, session: Session) -> AmazonConnection:
        connection = self._connection(session)
        if connection.status != ConnectionStatus.ACTIVE:
            raise AmazonNeedsReconnect(
                connection.status_reason or reconnect_reason(connection, "it was disconnected.")
            )
        return connection

    def _refresh(self, session: Session, connection: AmazonConnection) -> str:
        refresh_token = read_amazon_refresh_token(self.cipher, connection)
        if not refresh_token:
            reason = reconnect_reason(connection, "we hold no Amazon authorisation for it.")
            mark_needs_reconnect(session, connection, reason)
            raise AmazonNeedsReconnect(reason)
        try:
            grant = self.lwa.refresh(refresh_token)
        except AmazonTokenError as exc:
            if exc.error != "invalid_grant":
                raise
            reason = reconnect_reason(
                connection,
                "Amazon no longer accepts its authorisation (it was revoked, or the user who "
                "connected it lost access).",
            )
            log.warning(
                "Amazon connection %s needs reconnecting: invalid_grant on refresh",
                connection.id,
            )
            mark_needs_reconnect(session, connection, reason)
            raise AmazonNeedsReconnect(
                reason, operation="lwaToken", code=exc.error, request_id=exc.request_id
            ) from exc
        expires_at = self.clock() + timedelta(seconds=grant.expires_in)
        save_amazon_tokens(
            self.cipher,
            connection,
            refresh_token=grant.refresh_token
            if grant.refresh_token and grant.refresh_token != refresh_token
            else None,
            access_token=grant.access_token,
            expires_at=expires_at,
        )
        session.add(connection)
        session.commit()
        self._token, self._expires_at = grant.access_token, expires_at
        return grant.access_token


def token_provider_for(
    settings: AmazonSettings,
    connection_id: int,
    session_factory: SessionFactory,
    cipher: TokenCipher,
    http: requests.Session | None = None,
) -> AccessTokenProvider:
    """An access-token provider for one connection, from plain settings."""
    return AccessTokenProvider(
        connection_id, LwaClient(settings.lwa_credentials, http=http), session_factory, cipher
    )
