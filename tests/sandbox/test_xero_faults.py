"""Injected faults on the Xero API: 500, 503, 429, slow, and dropping the connection after a
write has been processed."""

from __future__ import annotations

import time

import pytest
import requests

from tests.sandbox.test_xero_bank_transactions import spend
from tests.sandbox.xero_support import live_session
from tests.sandbox.xero_support import xero  # noqa: F401
from tests.sandbox.xero_support import xero_app  # noqa: F401


def queue(xero, kind, path_contains="", **extra):  # noqa: F811
    body = {
        "service": "xero",
        "queue": {"kind": kind, "count": 1, "path_contains": path_contains},
        **extra,
    }
    assert xero.client.post("/_sandbox/faults", json=body).status_code == 200


def test_500_is_xeros_unhandled_error_and_only_hits_once(xero):  # noqa: F811
    queue(xero, "500", "Organisation")
    failed = xero.get("Organisation")
    assert failed.status_code == 500
    assert failed.json["Status"] == 500
    assert "An error occurred in Xero" in failed.json["Detail"]
    assert xero.get("Organisation").status_code == 200


def test_503_organisation_offline(xero):  # noqa: F811
    queue(xero, "503")
    offline = xero.get("Accounts")
    assert offline.status_code == 503
    assert offline.mimetype == "text/plain"
    assert offline.text == "Organisation offline"


def test_429_fault_looks_like_a_minute_limit(xero):  # noqa: F811
    queue(xero, "429")
    limited = xero.get("Accounts")
    assert limited.status_code == 429
    assert limited.headers["X-Rate-Limit-Problem"] == "minute"
    assert int(limited.headers["Retry-After"]) >= 1


def test_faults_only_hit_matching_paths(xero):  # noqa: F811
    queue(xero, "500", "Invoices")
    assert xero.get("Organisation").status_code == 200
    assert xero.get("Invoices").status_code == 500


def test_slow_fault_delays_then_answers(xero):  # noqa: F811
    xero.sandbox.faults.configure("xero", {}, slow_seconds=0.2)
    xero.sandbox.faults.queue("xero", "slow")
    started = time.monotonic()
    answer = xero.get("Organisation")
    assert answer.status_code == 200
    assert time.monotonic() - started >= 0.2


def test_faulted_writes_create_nothing(xero):  # noqa: F811
    queue(xero, "500", "BankTransactions")
    body = {"BankTransactions": [spend(xero.contact_id("Amazon Business"))]}
    assert xero.put("BankTransactions", json=body).status_code == 500
    assert xero.get("BankTransactions").json["BankTransactions"] == []


def test_drop_after_write_creates_the_document_but_sends_nothing(sandbox):
    session = live_session(sandbox)
    amazon = session.contact_id("Amazon Business")
    sandbox.sandbox.faults.queue("xero", "drop_after_write")
    url = f"{sandbox.url}/api.xro/2.0/BankTransactions"
    body = {"BankTransactions": [spend(amazon, Reference="dropped-1")]}
    headers = {**session.headers(), "Idempotency-Key": "drop-1"}
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.put(url, json=body, headers=headers, timeout=10)
    found = session.get("BankTransactions", query_string={"where": 'Reference=="dropped-1"'}).json
    assert len(found["BankTransactions"]) == 1
    retry = requests.put(url, json=body, headers=headers, timeout=10)
    assert retry.status_code == 200
    assert (
        retry.json()["BankTransactions"][0]["BankTransactionID"]
        == found["BankTransactions"][0]["BankTransactionID"]
    )
    assert len(session.get("BankTransactions").json["BankTransactions"]) == 1


def test_drop_after_write_spares_reads(sandbox):
    session = live_session(sandbox)
    sandbox.sandbox.faults.queue("xero", "drop_after_write")
    answer = requests.get(
        f"{sandbox.url}/api.xro/2.0/Organisation", headers=session.headers(), timeout=10
    )
    assert answer.status_code == 200
