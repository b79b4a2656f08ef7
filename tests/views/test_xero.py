"""Sign up / sign in with Xero: state, cancellation, id_token verification, organisations."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import jwt
import pytest
import responses
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlmodel import select

from plugin.models import AuditEvent
from plugin.models import Membership
from plugin.models import Organisation
from plugin.models import User
from plugin.xero import auth

IDENTITY = "https://identity.xero.test"
LOGIN = "https://login.xero.test"
API = "https://api.xero.test"
CLIENT_ID = "client-abc"


@pytest.fixture(scope="module")
def signing_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def xero_config(app_config):
    app_config.update(
        XERO_CLIENT_ID=CLIENT_ID,
        XERO_CLIENT_SECRET="secret-xyz",
        XERO_LOGIN_URL=LOGIN,
        XERO_IDENTITY_URL=IDENTITY,
        XERO_API_URL=API,
        PUBLIC_URL="https://app.example.com",
    )
    auth._discovery_cache.clear()
    auth._jwks_cache.clear()
    return app_config


def make_id_token(key, **overrides):
    claims = {
        "iss": IDENTITY,
        "aud": CLIENT_ID,
        "exp": int(time.time()) + 300,
        "iat": int(time.time()),
        "sub": "sub-1",
        "xero_userid": "xero-user-1",
        "email": "alice@example.com",
        "given_name": "Alice",
        "family_name": "Accountant",
    }
    claims.update(overrides)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "key-1"})


def access_token(event_id="event-1"):
    return jwt.encode(
        {"authentication_event_id": event_id, "xero_userid": "xero-user-1", "exp": 2_000_000_000},
        "a-signing-key-the-test-never-checks-0123456789",
        algorithm="HS256",
    )


@pytest.fixture
def xero_http(signing_key):
    public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key.public_key()))
    public_jwk.update(kid="key-1", use="sig", alg="RS256")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(
            f"{IDENTITY}/.well-known/openid-configuration",
            json={
                "issuer": IDENTITY,
                "jwks_uri": f"{IDENTITY}/.well-known/openid-configuration/jwks",
            },
        )
        mock.get(f"{IDENTITY}/.well-known/openid-configuration/jwks", json={"keys": [public_jwk]})
        yield mock


def start(client):
    """Begin the flow; return (state, nonce) from the authorize redirect."""
    response = client.get("/xero/connect")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        f"{LOGIN}/identity/connect/authorize"
    )
    query = parse_qs(location.query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == ["https://app.example.com/xero/callback"]
    assert "offline_access" in query["scope"][0].split()
    return query["state"][0], query["nonce"][0]


def token_response(mock, id_token, event_id="event-1"):
    mock.post(
        f"{IDENTITY}/connect/token",
        json={
            "access_token": access_token(event_id),
            "refresh_token": "refresh-1",
            "id_token": id_token,
            "expires_in": 1800,
            "token_type": "Bearer",
            "scope": "openid profile email offline_access",
        },
    )


def connections_response(mock, tenants):
    mock.get(f"{API}/connections", json=tenants)


def tenant(tenant_id, name, kind="ORGANISATION"):
    return {
        "id": f"conn-{tenant_id}",
        "authEventId": "event-1",
        "tenantId": tenant_id,
        "tenantType": kind,
        "tenantName": name,
    }


def organisation_response(mock, name="Thames Stationery Ltd"):
    mock.get(
        f"{API}/api.xro/2.0/Organisation",
        json={
            "Organisations": [
                {
                    "Name": name,
                    "CountryCode": "GB",
                    "BaseCurrency": "GBP",
                    "PeriodLockDate": "/Date(1769817600000+0000)/",
                }
            ]
        },
    )


def sign_in_to_thames(xero_app, xero_http, signing_key):
    """One whole sign-in consenting to Thames Stationery; returns (client, state, answer)."""
    client = xero_app.test_client()
    state, nonce = start(client)
    token_response(xero_http, make_id_token(signing_key, nonce=nonce))
    connections_response(xero_http, [tenant("t-uk", "Thames Stationery Ltd")])
    organisation_response(xero_http)
    return client, state, client.get(f"/xero/callback?code=abc&state={state}")


@pytest.fixture
def xero_app(xero_config, make_app):
    return make_app(xero_config)


def test_successful_sign_up_creates_user_org_membership_and_continues(
    xero_app, xero_http, signing_key
):
    client = xero_app.test_client()
    state, nonce = start(client)
    token_response(xero_http, make_id_token(signing_key, nonce=nonce))
    connections_response(xero_http, [tenant("t-uk", "Thames Stationery Ltd")])
    organisation_response(xero_http)

    response = client.get(f"/xero/callback?code=abc&state={state}")

    from plugin.db import session_scope

    with session_scope(xero_app) as db:
        user = db.exec(select(User)).one()
        org = db.exec(select(Organisation)).one()
        assert user.xero_user_id == "xero-user-1"
        assert user.name == "Alice Accountant"
        assert org.xero_tenant_id == "t-uk"
        assert org.xero_connection_id == "conn-t-uk"
        assert org.base_currency == "GBP"
        assert str(org.period_lock_date) == "2026-01-31"
        assert db.exec(select(Membership)).one().user_id == user.id
        assert "refresh-1" not in (org.xero_token_encrypted or "")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/orgs/{org.id}/amazon")
    token_call = next(c for c in xero_http.calls if c.request.url.endswith("/connect/token"))
    assert token_call.request.headers["Authorization"].startswith("Basic ")
    connections_call = next(c for c in xero_http.calls if "/connections" in c.request.url)
    assert "authEventId=event-1" in connections_call.request.url
    assert "Thames Stationery Ltd" in client.get("/").get_data(as_text=True)


def test_several_organisations_lead_to_a_picker(xero_app, xero_http, signing_key):
    client = xero_app.test_client()
    state, nonce = start(client)
    token_response(xero_http, make_id_token(signing_key, nonce=nonce))
    connections_response(
        xero_http, [tenant("t-uk", "Thames Stationery Ltd"), tenant("t-us", "Hudson Design LLC")]
    )
    organisation_response(xero_http)
    organisation_response(xero_http, "Hudson Design LLC")
    response = client.get(f"/xero/callback?code=abc&state={state}")
    assert response.headers["Location"].endswith("/xero/organisations")
    page = client.get("/xero/organisations").get_data(as_text=True)
    assert "Thames Stationery Ltd" in page
    assert "Hudson Design LLC" in page


def test_practice_tenants_are_refused_with_a_clear_message(xero_app, xero_http, signing_key):
    client = xero_app.test_client()
    state, nonce = start(client)
    token_response(xero_http, make_id_token(signing_key, nonce=nonce))
    connections_response(xero_http, [tenant("t-p", "Alice & Co Practice", "PRACTICE")])
    response = client.get(f"/xero/callback?code=abc&state={state}")
    assert response.status_code == 400
    assert "Alice &amp; Co Practice is not an organisation" in response.get_data(as_text=True)


@pytest.mark.parametrize("state", [None, "forged-state"])
def test_missing_or_wrong_state_is_refused(xero_app, xero_http, state):
    client = xero_app.test_client()
    start(client)
    query = "code=abc" + (f"&state={state}" if state else "")
    response = client.get(f"/xero/callback?{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "could not complete the sign-in" in page
    assert "/xero/connect" in page  # offers to start again
    assert not any(c.request.url.endswith("/connect/token") for c in xero_http.calls)


def test_replayed_callback_is_refused(xero_app, xero_http, signing_key):
    client, state, first = sign_in_to_thames(xero_app, xero_http, signing_key)
    assert first.status_code == 302
    replay = client.get(f"/xero/callback?code=abc&state={state}")
    assert replay.status_code == 400


def test_cancelled_consent_gets_a_friendly_page(xero_app, xero_http):
    client = xero_app.test_client()
    state, _ = start(client)
    response = client.get(f"/xero/callback?error=access_denied&state={state}")
    assert response.status_code == 200
    assert "You cancelled the connection" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"aud": "someone-else"}, "issued to another application"),
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"iss": "https://evil.example.com"}, "not issued by Xero"),
        ({"nonce": "other-nonce"}, "nonce mismatch"),
    ],
)
def test_bad_id_tokens_are_refused(xero_app, xero_http, signing_key, overrides, message):
    client = xero_app.test_client()
    state, nonce = start(client)
    claims = {"nonce": nonce, **overrides}
    token_response(xero_http, make_id_token(signing_key, **claims))
    response = client.get(f"/xero/callback?code=abc&state={state}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert not client.get("/").get_data(as_text=True).count("Sign out")


def test_id_token_signed_by_another_key_is_refused(xero_app, xero_http):
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    client = xero_app.test_client()
    state, nonce = start(client)
    token_response(xero_http, make_id_token(other_key, nonce=nonce))
    response = client.get(f"/xero/callback?code=abc&state={state}")
    assert response.status_code == 400
    assert "verify your Xero sign-in" in response.get_data(as_text=True)


def test_code_exchange_failure_is_explained(xero_app, xero_http):
    client = xero_app.test_client()
    state, _ = start(client)
    xero_http.post(f"{IDENTITY}/connect/token", status=400, json={"error": "invalid_grant"})
    response = client.get(f"/xero/callback?code=stale&state={state}")
    assert response.status_code == 400
    assert "invalid_grant" in response.get_data(as_text=True)


def test_reconnecting_an_org_disconnected_in_xero_resumes_its_posting(
    xero_app, xero_http, signing_key, make_member
):
    """Disconnected in Xero (a job found the tenant gone), then reconnected: sync was never
    turned off by the disconnection, and posting is queued at once."""
    from plugin.db import session_scope
    from plugin.infra.queues import get_queue
    from plugin.models import OnboardingStep
    from plugin.models import OrgStatus
    from plugin.xero import organisations

    _user, org = make_member(
        "xero-user-1",
        "t-uk",
        "Thames Stationery Ltd",
        sync_enabled=True,
        onboarding_step=OnboardingStep.DONE,
    )

    class Gone:
        def connections(self, access_token):
            return []  # Xero no longer lists the tenant

    with session_scope(xero_app) as db:
        stored = db.get(Organisation, org.id)
        assert organisations.confirm_revoked(db, stored, Gone(), "access") is True
    with session_scope(xero_app) as db:
        stored = db.get(Organisation, org.id)
        assert stored.status == OrgStatus.DISCONNECTED
        assert stored.sync_enabled is True  # the status alone pauses the jobs

    _client, _state, answer = sign_in_to_thames(xero_app, xero_http, signing_key)
    assert answer.status_code == 302
    with session_scope(xero_app) as db:
        stored = db.get(Organisation, org.id)
        assert (stored.status, stored.sync_enabled) == (OrgStatus.ACTIVE, True)
    assert f"post-{org.id}" in get_queue("high", xero_app).job_ids


def test_signing_in_again_to_an_active_org_queues_nothing(xero_app, xero_http, signing_key):
    from plugin.infra.queues import get_queue

    for _ in range(2):
        _client, _state, answer = sign_in_to_thames(xero_app, xero_http, signing_key)
        assert answer.status_code == 302
    assert get_queue("high", xero_app).job_ids == []


def test_sign_in_drops_memberships_xero_no_longer_grants(xero_app, xero_http, signing_key):
    """Access removed in Xero: at the next sign-in the organisation leaves the user's list, the
    page says so, and its pages answer 404 to this user (issue 18, point 2)."""
    import responses

    from plugin.db import session_scope

    client, _state, _answer = sign_in_to_thames(xero_app, xero_http, signing_key)
    with session_scope(xero_app) as db:
        thames = db.exec(select(Organisation)).one()
        thames_id = thames.id
    assert client.get(f"/orgs/{thames_id}/manage").status_code == 200

    # Later the user consents to another organisation; Thames is gone from their connections.
    xero_http.replace(responses.GET, f"{API}/connections", json=[tenant("t-us", "Hudson LLC")])
    state, nonce = start(client)
    token_response(xero_http, make_id_token(signing_key, nonce=nonce))
    organisation_response(xero_http, name="Hudson LLC")
    landing = client.get(f"/xero/callback?code=abc&state={state}", follow_redirects=True)
    assert "Removed from your list: Thames Stationery Ltd" in landing.get_data(as_text=True)

    with session_scope(xero_app) as db:
        user = db.exec(select(User)).one()
        tenants = {
            db.get(Organisation, m.organisation_id).xero_tenant_id
            for m in db.exec(select(Membership).where(Membership.user_id == user.id))
        }
        dropped = db.exec(select(AuditEvent).where(AuditEvent.action == "membership_dropped")).one()
    assert tenants == {"t-us"}
    assert dropped.organisation_id == thames_id
    assert client.get(f"/orgs/{thames_id}/manage").status_code == 404
    index = client.get("/").get_data(as_text=True)
    assert "<strong>Thames Stationery Ltd</strong>" not in index  # not on the list
    assert "Your access to Thames Stationery Ltd was removed in Xero on" in index
    unfiltered = [
        c
        for c in xero_http.calls
        if "/connections" in c.request.url and "authEventId" not in c.request.url
    ]
    assert unfiltered, "the full list of the user's connections was asked for"
