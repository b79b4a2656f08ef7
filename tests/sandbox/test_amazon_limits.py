"""Rate limits per party and operation, injected faults, and per-operation call statistics."""

from __future__ import annotations

import pytest

from sandbox.amazon.throttle import Limit
from sandbox.amazon.throttle import Throttle
from tests.sandbox.amazon_helpers import ADMIN_US
from tests.sandbox.amazon_helpers import ALL_TIME
from tests.sandbox.amazon_helpers import TX_PATH
from tests.sandbox.amazon_helpers import api
from tests.sandbox.amazon_helpers import connect
from tests.sandbox.amazon_helpers import error_code

REPORTS = "/reports/2021-09-30/reports"


@pytest.fixture
def clock(clock):
    """The sandbox clock, frozen so buckets refill only when a test advances it."""
    clock.set_speed(0.0)
    return clock


def transactions(client, token, store="UK"):
    return api(client, "GET", store, TX_PATH, token, query_string=ALL_TIME)


def test_token_bucket_refills_at_its_rate():
    throttle = Throttle({"op": Limit(2.0, 3)})
    assert [throttle.take("p", "op", 100.0) for _ in range(4)] == [True, True, True, False]
    assert throttle.take("p", "op", 100.4) is False
    assert throttle.take("p", "op", 100.5) is True
    assert throttle.take("other", "op", 100.5) is True
    assert [throttle.take("p", "op", 1000.0) for _ in range(4)] == [True, True, True, False]


def test_get_transactions_allows_a_burst_of_ten_then_429(sandbox_client, clock):
    token = connect(sandbox_client)["access_token"]
    statuses = [transactions(sandbox_client, token).status_code for _ in range(10)]
    assert statuses == [200] * 10
    throttled = transactions(sandbox_client, token)
    assert throttled.status_code == 429
    assert error_code(throttled) == "QuotaExceeded"
    assert throttled.headers["x-amzn-RequestId"]
    clock.advance(0.5)
    assert transactions(sandbox_client, token).status_code == 200
    assert transactions(sandbox_client, token).status_code == 429
    stats = sandbox_client.get("/_sandbox/amazon/stats").json
    assert stats["api_calls"]["getTransactions"] == 13
    assert stats["throttled"]["getTransactions"] == 2


def test_parties_and_operations_have_their_own_buckets(sandbox_client, clock):
    uk = connect(sandbox_client, "UK")["access_token"]
    us = connect(sandbox_client, "US", ADMIN_US)["access_token"]
    for _ in range(10):
        transactions(sandbox_client, uk)
    assert transactions(sandbox_client, uk).status_code == 429
    assert transactions(sandbox_client, us, "US").status_code == 200
    body = {"invoiceIds": ["X"]}
    paths = "/reconciliation/2021-01-08/invoices/batch/paymentDetails"
    assert api(sandbox_client, "POST", "UK", paths, uk, json=body).status_code == 200


def test_a_second_consent_of_the_same_store_shares_the_bucket(sandbox_client, clock):
    first = connect(sandbox_client, "UK")["access_token"]
    second = connect(sandbox_client, "UK")["access_token"]
    for _ in range(10):
        transactions(sandbox_client, first)
    assert transactions(sandbox_client, second).status_code == 429


DOCUMENT_OPERATIONS = [
    ("createReport", 15),
    ("getReports", 10),
    ("getReport", 15),
    ("getReportDocument", 15),
]


def test_create_report_burst_fifteen_then_six_a_minute(sandbox_client, clock):
    """Spec §9 item 1: Document API operations allow 0.1 requests per second."""
    token = connect(sandbox_client)["access_token"]
    body = {
        "reportType": "GET_AB_INVOICE_PDF",
        "marketplaceIds": ["A1F83G8C2ARO7P"],
        "reportOptions": {"invoiceId": "X", "documentType": "Invoice"},
    }

    def create():
        return api(sandbox_client, "POST", "UK", REPORTS, token, json=body)

    assert [create().status_code for _ in range(15)] == [202] * 15
    assert create().status_code == 429
    clock.advance(9)
    assert create().status_code == 429
    clock.advance(1.5)
    response = create()
    assert response.status_code == 202
    assert response.headers["x-amzn-RateLimit-Limit"] == "0.1"
    assert create().status_code == 429
    clock.advance(60)
    assert [create().status_code for _ in range(7)] == [202] * 6 + [429]


@pytest.mark.parametrize(("operation", "burst"), DOCUMENT_OPERATIONS)
def test_every_document_operation_refills_at_a_tenth_per_second(operation, burst):
    throttle = Throttle()
    assert throttle.limits[operation] == Limit(0.1, burst)
    assert [throttle.take("p", operation, 0.0) for _ in range(burst + 1)][-2:] == [True, False]
    assert throttle.take("p", operation, 9.9) is False
    assert throttle.take("p", operation, 10.0) is True


def test_get_report_is_paced_too_and_says_its_rate(sandbox_client, clock):
    token = connect(sandbox_client)["access_token"]
    path = f"{REPORTS}/50000000000"
    answers = [api(sandbox_client, "GET", "UK", path, token) for _ in range(16)]
    assert [a.status_code for a in answers] == [404] * 15 + [429]
    assert error_code(answers[-1]) == "QuotaExceeded"


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [("500", 500, "InternalFailure"), ("503", 503, "ServiceUnavailable"), ("429", 429, None)],
)
def test_injected_faults_answer_in_amazon_shape(sandbox_client, kind, status, code):
    token = connect(sandbox_client)["access_token"]
    sandbox_client.post(
        "/_sandbox/faults",
        json={"service": "amazon", "queue": {"kind": kind, "count": 1, "path_contains": TX_PATH}},
    )
    response = transactions(sandbox_client, token)
    assert response.status_code == status
    assert error_code(response) == (code or "QuotaExceeded")
    assert response.headers["x-amzn-RequestId"]
    assert transactions(sandbox_client, token).status_code == 200
    assert sandbox_client.get("/_sandbox/amazon/stats").json["faults"] == {kind: 1}


def test_slow_fault_stalls_then_answers(sandbox_app, sandbox_client, monkeypatch):
    token = connect(sandbox_client)["access_token"]
    slept = []
    monkeypatch.setattr("sandbox.amazon.api.time.sleep", slept.append)
    sandbox = sandbox_app.extensions["sandbox"]
    sandbox.faults.configure("amazon", {"slow": 1.0}, slow_seconds=2.5)
    assert transactions(sandbox_client, token).status_code == 200
    assert slept == [2.5]


def test_faults_do_not_touch_consent_or_token_endpoints(sandbox_app, sandbox_client):
    sandbox_app.extensions["sandbox"].faults.configure("amazon", {"500": 1.0})
    tokens = connect(sandbox_client)
    assert tokens["access_token"]
    assert transactions(sandbox_client, tokens["access_token"]).status_code == 500
