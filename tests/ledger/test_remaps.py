"""What a mapping change would change in a posted document, in words (``ledger.remaps``)."""

from __future__ import annotations

from plugin.ledger.remaps import differences


def body(*lines, bank="800"):
    return {
        "BankAccount": {"Code": bank},
        "LineItems": [{"AccountCode": a, "TaxType": t} for a, t in lines],
    }


def test_nothing_differs():
    assert differences(body(("429", "INPUT2")), body(("429", "INPUT2"))) == []


def test_each_account_tax_and_bank_change_is_named():
    old = body(("429", "INPUT2"), ("425", "INPUT2"))
    new = body(("461", "INPUT2"), ("425", "ZERORATEDINPUT"), bank="801")
    assert differences(old, new) == [
        "bank account 800 → 801",
        "line 1: account 429 → 461",
        "line 2: tax INPUT2 → ZERORATEDINPUT",
    ]


def test_a_different_number_of_lines_is_named():
    assert differences(body(("429", "INPUT2")), body(("429", "INPUT2"), ("425", "INPUT2"))) == [
        "1 lines → 2 lines"
    ]


def test_a_bill_has_no_bank_account():
    old = {"LineItems": [{"AccountCode": "429", "TaxType": "INPUT2"}]}
    new = {"LineItems": [{"AccountCode": "461", "TaxType": "INPUT2"}]}
    assert differences(old, new) == ["line 1: account 429 → 461"]
