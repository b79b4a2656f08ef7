"""Consent page per store, LWA token endpoint, revocation and token statistics."""

from __future__ import annotations

import requests

from tests.common.web import query_of
from tests.sandbox.amazon_helpers import ADMIN_UK
from tests.sandbox.amazon_helpers import ADMIN_US
from tests.sandbox.amazon_helpers import ALL_TIME
from tests.sandbox.amazon_helpers import APP_ID
from tests.sandbox.amazon_helpers import REDIRECT
from tests.sandbox.amazon_helpers import TX_PATH
from tests.sandbox.amazon_helpers import USER_UK
from tests.sandbox.amazon_helpers import api
from tests.sandbox.amazon_helpers import authorize
from tests.sandbox.amazon_helpers import connect
from tests.sandbox.amazon_helpers import consent_params
from tests.sandbox.amazon_helpers import error_code
from tests.sandbox.amazon_helpers import sign_in
from tests.sandbox.amazon_helpers import ticket_of
from tests.sandbox.amazon_helpers import token_request


def test_consent_page_shows_sign_in_form(sandbox_client):
    response = sandbox_client.get("/amazon/UK/b2b/abws/oauth", query_string=consent_params())
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="email"' in html
    assert 'name="password"' in html
    assert "Sign in" in html
    assert "amazon.co.uk" in html


def test_wrong_application_id_gives_an_error_page_not_a_redirect(sandbox_client):
    params = {**consent_params(), "applicationId": "amzn1.sp.solution.other"}
    response = sandbox_client.get("/amazon/UK/b2b/abws/oauth", query_string=params)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "applicationId" in response.get_data(as_text=True)


def test_foreign_redirect_uri_missing_state_and_unknown_store_are_refused(sandbox_client):
    bad_redirect = consent_params(redirect_uri="https://evil.example/cb")
    response = sandbox_client.get("/amazon/UK/b2b/abws/oauth", query_string=bad_redirect)
    assert response.status_code == 400
    assert "redirect_uri" in response.get_data(as_text=True)
    localhost = consent_params(redirect_uri="http://localhost:8000/cb")
    assert (
        sandbox_client.get("/amazon/US/b2b/abws/oauth", query_string=localhost).status_code == 200
    )
    no_state = {"applicationId": APP_ID, "redirect_uri": REDIRECT}
    response = sandbox_client.get("/amazon/UK/b2b/abws/oauth", query_string=no_state)
    assert response.status_code == 400
    assert "state" in response.get_data(as_text=True)
    response = sandbox_client.get("/amazon/ZZ/b2b/abws/oauth", query_string=consent_params())
    assert response.status_code == 404


def test_wrong_password_shows_the_form_again(sandbox_client):
    response = sign_in(sandbox_client, "UK", ADMIN_UK, password="wrong")
    html = response.get_data(as_text=True)
    assert "incorrect" in html
    assert 'name="password"' in html
    assert "Location" not in response.headers


def test_admin_sees_account_store_and_allow(sandbox_client):
    response = sign_in(sandbox_client, "UK", ADMIN_UK)
    html = response.get_data(as_text=True)
    assert "Thames Stationery Ltd" in html
    assert "amazon.co.uk" in html
    assert "Allow" in html
    assert "Cancel" in html


