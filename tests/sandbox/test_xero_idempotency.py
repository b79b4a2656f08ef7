"""Idempotency-Key: replays within 6 sandbox minutes, conflicts, expiry."""

from __future__ import annotations

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
