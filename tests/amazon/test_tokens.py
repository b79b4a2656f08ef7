"""Access tokens: cached encrypted, refreshed 60 s early; invalid_grant pauses the connection."""

from __future__ import annotations

from datetime import timedelta

import pytest
from responses import matchers
from sqlmodel import select

from plugin.amazon.errors import AmazonNeedsReconnect
from plugin.amazon.errors import AmazonTokenError
from plugin.amazon.errors import AmazonUnavailable
from plugin.amazon.lwa import LwaClient
from plugin.amazon.settings import AmazonSettings
from plugin.amazon.tokens import AccessTokenProvider
from plugin.amazon.tokens import token_provider_for
from plugin.auth.token_store import read_amazon_access_token
from plugin.auth.token_store import save_amazon_tokens
from plugin.db import session_scope
from plugin.models import AmazonConnection
from plugin.models import AuditEvent
from plugin.models import ConnectionStatus
from plugin.models import utcnow
from tests.common.amazon import CLIENT_ID
from tests.common.amazon import CLIENT_SECRET
from tests.common.amazon import LWA_URL


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):
        return self.now


@pytest.fixture
def connection(app, make_member, db_session):
    """A UK connection with a refresh token and an access token valid for 10 more minutes."""
    _, org = make_member()
    conn = AmazonConnection(
        organisation_id=org.id, name="Amazon Business UK", store="UK", region="EU"
    )
    save_amazon_tokens(
        app.extensions["token_cipher"],
        conn,
        refresh_token="Atzr|refresh",
        access_token="Atza|cached",
        expires_at=utcnow() + timedelta(minutes=10),
    )
    db_session.add(conn)
    db_session.commit()
    return conn


@pytest.fixture
def provider(app, connection):
    clock = Clock()
    settings = AmazonSettings.from_config(app.config)
    made = AccessTokenProvider(
        connection.id,
        LwaClient(settings.lwa_credentials),
        lambda: session_scope(app),
        app.extensions["token_cipher"],
        clock=clock,
    )
    made.test_clock = clock
    yield made
    made.close()


def refresh_answer(http, access="Atza|fresh", status=200, body=None):
    http.post(
        LWA_URL,
        status=status,
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "refresh_token",
                    "refresh_token": "Atzr|refresh",
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                }
            )
        ],
        json=body
        if body is not None
        else {"access_token": access, "token_type": "bearer", "expires_in": 3600},
    )


def test_cached_token_is_used_without_calling_amazon(provider, http):
    assert provider.access_token() == "Atza|cached"
    assert provider.access_token() == "Atza|cached"
    assert len(http.calls) == 0


def test_refreshes_about_60_seconds_before_expiry_and_caches(
    app, provider, http, connection, db_session
):
    provider.test_clock.now += timedelta(minutes=10) - timedelta(seconds=61)
    assert provider.access_token() == "Atza|cached"  # 61 s left: still fine
    provider.test_clock.now += timedelta(seconds=2)  # 59 s left: refresh
    refresh_answer(http, "Atza|fresh")
    assert provider.access_token() == "Atza|fresh"
    assert provider.access_token() == "Atza|fresh"  # cached in memory: one LWA call
    assert len(http.calls) == 1
    db_session.expire_all()
    stored = db_session.get(AmazonConnection, connection.id)
    assert read_amazon_access_token(app.extensions["token_cipher"], stored) == "Atza|fresh"
    assert "Atza|fresh" not in stored.access_token_encrypted
    assert stored.access_token_expires_at > provider.test_clock.now + timedelta(minutes=59)


def test_a_second_provider_reuses_the_stored_token(app, provider, http, connection):
    provider.test_clock.now += timedelta(hours=2)
    refresh_answer(http, "Atza|fresh")
    provider.access_token()
    other = token_provider_for(
        AmazonSettings.from_config(app.config),
        connection.id,
        lambda: session_scope(app),
        app.extensions["token_cipher"],
    )
    assert other.access_token() == "Atza|fresh"  # read from the database, no second refresh
    other.close()


def test_forced_refresh_after_amazon_said_expired(provider, http):
    refresh_answer(http, "Atza|forced")
    assert provider.refresh() == "Atza|forced"
    assert provider.access_token() == "Atza|forced"


def test_invalid_grant_marks_the_connection_needs_reconnect(provider, http, connection, db_session):
    provider.test_clock.now += timedelta(hours=1)
    refresh_answer(
        http,
        status=400,
        body={"error": "invalid_grant", "error_description": "The request has an invalid grant"},
    )
    with pytest.raises(AmazonNeedsReconnect, match="must be connected again") as caught:
        provider.access_token()
    assert "administrator of every legal entity" in str(caught.value)
    db_session.expire_all()
    stored = db_session.get(AmazonConnection, connection.id)
    assert stored.status == ConnectionStatus.NEEDS_RECONNECT
    assert "no longer accepts" in stored.status_reason
    assert stored.access_token_encrypted is None
    events = db_session.exec(
        select(AuditEvent).where(AuditEvent.action == "amazon_needs_reconnect")
    )
    assert len(events.all()) == 1
    # Paused: no further calls to Amazon until the customer reconnects.
    with pytest.raises(AmazonNeedsReconnect):
        provider.access_token()
    assert len(http.calls) == 1


def test_other_token_errors_are_typed_and_do_not_pause(provider, http, connection, db_session):
    provider.test_clock.now += timedelta(hours=1)
    refresh_answer(
        http, status=401, body={"error": "invalid_client", "error_description": "Client auth"}
    )
    with pytest.raises(AmazonTokenError) as caught:
        provider.access_token()
    assert caught.value.error == "invalid_client"
    assert not isinstance(caught.value, AmazonNeedsReconnect)
    db_session.expire_all()
    assert db_session.get(AmazonConnection, connection.id).status == ConnectionStatus.ACTIVE


def test_token_endpoint_outage_is_retryable(provider, http):
    provider.test_clock.now += timedelta(hours=1)
    refresh_answer(http, status=500, body={"error": "server_error"})
    with pytest.raises(AmazonUnavailable) as caught:
        provider.access_token()
    assert caught.value.retry_after > 0


def test_missing_refresh_token_needs_reconnect(provider, connection, db_session, http):
    connection.refresh_token_encrypted = None
    connection.access_token_expires_at = None
    db_session.add(connection)
    db_session.commit()
    with pytest.raises(AmazonNeedsReconnect, match="no Amazon authorisation"):
        provider.access_token()
    assert len(http.calls) == 0
