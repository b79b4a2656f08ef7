"""The consent flow: picker, redirect to the store, callback, tokens stored, names, access."""

from __future__ import annotations

import pytest
from responses import matchers
from sqlmodel import select
from sqlmodel import text

from plugin.auth.token_store import read_amazon_access_token
from plugin.auth.token_store import read_amazon_refresh_token
from plugin.models import AmazonConnection
from plugin.models import AuditEvent
from plugin.models import ConnectionStatus
from tests.common.amazon import APPLICATION_ID
from tests.common.amazon import CLIENT_ID
from tests.common.amazon import CLIENT_SECRET
from tests.common.amazon import LWA_URL
from tests.common.amazon import start_consent
from tests.common.amazon import text_of

REDIRECT_URI = "http://localhost/amazon/callback"
ADMIN_DESCRIPTION = (
    "The signed-in user must be an Amazon Business administrator of every legal entity of the "
    "business account to authorise this application."
)


def lwa_exchange(http, code="AN-code", access="Atza|access-1", refresh="Atzr|refresh-1"):
    """Expect exactly the documented code-exchange form and answer with tokens."""
    http.post(
        LWA_URL,
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": REDIRECT_URI,
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                }
            )
        ],
        json={
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "bearer",
            "expires_in": 3600,
        },
    )


def connect(client, http, org_id, store="UK", **tokens):
    """The whole happy path for one store; the callback response."""
    params = start_consent(client, org_id, store)
    lwa_exchange(http, code=f"AN-{store}", **tokens)
    return client.get(f"/amazon/callback?code=AN-{store}&state={params['state']}")


def only_connection(db_session, org_id, store="UK"):
    db_session.expire_all()
    return db_session.exec(
        select(AmazonConnection).where(
            AmazonConnection.organisation_id == org_id, AmazonConnection.store == store
        )
    ).one()


def test_picker_lists_stores_us_and_uk_first(client, member):
    _, org = member
    response = client.get(f"/orgs/{org.id}/amazon")
    assert response.status_code == 200
    page = text_of(response)
    assert page.index("United States · amazon.com") < page.index("United Kingdom · amazon.co.uk")
    assert page.index("United Kingdom · amazon.co.uk") < page.index("Canada · amazon.ca")
    assert "administrator of every legal entity" in page
    assert 'name="csrf_token"' in page
    # The POST ends in a redirect to Amazon: CSP form-action must allow the stores' origins.
    assert "https://www.amazon.co.uk" in response.headers["Content-Security-Policy"]


def test_post_redirects_to_the_store_with_a_single_use_state(client, member):
    _, org = member
    response = client.post(f"/orgs/{org.id}/amazon", data={"store": "UK"})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("https://www.amazon.co.uk/b2b/abws/oauth?")
    params = start_consent(client, org.id, "UK")
    assert params["applicationId"] == APPLICATION_ID
    assert params["redirect_uri"] == REDIRECT_URI
    assert len(params["state"]) >= 32
    assert params["state"] not in location  # a fresh state every time


def test_post_honours_the_consent_url_override(app_config, make_app, make_member, sign_in):
    app_config["AMAZON_CONSENT_URL_TEMPLATE"] = "http://localhost:5001/amazon/{store}"
    application = make_app(app_config)
    client = application.test_client()
    user, org = make_member("bob", "tenant-b")
    sign_in(client, user)
    response = client.post(f"/orgs/{org.id}/amazon", data={"store": "DE"})
    assert response.headers["Location"].startswith(
        "http://localhost:5001/amazon/DE/b2b/abws/oauth?"
    )


def test_unknown_store_is_refused(client, member):
    _, org = member
    response = client.post(f"/orgs/{org.id}/amazon", data={"store": "GB"})
    assert response.status_code == 400
    assert "not an Amazon Business store" in text_of(response)