def test_allow_redirects_with_code_and_state(sandbox_client):
    page = sign_in(sandbox_client, "UK", ADMIN_UK, state="abc-123")
    response = sandbox_client.post(
        "/amazon/UK/b2b/abws/oauth/decision", data={"ticket": ticket_of(page), "decision": "allow"}
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    query = query_of(location)
    assert query["state"] == "abc-123"
    assert query["code"]
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_ticket_is_single_use(sandbox_client):
    ticket = ticket_of(sign_in(sandbox_client, "UK", ADMIN_UK))
    form = {"ticket": ticket, "decision": "allow"}
    assert sandbox_client.post("/amazon/UK/b2b/abws/oauth/decision", data=form).status_code == 302
    assert sandbox_client.post("/amazon/UK/b2b/abws/oauth/decision", data=form).status_code == 400


def test_cancel_redirects_with_access_denied(sandbox_client):
    page = sign_in(sandbox_client, "UK", ADMIN_UK, state="s-9")
    response = sandbox_client.post(
        "/amazon/UK/b2b/abws/oauth/decision", data={"ticket": ticket_of(page), "decision": "cancel"}
    )
    query = query_of(response.headers["Location"])
    assert query["error"] == "access_denied"
    assert query["state"] == "s-9"
    assert query["error_description"]
    assert "code" not in query


def test_non_admin_user_is_refused_with_a_clear_reason(sandbox_client):
    response = sign_in(sandbox_client, "UK", USER_UK, state="s-2")
    assert response.status_code == 302
    query = query_of(response.headers["Location"])
    assert query["error"] == "access_denied"
    assert query["state"] == "s-2"
    assert "administrator of every legal entity" in query["error_description"]


def test_account_that_does_not_buy_on_the_store_is_refused(sandbox_client):
    response = sign_in(sandbox_client, "UK", ADMIN_US)
    query = query_of(response.headers["Location"])
    assert query["error"] == "access_denied"
    assert "does not buy on amazon.co.uk" in query["error_description"]
    assert "US" in query["error_description"]


def test_code_exchange_returns_lwa_tokens(sandbox_client):
    tokens = connect(sandbox_client, "UK")
    assert tokens["access_token"].startswith("Atza|")
    assert tokens["refresh_token"].startswith("Atzr|")
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 3600


def test_code_is_single_use(sandbox_client):
    code = authorize(sandbox_client)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    assert token_request(sandbox_client, **form).status_code == 200
    again = token_request(sandbox_client, **form)
    assert again.status_code == 400
    assert again.json["error"] == "invalid_grant"


def test_code_expires_after_five_sandbox_minutes(sandbox_app, sandbox_client):
    code = authorize(sandbox_client)
    sandbox_app.extensions["sandbox"].clock.advance(301)
    response = token_request(
        sandbox_client, grant_type="authorization_code", code=code, redirect_uri=REDIRECT
    )
    assert response.status_code == 400
    assert response.json["error"] == "invalid_grant"


def test_code_exchange_needs_the_same_redirect_uri(sandbox_client):
    code = authorize(sandbox_client)
    response = token_request(
        sandbox_client,
        grant_type="authorization_code",
        code=code,
        redirect_uri="http://127.0.0.1:5000/other",
    )
    assert response.status_code == 400
    assert response.json["error"] == "invalid_grant"


def test_bad_client_and_unsupported_grant(sandbox_client):
    code = authorize(sandbox_client)
    response = token_request(
        sandbox_client,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        client_secret="wrong",
    )
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"
    response = token_request(sandbox_client, grant_type="client_credentials")
    assert response.status_code == 400
    assert response.json["error"] == "unsupported_grant_type"
    response = token_request(sandbox_client, grant_type="refresh_token")
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"


def test_refresh_gives_new_access_token_and_reuses_refresh_token(sandbox_client):
    tokens = connect(sandbox_client)
    response = token_request(
        sandbox_client, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert response.status_code == 200
    assert response.json["refresh_token"] == tokens["refresh_token"]
    assert response.json["access_token"] != tokens["access_token"]
    assert response.json["expires_in"] == 3600
    bad = token_request(sandbox_client, grant_type="refresh_token", refresh_token="Atzr|nope")
    assert bad.status_code == 400
    assert bad.json["error"] == "invalid_grant"


def test_revoke_by_refresh_token_stops_refresh_and_access(sandbox_client):
    tokens = connect(sandbox_client)
    token = tokens["access_token"]
    assert (
        api(sandbox_client, "GET", "UK", TX_PATH, token, query_string=ALL_TIME).status_code == 200
    )
    revoked = sandbox_client.post(
        "/_sandbox/amazon/revoke", json={"refresh_token": tokens["refresh_token"]}
    )
    assert revoked.json == {"revoked": 1}
    response = token_request(
        sandbox_client, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert response.status_code == 400
    assert response.json["error"] == "invalid_grant"
    response = api(sandbox_client, "GET", "UK", TX_PATH, token, query_string=ALL_TIME)
    assert response.status_code == 403
    assert error_code(response) == "Unauthorized"


def test_revoke_by_account_covers_its_stores_only(sandbox_client):
    uk = connect(sandbox_client, "UK")
    de = connect(sandbox_client, "DE")
    us = connect(sandbox_client, "US", ADMIN_US)
    response = sandbox_client.post("/_sandbox/amazon/revoke", json={"account": "thames"})
    assert response.json == {"revoked": 2}
    for tokens in (uk, de):
        refreshed = token_request(
            sandbox_client, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
        )
        assert refreshed.json["error"] == "invalid_grant"
    refreshed = token_request(
        sandbox_client, grant_type="refresh_token", refresh_token=us["refresh_token"]
    )
    assert refreshed.status_code == 200


def test_stats_count_token_calls(sandbox_client):
    tokens = connect(sandbox_client)
    token_request(sandbox_client, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    token_request(sandbox_client, grant_type="refresh_token", refresh_token="Atzr|bad")
    stats = sandbox_client.get("/_sandbox/amazon/stats").json
    assert stats["token_calls"] == {"authorization_code": 1, "refresh_token": 2, "failed": 1}


def test_consent_redirect_over_real_http(sandbox):
    with requests.Session() as session:
        url = f"{sandbox.url}/amazon/US/b2b/abws/oauth"
        page = session.get(url, params=consent_params(state="live"), timeout=10)
        assert page.status_code == 200
        assert "Sign in" in page.text
        form = {**consent_params(state="live"), "email": ADMIN_US, "password": "sandbox"}
        consent = session.post(url, data=form, timeout=10)
        assert "Hudson Design LLC" in consent.text
        decision = session.post(
            f"{url}/decision",
            data={"ticket": ticket_of(consent.text), "decision": "allow"},
            allow_redirects=False,
            timeout=10,
        )
        assert decision.status_code == 302
        query = query_of(decision.headers["Location"])
        assert query["state"] == "live"
        tokens = session.post(
            f"{sandbox.url}/auth/o2/token",
            data={
                "grant_type": "authorization_code",
                "code": query["code"],
                "redirect_uri": REDIRECT,
                "client_id": "amzn1.application-oa2-client.sandbox",
                "client_secret": "sandbox-amazon-client-secret",
            },
            timeout=10,
        ).json()
        response = session.get(
            f"{sandbox.url}/amazon-api/na{TX_PATH}",
            params=ALL_TIME,
            headers={"x-amz-access-token": tokens["access_token"]},
            timeout=10,
        )
        assert response.status_code == 200
        assert response.json()["transactions"]
