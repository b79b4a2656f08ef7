"""BankTransactions: creation, totals, Xero's validation rules, summarizeErrors, lookups."""

from __future__ import annotations

import pytest

from tests.sandbox.xero_support import HUDSON
from tests.sandbox.xero_support import xero  # noqa: F401
from tests.sandbox.xero_support import xero_app  # noqa: F401


def spend(contact_id: str, **overrides) -> dict:
    line = {
        "Description": "USB-C hub (ASIN B0TEST)",
        "Quantity": 2,
        "UnitAmount": 24.99,
        "AccountCode": "429",
        "TaxType": "INPUT2",
    }
    line.update(overrides.pop("line", {}))
    transaction = {
        "Type": "SPEND",
        "Contact": {"ContactID": contact_id},
        "BankAccount": {"Code": "800"},
        "Date": "2026-05-01",
        "Reference": "112-1234567-1234567 TX1",
        "LineAmountTypes": "Exclusive",
        "Status": "AUTHORISED",
        "LineItems": [line],
    }
    transaction.update(overrides)
    return transaction


def messages(element: dict) -> list[str]:
    return [e["Message"] for e in element["ValidationErrors"]]


def put_one(xero, transaction, tenant=None):  # noqa: F811
    return xero.put(
        "BankTransactions?summarizeErrors=false",
        json={"BankTransactions": [transaction]},
        tenant=tenant,
    )


def test_spend_money_is_created_with_totals(xero):  # noqa: F811
    amazon = xero.contact_id("Amazon Business")
    answer = put_one(xero, spend(amazon, Url="https://app.example.com/o/1"))
    assert answer.status_code == 200
    created = answer.json["BankTransactions"][0]
    assert created["StatusAttributeString"] == "OK"
    assert created["BankTransactionID"]
    assert created["Contact"]["Name"] == "Amazon Business"
    assert created["BankAccount"]["Code"] == "800"
    assert created["Date"] == "/Date(1777593600000+0000)/"
    assert created["DateString"] == "2026-05-01T00:00:00"
    assert created["LineItems"][0]["LineAmount"] == 49.98
    assert created["LineItems"][0]["TaxAmount"] == 10.0  # 9.996 rounded per line
    assert (created["SubTotal"], created["TotalTax"], created["Total"]) == (49.98, 10.0, 59.98)
    assert created["CurrencyCode"] == "GBP"
    assert created["Status"] == "AUTHORISED"
    assert created["HasAttachments"] is False
    assert created["UpdatedDateUTC"].startswith("/Date(")
    stored = xero.get(f"BankTransactions/{created['BankTransactionID']}").json["BankTransactions"][
        0
    ]
    assert stored["Total"] == 59.98
    assert stored["Url"] == "https://app.example.com/o/1"


@pytest.mark.parametrize(
    ("line_amount_types", "line", "totals"),
    [
        ("Inclusive", {"Quantity": 1, "UnitAmount": 12.0}, (10.0, 2.0, 12.0)),
        ("NoTax", {"Quantity": 3, "UnitAmount": 1.5}, (4.5, 0.0, 4.5)),
        ("Exclusive", {"Quantity": 1, "UnitAmount": 10.0, "TaxAmount": 2.0}, (10.0, 2.0, 12.0)),
        ("Exclusive", {"Quantity": 1, "UnitAmount": 10.0, "TaxType": "RRINPUT"}, (10.0, 0.5, 10.5)),
        ("Exclusive", {"Quantity": None, "UnitAmount": None, "LineAmount": 7.5}, (7.5, 1.5, 9.0)),
    ],
)
def test_totals_follow_line_amount_types(xero, line_amount_types, line, totals):  # noqa: F811
    transaction = spend(
        xero.contact_id("Amazon Business"), LineAmountTypes=line_amount_types, line=line
    )
    transaction["LineItems"][0] = {
        k: v for k, v in transaction["LineItems"][0].items() if v is not None
    }
    created = put_one(xero, transaction).json["BankTransactions"][0]
    assert created["StatusAttributeString"] == "OK", created
    assert (created["SubTotal"], created["TotalTax"], created["Total"]) == totals


