"""getTransactions: auth, validation, feed-date windows, store scoping and pagination."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sandbox import create_sandbox_app
from sandbox.amazon.dates import iso_s
from sandbox.amazon.dates import parse_iso
from sandbox.amazon.stores import STORES
from tests.sandbox.amazon_helpers import ADMIN_US
from tests.sandbox.amazon_helpers import ALL_TIME
from tests.sandbox.amazon_helpers import TX_PATH
from tests.sandbox.amazon_helpers import all_transactions
from tests.sandbox.amazon_helpers import api
from tests.sandbox.amazon_helpers import connect
from tests.sandbox.amazon_helpers import error_code


@pytest.fixture
def paged_app():
    """Small pages so pagination shows with few transactions."""
    return create_sandbox_app({"SANDBOX_AMAZON_TRANSACTIONS": 40, "SANDBOX_AMAZON_PAGE_SIZE": 7})


@pytest.fixture
def paged_client(paged_app):
    return paged_app.test_client()


@pytest.fixture
def uk_token(sandbox_client):
    return connect(sandbox_client, "UK")["access_token"]


def get(client, token, store="UK", **query):
    return api(client, "GET", store, TX_PATH, token, query_string=query)


def test_returns_transactions_with_request_id_and_rate_limit(sandbox_client, uk_token):
    response = get(sandbox_client, uk_token, **ALL_TIME)
    assert response.status_code == 200
    assert response.headers["x-amzn-RequestId"]
    assert response.headers["x-amzn-RateLimit-Limit"] == "2.0"
    body = response.json
    assert set(body) == {"transactions"}
    assert body["transactions"]
    uk = STORES["UK"].marketplace_id
    assert all(tx["marketplaceId"] == uk for tx in body["transactions"])


@pytest.mark.parametrize(
    ("headers", "detail"),
    [({}, "missing"), ({"x-amz-access-token": "Atza|forged"}, "invalid")],
)
def test_missing_or_invalid_token_is_403(sandbox_client, headers, detail):
    response = sandbox_client.get(
        f"/amazon-api/eu{TX_PATH}", query_string=ALL_TIME, headers=headers
    )
    assert response.status_code == 403
    assert error_code(response) == "Unauthorized"
    assert detail in response.json["errors"][0]["details"]
    assert response.headers["x-amzn-RequestId"]


def test_expired_token_is_403_after_an_hour(sandbox_app, sandbox_client, uk_token):
    assert get(sandbox_client, uk_token, **ALL_TIME).status_code == 200
    sandbox_app.extensions["sandbox"].clock.advance(3601)
    response = get(sandbox_client, uk_token, **ALL_TIME)
    assert response.status_code == 403
    assert "expired" in response.json["errors"][0]["details"]


def test_token_of_another_region_is_403(sandbox_client, uk_token):
    response = sandbox_client.get(
        f"/amazon-api/na{TX_PATH}", query_string=ALL_TIME, headers={"x-amz-access-token": uk_token}
    )
    assert response.status_code == 403
    assert error_code(response) == "Unauthorized"
    us_token = connect(sandbox_client, "US", ADMIN_US)["access_token"]
    response = sandbox_client.get(
        f"/amazon-api/eu{TX_PATH}", query_string=ALL_TIME, headers={"x-amz-access-token": us_token}
    )
    assert response.status_code == 403


def test_unknown_region_and_unknown_path_are_404(sandbox_client, uk_token):
    headers = {"x-amz-access-token": uk_token}
    response = sandbox_client.get(
        f"/amazon-api/fe{TX_PATH}", query_string=ALL_TIME, headers=headers
    )
    assert response.status_code == 404
    assert error_code(response) == "NOT_FOUND"
    response = sandbox_client.get("/amazon-api/eu/reconciliation/2021-01-08/nothing")
    assert response.status_code == 404
    assert response.headers["x-amzn-RequestId"]


@pytest.mark.parametrize(
    "query",
    [{}, {"feedStartDate": "2025-01-01T00:00:00Z"}, {"feedEndDate": "2025-01-01T00:00:00Z"}],
)
def test_both_dates_are_required(sandbox_client, uk_token, query):
    response = get(sandbox_client, uk_token, **query)
    assert response.status_code == 400
    assert error_code(response) == "INVALID_REQUEST_PARAMETER"
    assert response.json["errors"][0]["message"] == "Missing required request parameters."


@pytest.mark.parametrize(
    "bad", ["incorrectFormatDate", "2020-08-01", "2020-08-01T00:00:00", "2020-02-30T00:00:00Z"]
)
def test_bad_dates_give_the_documented_message(sandbox_client, uk_token, bad):
    response = get(sandbox_client, uk_token, feedStartDate=bad, feedEndDate="2020-08-01T00:00:00Z")
    assert response.status_code == 400
    assert error_code(response) == "INVALID_REQUEST_PARAMETER"
    assert response.json["errors"][0]["message"] == (
        f"Input date [{bad}] is not in the expected ISO8601 format."
    )


def test_offsets_and_fractions_are_accepted(sandbox_client, uk_token):
    response = get(
        sandbox_client,
        uk_token,
        feedStartDate="2000-01-01T01:00:00.000+01:00",
        feedEndDate="2100-01-01T00:00:00.5Z",
    )
    assert response.status_code == 200


def test_start_after_end_and_unknown_parameters_are_400(sandbox_client, uk_token):
    response = get(
        sandbox_client,
        uk_token,
        feedStartDate="2025-02-01T00:00:00Z",
        feedEndDate="2025-01-01T00:00:00Z",
    )
    assert response.status_code == 400
    response = get(sandbox_client, uk_token, **ALL_TIME, marketplaceId="A1F83G8C2ARO7P")
    assert response.status_code == 400
    assert "marketplaceId" in response.json["errors"][0]["message"]


def test_window_is_on_feed_date_inclusive(sandbox_client, uk_token):
    everything = all_transactions(sandbox_client, "UK", uk_token)
    target = everything[len(everything) // 2]
    feed = target["feedDate"]
    response = get(sandbox_client, uk_token, feedStartDate=feed, feedEndDate=feed)
    ids = [tx["transactionId"] for tx in response.json["transactions"]]
    assert ids == [target["transactionId"]]
    start = parse_iso(feed) + timedelta(milliseconds=1)
    later = get(
        sandbox_client,
        uk_token,
        feedStartDate=start.isoformat().replace("+00:00", "Z"),
        feedEndDate="2100-01-01T00:00:00Z",
    )
    assert target["transactionId"] not in [tx["transactionId"] for tx in later.json["transactions"]]
    assert all(parse_iso(tx["feedDate"]) >= start for tx in later.json["transactions"])


def test_each_store_token_sees_only_its_store(sandbox_client):
    uk = all_transactions(sandbox_client, "UK", connect(sandbox_client, "UK")["access_token"])
    de = all_transactions(sandbox_client, "DE", connect(sandbox_client, "DE")["access_token"])
    us_token = connect(sandbox_client, "US", ADMIN_US)["access_token"]
    us = all_transactions(sandbox_client, "US", us_token)
    assert {tx["amount"]["currencyCode"] for tx in uk} == {"GBP"}
    assert {tx["amount"]["currencyCode"] for tx in de} == {"EUR"}
    assert {tx["amount"]["currencyCode"] for tx in us} == {"USD"}
    assert len(uk) + len(de) == 40
    assert len(us) == 40


def test_pagination_returns_everything_once(paged_client):
    token = connect(paged_client, "US", ADMIN_US)["access_token"]
    first = get(paged_client, token, "US", **ALL_TIME)
    assert len(first.json["transactions"]) == 7
    assert first.json["nextPageToken"]
    found = all_transactions(paged_client, "US", token)
    ids = [tx["transactionId"] for tx in found]
    assert len(ids) == 40 == len(set(ids))
    feeds = [tx["feedDate"] for tx in found]
    assert feeds == sorted(feeds)


def test_next_page_token_must_be_sent_alone(paged_client):
    token = connect(paged_client, "US", ADMIN_US)["access_token"]
    page_token = get(paged_client, token, "US", **ALL_TIME).json["nextPageToken"]
    response = get(paged_client, token, "US", nextPageToken=page_token, **ALL_TIME)
    assert response.status_code == 400
    assert error_code(response) == "INVALID_REQUEST_PARAMETER"
    assert "only" in response.json["errors"][0]["message"]
    assert get(paged_client, token, "US", nextPageToken=page_token).status_code == 200


def test_next_page_token_is_opaque_and_tied_to_the_party(paged_client):
    us_token = connect(paged_client, "US", ADMIN_US)["access_token"]
    page_token = get(paged_client, us_token, "US", **ALL_TIME).json["nextPageToken"]
    assert "US" not in page_token
    assert "2100" not in page_token
    uk_token = connect(paged_client, "UK")["access_token"]
    response = get(paged_client, uk_token, nextPageToken=page_token)
    assert response.status_code == 400
    response = get(paged_client, us_token, "US", nextPageToken="bm9wZQ==")
    assert response.status_code == 400
    assert error_code(response) == "INVALID_REQUEST_PARAMETER"


def test_pages_follow_the_original_window(paged_client):
    token = connect(paged_client, "US", ADMIN_US)["access_token"]
    everything = all_transactions(paged_client, "US", token)
    start, end = everything[5]["feedDate"], everything[20]["feedDate"]
    response = get(paged_client, token, "US", feedStartDate=start, feedEndDate=end)
    found = list(response.json["transactions"])
    while "nextPageToken" in response.json:
        response = get(paged_client, token, "US", nextPageToken=response.json["nextPageToken"])
        found.extend(response.json["transactions"])
    assert [tx["transactionId"] for tx in found] == [tx["transactionId"] for tx in everything[5:21]]


def test_future_feed_dates_are_not_visible_until_their_time(sandbox_app, sandbox_client, uk_token):
    sandbox = sandbox_app.extensions["sandbox"]
    later = iso_s(sandbox.clock.now() + timedelta(days=1))
    raw = {
        "transactionId": "FUTURE0000000000TXN1",
        "transactionType": "CHARGE",
        "transactionDate": later,
        "feedDate": later,
        "marketplaceId": STORES["UK"].marketplace_id,
        "amount": {"currencyCode": "GBP", "amount": "1.00"},
    }
    added = sandbox_client.post(
        "/_sandbox/amazon/transactions", json={"account": "thames", "transactions": [raw]}
    )
    assert added.json["added"] == 1

    def ids():
        return [tx["transactionId"] for tx in all_transactions(sandbox_client, "UK", uk_token)]

    assert "FUTURE0000000000TXN1" not in ids()
    sandbox.clock.advance(2 * 86400)
    token = connect(sandbox_client, "UK")["access_token"]
    assert "FUTURE0000000000TXN1" in [
        tx["transactionId"] for tx in all_transactions(sandbox_client, "UK", token)
    ]


def test_control_added_new_card_appears_at_once(sandbox_app, sandbox_client, uk_token):
    before = all_transactions(sandbox_client, "UK", uk_token)
    assert not any(tx.get("paymentInstrumentLast4Digits") == "9911" for tx in before)
    response = sandbox_client.post(
        "/_sandbox/amazon/transactions",
        json={
            "account": "thames",
            "store": "UK",
            "count": 3,
            "new_card": {"type": "Visa", "last4": "9911"},
        },
    )
    assert response.status_code == 200
    assert response.json["added"] == 3
    after = all_transactions(sandbox_client, "UK", uk_token)
    new = [tx for tx in after if tx.get("paymentInstrumentLast4Digits") == "9911"]
    assert len(new) == 3
    assert len(after) == len(before) + 3
    assert all(tx["paymentInstrumentType"] == "Visa" for tx in new)
    assert {tx["transactionId"] for tx in new} == set(response.json["transactionIds"])
