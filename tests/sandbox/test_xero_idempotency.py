"""Idempotency-Key: replays within 6 sandbox minutes, conflicts, expiry."""

from __future__ import annotations

import threading
import time

import pytest

from tests.sandbox.test_xero_bank_transactions import spend
from tests.sandbox.xero_support import xero  # noqa: F401
from tests.sandbox.xero_support import xero_app  # noqa: F401


def put(xero, body, key):  # noqa: F811
    return xero.put(
        "BankTransactions?summarizeErrors=false", json=body, headers={"Idempotency-Key": key}
    )


def count(xero) -> int:  # noqa: F811
    return len(xero.get("BankTransactions").json["BankTransactions"])


def test_same_key_and_body_replays_the_first_response(xero):  # noqa: F811
    body = {"BankTransactions": [spend(xero.contact_id("Amazon Business"))]}
    first = put(xero, body, "batch-1")
    second = put(xero, body, "batch-1")
    assert second.status_code == first.status_code == 200
    assert second.json == first.json
    assert count(xero) == 1
    assert xero.stats()["idempotent_replays"] == 1
    assert "X-MinLimit-Remaining" in second.headers


def test_validation_failures_are_replayed_too(xero):  # noqa: F811
    body = {
        "BankTransactions": [spend(xero.contact_id("Amazon Business"), line={"AccountCode": "999"})]
    }
    first = xero.put("BankTransactions", json=body, headers={"Idempotency-Key": "bad-1"})
    second = xero.put("BankTransactions", json=body, headers={"Idempotency-Key": "bad-1"})
    assert first.status_code == second.status_code == 400
    assert first.json == second.json


def test_same_key_with_another_body_is_refused(xero):  # noqa: F811
    amazon = xero.contact_id("Amazon Business")
    put(xero, {"BankTransactions": [spend(amazon)]}, "batch-2")
    other = put(xero, {"BankTransactions": [spend(amazon, Reference="different")]}, "batch-2")
    assert other.status_code == 400
    assert "Idempotency-Key 'batch-2'" in other.json["Message"]
    assert count(xero) == 1


def test_keys_expire_after_six_sandbox_minutes(xero):  # noqa: F811
    body = {"BankTransactions": [spend(xero.contact_id("Amazon Business"))]}
    put(xero, body, "batch-3")
    xero.sandbox.clock.advance(361)
    put(xero, body, "batch-3")
    assert count(xero) == 2


def test_requests_without_a_key_are_not_deduplicated(xero):  # noqa: F811
    body = {"BankTransactions": [spend(xero.contact_id("Amazon Business"))]}
    xero.put("BankTransactions", json=body)
    xero.put("BankTransactions", json=body)
    assert count(xero) == 2


def test_a_sandbox_told_to_forget_keys_processes_a_replay_again(xero):  # noqa: F811
    """Issue 19 point 1: a Xero whose memory of keys is shorter than the app assumes."""
    assert xero.client.post("/_sandbox/xero/idempotency", json={"seconds": 0}).status_code == 200
    body = {"BankTransactions": [spend(xero.contact_id("Amazon Business"))]}
    put(xero, body, "batch-forgotten")
    put(xero, body, "batch-forgotten")
    assert count(xero) == 2
    assert xero.stats()["idempotent_replays"] == 0


@pytest.mark.parametrize(
    ("mode", "second_status", "documents"), [("process", 200, 2), ("conflict", 409, 1)]
)
def test_a_key_sent_again_while_its_first_request_is_in_flight(
    xero,  # noqa: F811
    mode,
    second_status,
    documents,
):
    """What a second request with the same key gets while the first is still being processed:
    processed again (nothing is stored for the key yet) or refused with 409."""
    control = xero.client.post("/_sandbox/xero/idempotency", json={"concurrent": mode})
    assert control.json == {"seconds": 360.0, "concurrent": mode}
    body = {"BankTransactions": [spend(xero.contact_id("Amazon Business"))]}
    xero.sandbox.faults.configure("xero", {}, slow_seconds=0.6)
    xero.sandbox.faults.queue("xero", "slow")
    answers = {}
    first = threading.Thread(target=lambda: answers.setdefault("first", put(xero, body, "k-1")))
    first.start()
    time.sleep(0.2)
    answers["second"] = put(xero, body, "k-1")
    first.join()
    assert answers["first"].status_code == 200
    assert answers["second"].status_code == second_status
    assert count(xero) == documents
    assert xero.stats()["concurrent_same_key"] == 1
