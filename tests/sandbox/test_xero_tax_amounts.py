"""A caller's ``TaxAmount``: bank transactions refuse one that is not Xero's own per-line figure
(xero-api.md, December 2026, point 2); bills and credit notes accept an override."""

from __future__ import annotations

import pytest

from tests.sandbox.xero_support import xero  # noqa: F401
from tests.sandbox.xero_support import xero_app  # noqa: F401


def line(amount: float, tax: float | None, tax_type: str = "INPUT2") -> dict:
    found = {
        "Description": "Pencils (order 203-1)",
        "Quantity": 1,
        "UnitAmount": amount,
        "AccountCode": "429",
        "TaxType": tax_type,
    }
    if tax is not None:
        found["TaxAmount"] = tax
    return found


def bank(xero, kind: str, lines: list[dict], types: str = "Exclusive") -> dict:  # noqa: F811
    body = {
        "Type": kind,
        "Contact": {"ContactID": xero.contact_id("Amazon Business")},
        "BankAccount": {"Code": "800"},
        "Date": "2026-05-01",
        "Reference": "203-1 TX1",
        "LineAmountTypes": types,
        "LineItems": lines,
    }
    answer = xero.put("BankTransactions?summarizeErrors=false", json={"BankTransactions": [body]})
    assert answer.status_code == 200
    return answer.json["BankTransactions"][0]


def errors(element: dict) -> list[str]:
    return [e["Message"] for e in element.get("ValidationErrors", [])]


@pytest.mark.parametrize("kind", ["SPEND", "RECEIVE"])
@pytest.mark.parametrize(
    ("lines", "refused"),
    [
        # the old spread of Amazon's 0.14 over 20.00 and -19.35: 4.31 / -4.17
        (
            [line(20.00, 4.31), line(-19.35, -4.17)],
            [
                "Tax amount 4.31 is incorrect for INPUT2 tax type, should be 4.00",
                "Tax amount -4.17 is incorrect for INPUT2 tax type, should be -3.87",
            ],
        ),
        (
            [line(20.00, 4.01), line(-19.35, -3.87)],
            ["Tax amount 4.01 is incorrect for INPUT2 tax type, should be 4.00"],
        ),
        (
            [line(10.00, 0.51, "RRINPUT")],
            ["Tax amount 0.51 is incorrect for RRINPUT tax type, should be 0.50"],
        ),
        ([line(20.00, 4.00), line(-19.35, -3.87)], []),
        ([line(0.03, 0.01), line(-0.03, 0.0, "NONE")], []),  # 0.006 rounds away from zero
        ([line(0.05, None)], []),  # no TaxAmount: Xero computes 0.01
    ],
)
def test_bank_transactions_refuse_a_tax_amount_that_is_not_xeros(
    xero,  # noqa: F811
    kind,
    lines,
    refused,
):
    element = bank(xero, kind, lines)
    assert errors(element) == refused
    assert element["StatusAttributeString"] == ("ERROR" if refused else "OK")
    if not refused:
        assert element["TotalTax"] in (0.13, 0.01)


def test_inclusive_bank_lines_are_checked_against_the_inclusive_figure(xero):  # noqa: F811
    assert errors(bank(xero, "SPEND", [line(12.00, 2.00)], "Inclusive")) == []
    assert errors(bank(xero, "SPEND", [line(12.00, 2.01)], "Inclusive")) == [
        "Tax amount 2.01 is incorrect for INPUT2 tax type, should be 2.00"
    ]


@pytest.mark.parametrize(
    ("endpoint", "kind"), [("Invoices", "ACCPAY"), ("CreditNotes", "ACCPAYCREDIT")]
)
def test_bills_and_credit_notes_accept_an_override(xero, endpoint, kind):  # noqa: F811
    body = {
        "Type": kind,
        "Contact": {"ContactID": xero.contact_id("Amazon Business")},
        "InvoiceNumber": "GB-INV-1",
        "Date": "2026-05-01",
        "DueDate": "2026-05-31",
        "LineAmountTypes": "Exclusive",
        "Status": "AUTHORISED",
        "LineItems": [line(20.00, 4.01), line(-19.35, -3.87)],
    }
    answer = xero.put(f"{endpoint}?summarizeErrors=false", json={endpoint: [body]})
    element = answer.json[endpoint][0]
    assert element["StatusAttributeString"] == "OK", errors(element)
    assert (element["TotalTax"], element["Total"]) == (0.14, 0.79)