def test_successful_callback_stores_encrypted_tokens(app, client, member, http, db_session):
    _, org = member
    response = connect(client, http, org.id, access="Atza|secret-access", refresh="Atzr|secret-r")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/orgs/{org.id}/setup/history")  # next step
    assert response.headers["Referrer-Policy"] == "no-referrer"
    connection = only_connection(db_session, org.id)
    assert connection.name == "Amazon Business UK"
    assert (connection.region, connection.status) == ("EU", ConnectionStatus.ACTIVE)
    cipher = app.extensions["token_cipher"]
    assert read_amazon_refresh_token(cipher, connection) == "Atzr|secret-r"
    assert read_amazon_access_token(cipher, connection) == "Atza|secret-access"
    assert connection.access_token_expires_at is not None
    raw = db_session.exec(
        text("SELECT refresh_token_encrypted, access_token_encrypted FROM amazon_connection")
    ).one()
    assert "secret-r" not in raw[0]
    assert "secret-access" not in raw[1]
    page = text_of(client.get(f"/orgs/{org.id}/amazon"))
    assert "Amazon Business UK is connected." in page
    assert "Connect another store" in page
    actions = db_session.exec(select(AuditEvent.action)).all()
    assert "amazon_connected" in actions


def test_missing_state_is_refused_with_a_way_to_start_again(client, member):
    response = client.get("/amazon/callback?code=AN-x")
    assert response.status_code == 400
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = text_of(response)
    assert "no state parameter" in page
    assert "Start again" in page


def test_unknown_state_is_refused(client, member):
    _, org = member
    start_consent(client, org.id)
    response = client.get("/amazon/callback?code=AN-x&state=forged-state")
    assert response.status_code == 400
    assert "not started from this browser" in text_of(response)


def test_replayed_callback_is_refused(client, member, http, db_session):
    _, org = member
    params = start_consent(client, org.id)
    lwa_exchange(http, code="AN-1")
    first = client.get(f"/amazon/callback?code=AN-1&state={params['state']}")
    assert first.status_code == 302
    replay = client.get(f"/amazon/callback?code=AN-1&state={params['state']}")
    assert replay.status_code == 400
    assert "already used" in text_of(replay)
    assert len(db_session.exec(select(AmazonConnection)).all()) == 1


def test_not_an_admin_of_every_legal_entity_is_explained(client, member, db_session):
    _, org = member
    params = start_consent(client, org.id)
    response = client.get(
        "/amazon/callback",
        query_string={
            "error": "access_denied",
            "error_description": ADMIN_DESCRIPTION,
            "state": params["state"],
        },
    )
    assert response.status_code == 400
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = text_of(response)
    assert "Sign in as an Amazon Business administrator of every legal entity" in page
    assert "Start again with Amazon Business UK" in page
    assert "access_denied" in page  # Amazon's own words, for support
    assert db_session.exec(select(AmazonConnection)).all() == []


def test_cancelled_consent_is_explained(client, member):
    _, org = member
    params = start_consent(client, org.id)
    response = client.get(
        "/amazon/callback",
        query_string={
            "error": "access_denied",
            "error_description": "The user cancelled the authorization request.",
            "state": params["state"],
        },
    )
    assert response.status_code == 400
    assert "You cancelled the connection" in text_of(response)


def test_code_exchange_refused_is_explained(client, member, http, db_session):
    _, org = member
    params = start_consent(client, org.id)
    http.post(
        LWA_URL,
        status=400,
        json={"error": "invalid_grant", "error_description": "The request has an invalid grant"},
    )
    response = client.get(f"/amazon/callback?code=AN-old&state={params['state']}")
    assert response.status_code == 502
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = text_of(response)
    assert "The Amazon sign-in expired" in page
    assert "five minutes" in page
    assert db_session.exec(select(AmazonConnection)).all() == []


def test_code_exchange_outage_is_explained(client, member, http):
    _, org = member
    params = start_consent(client, org.id)
    http.post(LWA_URL, status=503, body="upstream down")
    response = client.get(f"/amazon/callback?code=AN-1&state={params['state']}")
    assert response.status_code == 502
    assert "Wait a minute, then start again" in text_of(response)


def test_reconnect_replaces_tokens_and_nothing_else(app, client, member, http, db_session):
    _, org = member
    connect(client, http, org.id, access="Atza|old", refresh="Atzr|old")
    connection = only_connection(db_session, org.id)
    connection.name = "UK purchasing"
    connection.account_key = "payer:amzn1.account.P"
    connection.account_identity = {"key": "payer:amzn1.account.P", "payer_ids": ["P"]}
    connection.status = ConnectionStatus.NEEDS_RECONNECT
    connection.status_reason = "revoked"
    db_session.add(connection)
    db_session.commit()
    connection_id = connection.id

    response = connect(client, http, org.id, access="Atza|new", refresh="Atzr|new")
    assert response.status_code == 302
    again = only_connection(db_session, org.id)
    assert again.id == connection_id
    cipher = app.extensions["token_cipher"]
    assert read_amazon_refresh_token(cipher, again) == "Atzr|new"
    assert read_amazon_access_token(cipher, again) == "Atza|new"
    assert (again.status, again.status_reason) == (ConnectionStatus.ACTIVE, None)
    assert again.name == "UK purchasing"
    assert again.account_key == "payer:amzn1.account.P"
    assert "connected again" in text_of(client.get(f"/orgs/{org.id}/amazon"))