def test_tax_is_rounded_per_line_then_summed(xero):  # noqa: F811
    lines = [
        {
            "Description": f"item {i}",
            "Quantity": 1,
            "UnitAmount": 0.13,
            "AccountCode": "461",
            "TaxType": "INPUT2",
        }
        for i in range(3)
    ]
    created = put_one(xero, spend(xero.contact_id("Amazon Business"), LineItems=lines)).json
    document = created["BankTransactions"][0]
    assert [li["TaxAmount"] for li in document["LineItems"]] == [0.03, 0.03, 0.03]
    assert (document["SubTotal"], document["TotalTax"], document["Total"]) == (0.39, 0.09, 0.48)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"line": {"AccountCode": "999"}},
            "Account code '999' is not a valid code for this document.",
        ),
        (
            {"line": {"AccountCode": "459"}},
            "Account code '459' is not a valid code for this document.",
        ),
        (
            {"line": {"AccountCode": "090"}},
            "Account code '090' is not a valid code for this document.",
        ),
        (
            {"line": {"TaxType": "OUTPUT2"}},
            "The TaxType code 'OUTPUT2' does not exist or cannot be used with this type of",
        ),
        (
            {"line": {"TaxType": "BOGUS"}},
            "The TaxType code 'BOGUS' does not exist or cannot be used with this type of",
        ),
        (
            {"line": {"TaxType": "INPUT"}},
            "The TaxType code 'INPUT' does not exist or cannot be used with this type of",
        ),
        ({"line": {"Description": ""}}, "The Description field is mandatory for each line item."),
        ({"CurrencyCode": "JPY"}, "Organisation is not subscribed to currency JPY"),
        (
            {"LineAmountTypes": "Gross"},
            "LineAmountTypes 'Gross' is not valid. Use Exclusive, Inclusive or NoTax.",
        ),
        (
            {"Date": "2026-01-31"},
            "The document date cannot be before the period lock date, 31 Jan 2026.",
        ),
        (
            {"Date": "2025-06-30"},
            "The document date cannot be before the end of year lock date, 31 Dec 2025.",
        ),
        ({"BankAccount": {"Code": "429"}}, "Account code '429' is not a bank account (Type BANK)."),
        ({"BankAccount": {"Code": "555"}}, "The BankAccount could not be found or is archived."),
        (
            {"Type": "SPEND-TRANSFER"},
            "Type 'SPEND-TRANSFER' is not valid for this operation. Use SPEND or RECEIVE.",
        ),
        ({"Contact": {}}, "The Contact must contain at least 1 of the following elements"),
        ({"LineItems": []}, "At least one line item must be specified."),
    ],
)
def test_validation_errors(xero, overrides, message):  # noqa: F811
    answer = put_one(xero, spend(xero.contact_id("Amazon Business"), **overrides))
    assert answer.status_code == 200
    element = answer.json["BankTransactions"][0]
    assert element["StatusAttributeString"] == "ERROR"
    assert any(m.startswith(message) for m in messages(element)), messages(element)
    assert xero.get("BankTransactions").json["BankTransactions"] == []


def test_archived_contact_is_refused(xero):  # noqa: F811
    answer = put_one(xero, spend(xero.contact_id("Old Supplier Ltd")))
    assert messages(answer.json["BankTransactions"][0])[0].startswith(
        "The contact with the specified ContactID is archived"
    )


def test_currency_must_match_the_bank_account(xero):  # noqa: F811
    amazon = xero.contact_id("Amazon Business")
    wrong = put_one(xero, spend(amazon, CurrencyCode="EUR"))
    assert (
        "does not match the currency GBP of the bank account"
        in messages(wrong.json["BankTransactions"][0])[0]
    )
    euro = put_one(
        xero, spend(amazon, CurrencyCode="EUR", BankAccount={"Code": "092"}, CurrencyRate=0.85)
    )
    created = euro.json["BankTransactions"][0]
    assert created["StatusAttributeString"] == "OK"
    assert (created["CurrencyCode"], created["CurrencyRate"]) == ("EUR", 0.85)


def test_receive_money_refund_on_expense_account(xero):  # noqa: F811
    refund = spend(xero.contact_id("Amazon Business"), Type="RECEIVE")
    created = put_one(xero, refund).json["BankTransactions"][0]
    assert created["StatusAttributeString"] == "OK"
    assert created["Type"] == "RECEIVE"


def test_us_org_posts_to_its_card_with_tax_on_purchases(xero):  # noqa: F811
    us = xero.tenants[HUDSON]
    vendor = xero.contact_id("Staples", tenant=us)
    transaction = spend(
        vendor, BankAccount={"Code": "1090"}, line={"AccountCode": "6050", "TaxType": "INPUT"}
    )
    created = put_one(xero, transaction, tenant=us).json["BankTransactions"][0]
    assert created["StatusAttributeString"] == "OK"
    assert (created["TotalTax"], created["Total"], created["CurrencyCode"]) == (0.0, 49.98, "USD")
    sales_tax = spend(
        vendor, BankAccount={"Code": "1090"}, line={"AccountCode": "6050", "TaxType": "TAX001"}
    )
    refused = put_one(xero, sales_tax, tenant=us).json["BankTransactions"][0]
    assert refused["StatusAttributeString"] == "ERROR"


