"""Keeping a store connection's LWA access token fresh (spec §1.4).

Access tokens last an hour. ``AccessTokenProvider`` caches the current one encrypted on the
connection (and in memory) and refreshes it 60 s before it expires. Amazon reuses refresh
tokens (no rotation), so two workers refreshing at once is harmless and no lock is taken.
``invalid_grant`` on refresh marks the connection ``needs_reconnect`` (committed at once) and
raises ``AmazonNeedsReconnect`` so the connection's jobs pause.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta

import requests
from sqlmodel import Session

from plugin.amazon.connections import mark_needs_reconnect
from plugin.amazon.connections import reconnect_reason
from plugin.amazon.errors import AmazonNeedsReconnect
from plugin.amazon.errors import AmazonTokenError
from plugin.amazon.lwa import LwaClient
from plugin.amazon.settings import AmazonSettings
from plugin.amazon.settings import SessionFactory
from plugin.auth.token_store import read_amazon_access_token
from plugin.auth.token_store import read_amazon_refresh_token
from plugin.auth.token_store import save_amazon_tokens
from plugin.models import AmazonConnection
from plugin.models import ConnectionStatus
from plugin.models import utcnow
from plugin.security import TokenCipher

log = logging.getLogger(__name__)

REFRESH_MARGIN = timedelta(seconds=60)


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
