"""Amazon changing its mind: a transaction re-fed with a settled amount, new lines, or cancelled."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sandbox.amazon.dates import iso_ms
from sandbox.amazon.dates import parse_iso
from sandbox.amazon.transaction_json import line_sum
from tests.sandbox.amazon_helpers import all_transactions


def _a_charge(uk):
    _token, transactions = uk
    return next(
        tx
        for tx in transactions
        if tx["transactionType"] == "CHARGE" and Decimal(tx["amount"]["amount"]) > 10
    )


def change(sandbox_client, transaction_id, **body):
    return sandbox_client.post(
        f"/_sandbox/amazon/transactions/{transaction_id}/change",
        json={"account": "thames", "store": "UK", **body},
    )


def test_settled_amount_is_fed_again_with_lines_that_add_up(sandbox_client, clock, uk):
    token, before = uk
    charge = _a_charge(uk)
    clock.advance(300)
    new_amount = Decimal(charge["amount"]["amount"]) - Decimal("3.33")
    answer = change(sandbox_client, charge["transactionId"], amount=str(new_amount))
    assert answer.status_code == 200, answer.json
    changed = answer.json["transaction"]
    assert changed["transactionId"] == charge["transactionId"]
    assert Decimal(changed["amount"]["amount"]) == new_amount
    assert line_sum(changed) == new_amount
    assert parse_iso(changed["feedDate"]) > parse_iso(charge["feedDate"])
    after = all_transactions(sandbox_client, "UK", token)
    same = [tx for tx in after if tx["transactionId"] == charge["transactionId"]]
    assert same == [changed]  # one transaction, its latest version
    assert len(after) == len(before)


def test_cancellation_is_a_zero_transaction_without_lines(sandbox_client, clock, uk):
    token, _ = uk
    charge = _a_charge(uk)
    clock.advance(300)
    answer = change(sandbox_client, charge["transactionId"], cancel=True)
    assert answer.status_code == 200
    fed = [
        tx
        for tx in all_transactions(sandbox_client, "UK", token)
        if tx["transactionId"] == charge["transactionId"]
    ]
    assert fed[0]["amount"]["amount"] == "0.00"
    assert fed[0]["transactionLineItems"] == []
    assert fed[0]["transactionType"] == "CHARGE"


def test_new_lines_set_the_amount(sandbox_client, clock, uk):
    charge = _a_charge(uk)
    clock.advance(300)
    lines = charge["transactionLineItems"][:1]
    changed = change(sandbox_client, charge["transactionId"], transactionLineItems=lines).json
    assert Decimal(changed["transaction"]["amount"]["amount"]) == line_sum(
        {"transactionLineItems": lines}
    )


def test_refusals(sandbox_client, uk):
    charge = _a_charge(uk)
    assert change(sandbox_client, "nope", cancel=True).status_code == 404
    assert change(sandbox_client, charge["transactionId"]).status_code == 400
    early = change(
        sandbox_client, charge["transactionId"], cancel=True, feedDate=charge["feedDate"]
    )
    assert early.status_code == 400
    later = iso_ms(parse_iso(charge["feedDate"]) + timedelta(seconds=1))
    assert (
        change(sandbox_client, charge["transactionId"], cancel=True, feedDate=later).status_code
        == 200
    )