def test_summarize_errors_true_fails_the_whole_batch(xero):  # noqa: F811
    amazon = xero.contact_id("Amazon Business")
    batch = {"BankTransactions": [spend(amazon), spend(amazon, line={"AccountCode": "999"})]}
    answer = xero.put("BankTransactions", json=batch)
    assert answer.status_code == 400
    body = answer.json
    assert body["ErrorNumber"] == 10
    assert body["Type"] == "ValidationException"
    assert body["Message"] == "A validation exception occurred"
    assert len(body["Elements"]) == 1
    assert body["Elements"][0]["ValidationErrors"][0]["Message"].startswith("Account code '999'")
    assert xero.get("BankTransactions").json["BankTransactions"] == []


def test_summarize_errors_false_keeps_the_good_elements(xero):  # noqa: F811
    amazon = xero.contact_id("Amazon Business")
    batch = {
        "BankTransactions": [
            spend(amazon),
            spend(amazon, line={"AccountCode": "999"}),
            spend(amazon),
        ]
    }
    answer = xero.put("BankTransactions?summarizeErrors=false", json=batch)
    assert answer.status_code == 200
    statuses = [e["StatusAttributeString"] for e in answer.json["BankTransactions"]]
    assert statuses == ["OK", "ERROR", "OK"]
    assert len(xero.get("BankTransactions").json["BankTransactions"]) == 2


def test_new_contact_by_name_is_created_once(xero):  # noqa: F811
    us = xero.tenants[HUDSON]
    batch = {
        "BankTransactions": [
            spend(
                "",
                Contact={"Name": "Amazon Business"},
                BankAccount={"Code": "1090"},
                line={"AccountCode": "6050", "TaxType": "NONE"},
            )
            for _ in range(2)
        ]
    }
    created = xero.put("BankTransactions", json=batch, tenant=us).json["BankTransactions"]
    assert created[0]["Contact"]["ContactID"] == created[1]["Contact"]["ContactID"]
    found = xero.get("Contacts", query_string={"searchTerm": "Amazon"}, tenant=us).json["Contacts"]
    assert len(found) == 1


def test_lookup_by_reference_contact_type_and_date(xero):  # noqa: F811
    amazon = xero.contact_id("Amazon Business")
    viking = xero.contact_id("Viking Direct")
    batch = {
        "BankTransactions": [
            spend(amazon, Reference="A-1", Date="2026-05-01"),
            spend(amazon, Reference="A-2", Date="2026-06-01", Type="RECEIVE"),
            spend(viking, Reference="A-1", Date="2026-07-01"),
        ]
    }
    assert xero.put("BankTransactions", json=batch).status_code == 200

    def references(where):
        found = xero.get("BankTransactions", query_string={"where": where}).json["BankTransactions"]
        return sorted((t["Reference"], t["Contact"]["Name"]) for t in found)

    assert references(f'Reference=="A-1" AND Contact.ContactID=guid("{amazon}")') == [
        ("A-1", "Amazon Business")
    ]
    assert references('Type=="RECEIVE"') == [("A-2", "Amazon Business")]
    assert references("Date>=DateTime(2026,06,01)") == [
        ("A-1", "Viking Direct"),
        ("A-2", "Amazon Business"),
    ]
    assert references('Reference=="nothing"') == []
    page = xero.get("BankTransactions", query_string={"page": "2", "pageSize": "2"}).json
    assert len(page["BankTransactions"]) == 1
    assert page["pagination"]["itemCount"] == 3


def test_unknown_bank_transaction_is_404(xero):  # noqa: F811
    assert xero.get("BankTransactions/7e3f0d7c-0000-4000-8000-000000000000").status_code == 404


def test_body_that_is_not_json_is_rejected(xero):  # noqa: F811
    answer = xero.client.put(
        "/api.xro/2.0/BankTransactions",
        data="not json",
        headers={**xero.headers(), "Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json["Type"] == "PostDataInvalidException"


def test_deleting_a_bank_transaction(xero):  # noqa: F811
    created = put_one(xero, spend(xero.contact_id("Amazon Business"))).json["BankTransactions"][0]
    transaction_id = created["BankTransactionID"]
    deleted = xero.post(f"BankTransactions/{transaction_id}", json={"Status": "DELETED"})
    assert deleted.json["BankTransactions"][0]["Status"] == "DELETED"
    stored = xero.get(f"BankTransactions/{transaction_id}").json["BankTransactions"][0]
    assert stored["Status"] == "DELETED"
    again = xero.post(f"BankTransactions/{transaction_id}", json={"Status": "DELETED"})
    assert again.status_code == 400


def test_a_reference_over_255_characters_is_refused(xero):  # noqa: F811
    amazon = xero.contact_id("Amazon Business")
    answer = xero.put(
        "BankTransactions?summarizeErrors=false",
        json={"BankTransactions": [spend(amazon, Reference="R" * 256)]},
    )
    errors = answer.json["BankTransactions"][0]["ValidationErrors"]
    assert [e["Message"] for e in errors] == [
        "Reference must not be more than 255 characters long."
    ]
