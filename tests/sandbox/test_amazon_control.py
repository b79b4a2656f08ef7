"""Control endpoints: accounts, added transactions, reset, stats."""

from __future__ import annotations

from decimal import Decimal

from sandbox.amazon.transaction_json import line_sum
from tests.sandbox.amazon_helpers import connect


def test_accounts_describe_the_seed(sandbox_client):
    body = sandbox_client.get("/_sandbox/amazon/accounts").json
    accounts = {account["key"]: account for account in body["accounts"]}
    thames, hudson = accounts["thames"], accounts["hudson"]
    assert thames["name"] == "Thames Stationery Ltd"
    assert [s["store"] for s in thames["stores"]] == ["UK", "DE"]
    assert sum(s["transactions"] for s in thames["stores"]) == 40
    assert thames["legal_entities"] == ["Thames Stationery Ltd", "Thames Stationery (Scotland) Ltd"]
    assert {u["email"]: u["admin_of_all_entities"] for u in thames["users"]} == {
        "buyer-admin-uk@example.com": True,
        "buyer-user-uk@example.com": False,
    }
    assert hudson["stores"][0]["currency"] == "USD"
    assert hudson["id"].startswith("amzn1.ab.account.")
    assert hudson["users"][0]["password"] == "sandbox"
    kinds = {(i["type"], i["last4"]) for i in hudson["instruments"]}
    assert {("Pay by Invoice", None), ("Gift Card Balance", None), ("Visa", "2468")} <= kinds


def test_ids_are_deterministic_from_the_seed(sandbox_client):
    def ids():
        accounts = sandbox_client.get("/_sandbox/amazon/accounts").json["accounts"]
        return [(a["id"], [u["id"] for u in a["users"]]) for a in accounts]

    first = ids()
    sandbox_client.post("/_sandbox/reset", json={})
    assert ids() == first
    sandbox_client.post("/_sandbox/reset", json={"seed": 7})
    assert ids() != first


def test_reset_rebuilds_volume_and_forgets_consents(sandbox_client):
    connect(sandbox_client)
    sandbox_client.post("/_sandbox/reset", json={"config": {"SANDBOX_AMAZON_TRANSACTIONS": 12}})
    accounts = sandbox_client.get("/_sandbox/amazon/accounts").json["accounts"]
    assert [sum(s["transactions"] for s in a["stores"]) for a in accounts] == [12, 12]
    assert all(a["consents"] == [] for a in accounts)
    assert sandbox_client.get("/_sandbox/amazon/stats").json["token_calls"] == {}


def test_added_purchases_are_consistent_and_dated_now(sandbox_app, sandbox_client):
    now = sandbox_app.extensions["sandbox"].clock.now()
    response = sandbox_client.post(
        "/_sandbox/amazon/transactions", json={"account": "Hudson Design LLC", "count": 2}
    )
    assert response.json["added"] == 2
    listed = sandbox_client.get("/_sandbox/amazon/transactions?account=hudson").json
    added = [
        tx
        for tx in listed["transactions"]
        if tx["transactionId"] in response.json["transactionIds"]
    ]
    assert len(added) == 2
    for tx in added:
        assert Decimal(tx["amount"]["amount"]) == line_sum(tx)
        assert tx["transactionDate"] == tx["feedDate"]
        assert tx["transactionDate"][:16] == now.strftime("%Y-%m-%dT%H:%M")


def test_new_card_is_listed_on_the_account(sandbox_client):
    sandbox_client.post(
        "/_sandbox/amazon/transactions",
        json={"account": "thames", "new_card": {"type": "Visa", "last4": "9911"}},
    )
    accounts = sandbox_client.get("/_sandbox/amazon/accounts").json["accounts"]
    thames = next(a for a in accounts if a["key"] == "thames")
    assert {"type": "Visa", "last4": "9911", "kind": "card", "late_new_card": False} in thames[
        "instruments"
    ]


def test_add_transactions_validation(sandbox_client):
    post = sandbox_client.post
    assert post("/_sandbox/amazon/transactions", json={"account": "nobody"}).status_code == 404
    bad_store = {"account": "hudson", "store": "UK", "count": 1}
    assert post("/_sandbox/amazon/transactions", json=bad_store).status_code == 400
    bad_raw = {"account": "hudson", "transactions": ["not an object"]}
    assert post("/_sandbox/amazon/transactions", json=bad_raw).status_code == 400
    bad_card = {"account": "hudson", "new_card": {"last4": "1"}}
    assert post("/_sandbox/amazon/transactions", json=bad_card).status_code == 400
    assert post("/_sandbox/amazon/revoke", json={}).status_code == 400


def test_stats_shape(sandbox_client):
    assert sandbox_client.get("/_sandbox/amazon/stats").json == {
        "token_calls": {},
        "api_calls": {},
        "throttled": {},
        "faults": {},
        "downloads": 0,
    }
