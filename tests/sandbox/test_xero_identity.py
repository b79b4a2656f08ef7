"""Xero sandbox identity: authorize pages, token endpoint, rotation, revocation, discovery."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import jwt
import pytest

from tests.sandbox.xero_support import CLIENT_ID
from tests.sandbox.xero_support import HUDSON
from tests.sandbox.xero_support import PRACTICE
from tests.sandbox.xero_support import REDIRECT_URI
from tests.sandbox.xero_support import THAMES
from tests.sandbox.xero_support import authorize_params
from tests.sandbox.xero_support import basic_auth
from tests.sandbox.xero_support import consent
from tests.sandbox.xero_support import exchange
from tests.sandbox.xero_support import refresh
from tests.sandbox.xero_support import request_id_of
from tests.sandbox.xero_support import sign_in
from tests.sandbox.xero_support import tenant_checkboxes
from tests.sandbox.xero_support import tenant_ids
from tests.sandbox.xero_support import xero_app  # noqa: F401

BASE = "http://127.0.0.1:5001"


@pytest.fixture
def client(xero_app):  # noqa: F811
    return xero_app.test_client()


def verify_id_token(client, token: str, **options) -> dict:
    jwks = client.get("/.well-known/openid-configuration/jwks").json
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(jwt.PyJWK(k) for k in jwks["keys"] if k["kid"] == kid)
    return jwt.decode(
        token, key.key, algorithms=["RS256"], audience=CLIENT_ID, issuer=BASE, **options
    )


def test_discovery_document_points_at_the_sandbox(client):
    doc = client.get("/.well-known/openid-configuration").json
    assert doc["issuer"] == BASE
    assert doc["authorization_endpoint"] == f"{BASE}/identity/connect/authorize"
    assert doc["token_endpoint"] == f"{BASE}/connect/token"
    assert doc["revocation_endpoint"] == f"{BASE}/connect/revocation"
    jwks = client.get(urlsplit(doc["jwks_uri"]).path).json
    assert jwks["keys"][0]["kty"] == "RSA"
    assert jwks["keys"][0]["kid"]


@pytest.mark.parametrize(
    ("override", "code"),
    [
        ({"client_id": "someone-else"}, "unauthorized_client"),
        ({"redirect_uri": "https://evil.example/callback"}, "invalid_request"),
        ({"redirect_uri": None}, "invalid_request"),
    ],
)
def test_bad_client_or_redirect_uri_shows_an_error_page_without_redirecting(client, override, code):
    page = client.get("/identity/connect/authorize", query_string=authorize_params(**override))
    assert page.status_code == 400
    assert "Location" not in page.headers
    assert code in page.text


def test_registered_redirect_uris_from_config_are_accepted():
    from sandbox import create_sandbox_app

    app = create_sandbox_app({"SANDBOX_XERO_REDIRECT_URIS": "https://app.example.com/cb"})
    page = app.test_client().get(
        "/identity/connect/authorize",
        query_string=authorize_params(redirect_uri="https://app.example.com/cb"),
    )
    assert page.status_code == 200
    assert 'name="email"' in page.text


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "openid accounting.everything"}, "invalid_scope"),
        ({"scope": ""}, "invalid_scope"),
    ],
)
def test_bad_request_parameters_redirect_back_with_an_error(client, override, error):
    page = client.get("/identity/connect/authorize", query_string=authorize_params(**override))
    assert page.status_code == 302
    query = parse_qs(urlsplit(page.headers["Location"]).query)
    assert query == {"error": [error], "state": ["state-123"]}


def test_sign_in_form_has_the_fields_browser_tests_fill(client):
    page = client.get("/identity/connect/authorize", query_string=authorize_params())
    assert 'name="email"' in page.text
    assert 'name="password"' in page.text
    assert ">Sign in</button>" in page.text


def test_wrong_password_shows_the_form_again(client):
    page = client.get("/identity/connect/authorize", query_string=authorize_params())
    answer = client.post(
        "/identity/connect/authorize/sign-in",
        data={
            "request_id": request_id_of(page.text),
            "email": "alice@example.com",
            "password": "nope",
        },
    )
    assert answer.status_code == 200
    assert "incorrect" in answer.text
    assert 'name="password"' in answer.text


def test_consent_page_lists_the_users_tenants(client):
    _, html = sign_in(client, "alice@example.com")
    assert set(tenant_checkboxes(html)) == {THAMES, HUDSON, PRACTICE}
    assert "Allow access" in html
    assert ">Cancel</button>" in html
    _, html = sign_in(client, "bob@example.com")
    assert set(tenant_checkboxes(html)) == {THAMES}


def test_cancel_redirects_with_access_denied(client):
    request_id, _ = sign_in(client)
    answer = client.post(
        "/identity/connect/authorize/consent", data={"request_id": request_id, "action": "cancel"}
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"{REDIRECT_URI}?error=access_denied&state=state-123"


def test_allow_without_choosing_an_organisation_asks_again(client):
    request_id, _ = sign_in(client)
    answer = client.post(
        "/identity/connect/authorize/consent", data={"request_id": request_id, "action": "allow"}
    )
    assert answer.status_code == 200
    assert "Select at least one organisation" in answer.text


def test_allow_redirects_with_code_and_state(client):
    redirect = consent(client)
    assert redirect["state"] == "state-123"
    assert len(redirect["code"]) > 20


def test_code_exchange_returns_tokens_with_xeros_claims(client, xero_app):  # noqa: F811
    redirect = consent(client, nonce="n-42")
    answer = exchange(client, redirect["code"])
    assert answer.status_code == 200
    tokens = answer.json
    assert tokens["expires_in"] == 1800
    assert tokens["token_type"] == "Bearer"
    assert tokens["scope"].split()[0] == "openid"
    assert tokens["refresh_token"]
    claims = verify_id_token(client, tokens["id_token"])
    assert claims["email"] == "alice@example.com"
    assert claims["given_name"] == "Alice"
    assert claims["family_name"] == "Accountant"
    assert claims["name"] == "Alice Accountant"
    assert claims["preferred_username"] == "alice@example.com"
    assert claims["nonce"] == "n-42"
    assert claims["xero_userid"]
    access = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert access["xero_userid"] == claims["xero_userid"]
    assert access["client_id"] == CLIENT_ID
    assert access["iss"] == BASE
    assert access["exp"] - access["nbf"] == 1800
    assert access["authentication_event_id"]
    assert access["jti"]
    assert "accounting.invoices" in access["scope"]


def test_codes_are_single_use(client):
    code = consent(client)["code"]
    assert exchange(client, code).status_code == 200
    again = exchange(client, code)
    assert again.status_code == 400
    assert again.json == {"error": "invalid_grant"}


def test_codes_expire_after_five_sandbox_minutes(client, xero_app):  # noqa: F811
    code = consent(client)["code"]
    xero_app.extensions["sandbox"].clock.advance(301)
    assert exchange(client, code).json == {"error": "invalid_grant"}


def test_redirect_uri_must_match_the_authorize_request(client):
    code = consent(client)["code"]
    answer = exchange(client, code, redirect_uri="http://localhost:5000/other")
    assert answer.json == {"error": "invalid_grant"}


def test_client_auth_by_basic_or_form_and_bad_secret(client):
    code = consent(client)["code"]
    bad = client.post(
        "/connect/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
        headers=basic_auth(secret="wrong"),
    )
    assert bad.status_code == 400
    assert bad.json == {"error": "invalid_client"}
    good = client.post(
        "/connect/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": CLIENT_ID,
            "client_secret": "sandbox-xero-client-secret",
        },
    )
    assert good.status_code == 200


def test_unsupported_grant_type(client):
    answer = client.post("/connect/token", data={"grant_type": "password"}, headers=basic_auth())
    assert answer.status_code == 400
    assert answer.json == {"error": "unsupported_grant_type"}


def test_pkce_s256_verifier_is_checked(client):
    verifier = "v" * 50
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    )
    code = consent(client, code_challenge=challenge, code_challenge_method="S256")["code"]
    assert exchange(client, code, code_verifier="w" * 50).json == {"error": "invalid_grant"}
    code = consent(client, code_challenge=challenge, code_challenge_method="S256")["code"]
    assert exchange(client, code, code_verifier=verifier).status_code == 200


def test_without_openid_or_offline_access_there_is_no_id_token_or_refresh_token(client):
    code = consent(client, scope="accounting.settings.read")["code"]
    tokens = exchange(client, code).json
    assert "id_token" not in tokens
    assert "refresh_token" not in tokens
    assert tokens["access_token"]


def test_refresh_rotates_and_keeps_the_auth_event(client):
    tokens = exchange(client, consent(client)["code"]).json
    first_event = jwt.decode(tokens["access_token"], options={"verify_signature": False})[
        "authentication_event_id"
    ]
    answer = refresh(client, tokens["refresh_token"])
    assert answer.status_code == 200
    rotated = answer.json
    assert rotated["refresh_token"] != tokens["refresh_token"]
    claims = jwt.decode(rotated["access_token"], options={"verify_signature": False})
    assert claims["authentication_event_id"] == first_event
    stats = client.get("/_sandbox/xero/stats").json
    assert stats["token_refreshes"] == 1
    assert stats["token_requests"] == {"authorization_code": 1, "refresh_token": 1}


def test_previous_refresh_token_works_for_thirty_minutes_only(client, xero_app):  # noqa: F811
    tokens = exchange(client, consent(client)["code"]).json
    old = tokens["refresh_token"]
    assert refresh(client, old).status_code == 200
    xero_app.extensions["sandbox"].clock.advance(29 * 60)
    retry = refresh(client, old)
    assert retry.status_code == 200
    assert retry.json["refresh_token"] not in (old, tokens["refresh_token"])
    xero_app.extensions["sandbox"].clock.advance(2 * 60)
    assert refresh(client, old).json == {"error": "invalid_grant"}
    assert refresh(client, retry.json["refresh_token"]).status_code == 200


def test_unknown_refresh_token_is_invalid_grant(client):
    assert refresh(client, "not-a-token").json == {"error": "invalid_grant"}
    assert client.get("/_sandbox/xero/stats").json["token_errors"] == {
        "refresh_token:invalid_grant": 1
    }


def test_revocation_kills_the_refresh_token_and_the_connections(client, xero_app):  # noqa: F811
    tokens = exchange(client, consent(client, tenants=(THAMES, HUDSON))["code"]).json
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert len(client.get("/connections", headers=bearer).json) == 2
    answer = client.post(
        "/connect/revocation", data={"token": tokens["refresh_token"]}, headers=basic_auth()
    )
    assert answer.status_code == 200
    assert client.get("/connections", headers=bearer).json == []
    assert refresh(client, tokens["refresh_token"]).json == {"error": "invalid_grant"}
    thames = tenant_ids(xero_app)[THAMES]
    api = client.get("/api.xro/2.0/Organisation", headers={**bearer, "xero-tenant-id": thames})
    assert api.status_code == 403


def test_revocation_needs_client_authentication(client):
    tokens = exchange(client, consent(client)["code"]).json
    answer = client.post(
        "/connect/revocation",
        data={"token": tokens["refresh_token"]},
        headers=basic_auth(secret="x"),
    )
    assert answer.json == {"error": "invalid_client"}
    assert refresh(client, tokens["refresh_token"]).status_code == 200


def test_connections_list_filters_by_auth_event(client, xero_app):  # noqa: F811
    first = exchange(client, consent(client, tenants=(THAMES,))["code"]).json
    second = exchange(client, consent(client, tenants=(HUDSON, PRACTICE))["code"]).json
    bearer = {"Authorization": f"Bearer {second['access_token']}"}
    everything = client.get("/connections", headers=bearer).json
    assert {c["tenantName"] for c in everything} == {THAMES, HUDSON, PRACTICE}
    event = jwt.decode(second["access_token"], options={"verify_signature": False})[
        "authentication_event_id"
    ]
    latest = client.get(f"/connections?authEventId={event}", headers=bearer).json
    assert {c["tenantName"]: c["tenantType"] for c in latest} == {
        HUDSON: "ORGANISATION",
        PRACTICE: "PRACTICE",
    }
    assert set(latest[0]) == {
        "id",
        "authEventId",
        "tenantId",
        "tenantType",
        "tenantName",
        "createdDateUtc",
        "updatedDateUtc",
    }
    assert first["access_token"] != second["access_token"]


def test_connections_need_a_valid_bearer_token(client):
    answer = client.get("/connections", headers={"Authorization": "Bearer nonsense"})
    assert answer.status_code == 401
    assert answer.json["Title"] == "Unauthorized"


def test_delete_connection_then_reconnect(client, xero_app):  # noqa: F811
    tokens = exchange(client, consent(client)["code"]).json
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    connection = client.get("/connections", headers=bearer).json[0]
    thames = connection["tenantId"]
    assert client.delete(f"/connections/{thames}", headers=bearer).status_code == 404
    assert client.delete(f"/connections/{connection['id']}", headers=bearer).status_code == 204
    assert client.delete(f"/connections/{connection['id']}", headers=bearer).status_code == 404
    api = client.get("/api.xro/2.0/Organisation", headers={**bearer, "xero-tenant-id": thames})
    assert api.status_code == 403
    assert api.json["Detail"] == "AuthenticationUnsuccessful"
    xero_app.extensions["sandbox"].clock.advance(60)
    again = exchange(client, consent(client)["code"]).json
    bearer = {"Authorization": f"Bearer {again['access_token']}"}
    reconnected = client.get("/connections", headers=bearer).json[0]
    assert reconnected["createdDateUtc"] == connection["createdDateUtc"]
    assert reconnected["updatedDateUtc"] > connection["updatedDateUtc"]
    assert (
        client.get(
            "/api.xro/2.0/Organisation", headers={**bearer, "xero-tenant-id": thames}
        ).status_code
        == 200
    )


def test_userinfo_returns_the_signed_in_user(client):
    tokens = exchange(
        client, consent(client, email="carol@example.com", tenants=(HUDSON,))["code"]
    ).json
    info = client.get(
        "/connect/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ).json
    assert info["email"] == "carol@example.com"
    assert info["name"] == "Carol Controller"
