"""End to end against the local sandbox over real HTTP: pick a store, sign in on the sandbox's
consent page, come back to our callback, store tokens, and read transactions with the client."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import requests
from sqlmodel import select

from plugin.amazon.accounts import claim_account
from plugin.amazon.accounts import identify_account
from plugin.amazon.client import AmazonBusinessClient
from plugin.amazon.invoices import LineItemKey
from plugin.amazon.settings import AmazonSettings
from plugin.auth.token_store import read_amazon_refresh_token
from plugin.db import session_scope
from plugin.models import AmazonConnection
from plugin.models import ConnectionStatus
from plugin.models import utcnow
from sandbox import DEFAULTS
from tests.common.amazon import text_of
from tests.common.e2e import sign_in_on_amazon
from tests.common.web import query_of

TIMEOUT = 10


@pytest.fixture
def sandbox_app(sandbox, app_config, make_app):
    """Our app configured to talk to the live sandbox for everything Amazon."""
    app_config.update(
        {
            "AMAZON_CLIENT_ID": DEFAULTS["SANDBOX_AMAZON_CLIENT_ID"],
            "AMAZON_CLIENT_SECRET": DEFAULTS["SANDBOX_AMAZON_CLIENT_SECRET"],
            "AMAZON_APPLICATION_ID": DEFAULTS["SANDBOX_AMAZON_APPLICATION_ID"],
            "AMAZON_LWA_TOKEN_URL": f"{sandbox.url}/auth/o2/token",
            "AMAZON_CONSENT_URL_TEMPLATE": f"{sandbox.url}/amazon/{{store}}",
            "AMAZON_API_URL_TEMPLATE": f"{sandbox.url}/amazon-api/{{region}}",
        }
    )
    return make_app(app_config)


@pytest.fixture
def browser(sandbox_app, make_member, sign_in):
    """(our test client signed in as a member, their org)."""
    user, org = make_member("eleanor", "tenant-thames", "Thames Stationery Ltd")
    client = sandbox_app.test_client()
    sign_in(client, user)
    return client, org


def consent_location(client: Any, org_id: int, store: str) -> str:
    response = client.post(f"/orgs/{org_id}/amazon", data={"store": store})
    assert response.status_code == 303
    return response.headers["Location"]


def test_connect_a_store_and_read_its_transactions(sandbox_app, browser, sandbox, redis_client):
    client, org = browser
    location = consent_location(client, org.id, "UK")
    assert location.startswith(f"{sandbox.url}/amazon/UK/b2b/abws/oauth?")
    back = sign_in_on_amazon(location, "buyer-admin-uk@example.com")
    assert back.startswith("http://localhost/amazon/callback?")
    assert set(query_of(back)) == {"code", "state"}

    callback = client.get(back)
    assert callback.status_code == 302, text_of(callback)
    assert callback.headers["Referrer-Policy"] == "no-referrer"
    assert "Amazon Business UK is connected." in text_of(client.get(callback.headers["Location"]))

    cipher = sandbox_app.extensions["token_cipher"]
    with session_scope(sandbox_app) as session:
        connection = session.exec(select(AmazonConnection)).one()
        assert connection.status == ConnectionStatus.ACTIVE
        assert read_amazon_refresh_token(cipher, connection).startswith("Atzr|")

        settings = AmazonSettings.from_config(sandbox_app.config)
        now = utcnow()
        with AmazonBusinessClient.for_connection(
            connection, settings, lambda: session_scope(sandbox_app), cipher, redis_client
        ) as amazon:
            pages = list(amazon.iter_transaction_pages(now - timedelta(days=91), now))
        transactions = [t for p in pages for t in p.transactions]
        assert transactions, "the sandbox's UK store has purchases in the last 90 days"
        assert all(t.marketplace_id == "A1F83G8C2ARO7P" for t in transactions)
        assert [f for p in pages for f in p.failures] == []

        identity = claim_account(session, connection, identify_account(pages[0].transactions))
        session.commit()
    accounts = requests.get(f"{sandbox.url}/_sandbox/amazon/accounts", timeout=TIMEOUT).json()
    thames = next(a for a in accounts["accounts"] if a["key"] == "thames")
    payer = next(u for u in thames["users"] if u["email"] == "buyer-admin-uk@example.com")
    assert identity.key == f"payer:{payer['id']}"
    assert identity.legal_entities <= set(thames["legal_entities"])
    stats = requests.get(f"{sandbox.url}/_sandbox/amazon/stats", timeout=TIMEOUT).json()
    assert stats["token_calls"] == {"authorization_code": 1}  # the cached access token was used


def connect_uk(client: Any, org_id: int) -> None:
    """The consent walk for the UK store as its administrator."""
    back = sign_in_on_amazon(consent_location(client, org_id, "UK"), "buyer-admin-uk@example.com")
    assert client.get(back).status_code == 302


def test_invoices_payment_details_and_a_pdf_from_the_sandbox(
    sandbox_app, browser, sandbox, redis_client
):
    client, org = browser
    connect_uk(client, org.id)
    cipher = sandbox_app.extensions["token_cipher"]
    settings = AmazonSettings.from_config(sandbox_app.config)
    with session_scope(sandbox_app) as session:
        connection = session.exec(select(AmazonConnection)).one()
        now = utcnow()
        with AmazonBusinessClient.for_connection(
            connection,
            settings,
            lambda: session_scope(sandbox_app),
            cipher,
            redis_client,
            sleep=sandbox.sandbox.clock.advance,  # report polling moves sandbox time, not ours
        ) as amazon:
            transactions = [
                t
                for p in amazon.iter_transaction_pages(now - timedelta(days=91), now)
                for t in p.transactions
                if t.transaction_type == "CHARGE"
            ]
            keys = [
                LineItemKey(line.order_id, line.order_line_item_id, line.shipment_id)
                for t in transactions
                for line in t.line_items
                if line.order_id and line.order_line_item_id and line.shipment_id
            ]
            unique = list(dict.fromkeys(keys))[:30]
            details = amazon.invoice_details(unique)
            numbers = [i.invoice_number for d in details for i in d.invoices]
            payments = amazon.invoice_payment_details([*numbers, "NO-SUCH-INVOICE"])
            pdf = amazon.fetch_invoice_pdf(line_item=details[0].key)
    assert [d.key for d in details] == unique
    assert numbers, "charged lines have invoices"
    assert [p.invoice_id for p in payments] == list(dict.fromkeys([*numbers, "NO-SUCH-INVOICE"]))
    assert payments[-1].result_type == "ERROR"
    assert pdf.startswith(b"%PDF")
    stats = requests.get(f"{sandbox.url}/_sandbox/amazon/stats", timeout=TIMEOUT).json()
    calls = stats["api_calls"]["getInvoiceDetailsByOrderLineItems"]
    assert calls == -(-len(unique) // 25)  # batches of 25
    assert stats["api_calls"]["createReport"] == 1


def test_a_user_who_is_not_admin_of_every_entity_gets_a_clear_page(sandbox_app, browser):
    client, org = browser
    location = consent_location(client, org.id, "UK")
    back = sign_in_on_amazon(location, "buyer-user-uk@example.com")
    assert query_of(back)["error"] == "access_denied"
    page = client.get(back)
    assert page.status_code == 400
    assert page.headers["Referrer-Policy"] == "no-referrer"
    text = text_of(page)
    assert "Sign in as an Amazon Business administrator of every legal entity" in text
    assert "Start again with Amazon Business UK" in text
    with session_scope(sandbox_app) as session:
        assert session.exec(select(AmazonConnection)).all() == []