def test_another_store_gets_its_own_connection(client, member, http, db_session):
    _, org = member
    connect(client, http, org.id, "UK")
    connect(client, http, org.id, "DE")
    names = sorted(c.name for c in db_session.exec(select(AmazonConnection)).all())
    assert names == ["Amazon Business DE", "Amazon Business UK"]
    page = text_of(client.get(f"/orgs/{org.id}/amazon"))
    assert "Amazon Business DE" in page
    assert "Germany · amazon.de · connected: reconnect" in page


def test_rename_with_a_form_and_with_htmx(client, member, http, db_session):
    _, org = member
    connect(client, http, org.id)
    connection = only_connection(db_session, org.id)
    url = f"/orgs/{org.id}/amazon/{connection.id}/name"
    response = client.post(url, data={"name": "  UK   office buying "})
    assert response.status_code == 302
    assert only_connection(db_session, org.id).name == "UK office buying"

    fragment = client.post(url, data={"name": "Stationery UK"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith(f'<li id="amazon-connection-{connection.id}"')
    assert "Stationery UK" in html
    assert only_connection(db_session, org.id).name == "Stationery UK"

    empty = client.post(url, data={"name": "   "}, headers={"HX-Request": "true"})
    assert empty.status_code == 400
    assert "Give the connection a name" in text_of(empty)
    assert only_connection(db_session, org.id).name == "Stationery UK"


def test_every_amazon_route_is_404_for_another_orgs_member(
    app, client, member, http, make_member, sign_in, db_session
):
    _, org = member
    connect(client, http, org.id)
    connection = only_connection(db_session, org.id)
    state = start_consent(client, org.id)["state"]
    cookie = client.get_cookie("session")

    mallory, _ = make_member("mallory", "tenant-m", "Mallory Ltd")
    intruder = app.test_client()
    sign_in(intruder, mallory)
    assert intruder.get(f"/orgs/{org.id}/amazon").status_code == 404
    assert intruder.post(f"/orgs/{org.id}/amazon", data={"store": "UK"}).status_code == 404
    rename_url = f"/orgs/{org.id}/amazon/{connection.id}/name"
    assert intruder.post(rename_url, data={"name": "Mine"}).status_code == 404
    # Even holding the victim's session cookie (state included), the callback checks membership.
    with intruder.session_transaction() as session:
        own = dict(session)
    intruder.set_cookie("session", cookie.value)
    with intruder.session_transaction() as session:
        session.update({k: own[k] for k in ("_user_id", "_id", "_fresh")})
    assert intruder.get(f"/amazon/callback?code=AN-x&state={state}").status_code == 404
    assert only_connection(db_session, org.id).name == "Amazon Business UK"


def test_rename_of_another_orgs_connection_via_own_org_is_404(
    client, member, http, make_member, db_session, sign_in
):
    _, org = member
    connect(client, http, org.id)
    connection = only_connection(db_session, org.id)
    # alice is also a member of a second org; that org does not own this connection
    alice, second = make_member("alice", "tenant-second", "Second Ltd")
    sign_in(client, alice)  # a new membership ends her sessions (a Xero sign-in adds it)
    response = client.post(f"/orgs/{second.id}/amazon/{connection.id}/name", data={"name": "x"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path", ["/orgs/1/amazon", "/amazon/callback?code=a&state=b"], ids=["page", "callback"]
)
def test_signed_out_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/?next=" in response.headers["Location"]


def test_post_without_csrf_token_is_refused(app_config, make_app, make_member, sign_in):
    csrf_app = make_app({**app_config, "WTF_CSRF_ENABLED": True})
    client = csrf_app.test_client()
    user, org = make_member("carol", "tenant-c")
    sign_in(client, user)
    assert client.post(f"/orgs/{org.id}/amazon", data={"store": "UK"}).status_code == 400
    assert client.post(f"/orgs/{org.id}/amazon/1/name", data={"name": "x"}).status_code == 400
