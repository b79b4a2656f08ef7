"""Bills (ACCPAY invoices), supplier credit notes with allocations, and payments."""

from __future__ import annotations

import pytest

from tests.sandbox.xero_support import HUDSON
from tests.sandbox.xero_support import xero  # noqa: F401
from tests.sandbox.xero_support import xero_app  # noqa: F401


def bill(contact_id: str, **overrides) -> dict:
    document = {
        "Type": "ACCPAY",
        "Contact": {"ContactID": contact_id},
        "InvoiceNumber": "GB-INV-0001",
        "Date": "2026-05-01",
        "DueDate": "2026-05-31",
        "LineAmountTypes": "Exclusive",
        "Status": "AUTHORISED",
        "LineItems": [
            {
                "Description": "Office chairs",
                "Quantity": 4,
                "UnitAmount": 150,
                "AccountCode": "720",
                "TaxType": "INPUT2",
            }
        ],
    }
    document.update(overrides)
    return document


def credit_note(contact_id: str, amount: float = 120.0, **overrides) -> dict:
    document = {
        "Type": "ACCPAYCREDIT",
        "Contact": {"ContactID": contact_id},
        "CreditNoteNumber": "CN-1",
        "Date": "2026-05-10",
        "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive",
        "LineItems": [
            {
                "Description": "Returned chair",
                "Quantity": 1,
                "UnitAmount": amount,
                "AccountCode": "720",
                "TaxType": "INPUT2",
            }
        ],
    }
    document.update(overrides)
    return document


def create(xero, endpoint, document, tenant=None):  # noqa: F811
    answer = xero.put(endpoint, json={endpoint: [document]}, tenant=tenant)
    assert answer.status_code == 200, answer.json
    return answer.json[endpoint][0]


def pay(xero, invoice_id, amount, account="090", **extra):  # noqa: F811
    payment = {
        "Invoice": {"InvoiceID": invoice_id},
        "Account": {"Code": account},
        "Date": "2026-05-31",
        "Amount": amount,
    }
    payment.update(extra)
    return xero.put("Payments?summarizeErrors=false", json={"Payments": [payment]})


def first_message(answer, endpoint) -> str:
    return answer.json[endpoint][0]["ValidationErrors"][0]["Message"]


def test_authorised_bill_with_amount_due(xero):  # noqa: F811
    created = create(xero, "Invoices", bill(xero.contact_id("Amazon Business")))
    assert created["Type"] == "ACCPAY"
    assert created["InvoiceNumber"] == "GB-INV-0001"
    assert (created["SubTotal"], created["TotalTax"], created["Total"]) == (600.0, 120.0, 720.0)
    assert (created["AmountDue"], created["AmountPaid"]) == (720.0, 0.0)
    assert created["Status"] == "AUTHORISED"
    assert created["DueDate"] == "/Date(1780185600000+0000)/"
    assert created["DueDateString"] == "2026-05-31T00:00:00"
    assert created["UpdatedDateUTCString"]


def test_authorised_bill_needs_a_due_date_but_a_draft_does_not(xero):  # noqa: F811
    amazon = xero.contact_id("Amazon Business")
    answer = xero.put(
        "Invoices?summarizeErrors=false", json={"Invoices": [bill(amazon, DueDate=None)]}
    )
    assert first_message(answer, "Invoices") == "The document DueDate field must be specified"
    draft = create(xero, "Invoices", bill(amazon, DueDate=None, Status="DRAFT"))
    assert draft["Status"] == "DRAFT"


def test_only_accpay_bills_are_supported(xero):  # noqa: F811
    answer = xero.put(
        "Invoices?summarizeErrors=false",
        json={"Invoices": [bill(xero.contact_id("Amazon Business"), Type="ACCREC")]},
    )
    assert answer.json["Invoices"][0]["StatusAttributeString"] == "ERROR"


def test_bill_lock_date_applies_to_authorised_documents(xero):  # noqa: F811
    answer = xero.put(
        "Invoices", json={"Invoices": [bill(xero.contact_id("Amazon Business"), Date="2026-01-15")]}
    )
    assert answer.status_code == 400
    message = answer.json["Elements"][0]["ValidationErrors"][0]["Message"]
    assert message.startswith("The document date cannot be before the period lock date")


def test_invoice_lookups(xero):  # noqa: F811
    amazon = xero.contact_id("Amazon Business")
    one = create(xero, "Invoices", bill(amazon, InvoiceNumber="A-1"))
    two = create(xero, "Invoices", bill(amazon, InvoiceNumber="A-2", Status="DRAFT"))

    def numbers(**query):
        found = xero.get("Invoices", query_string=query).json["Invoices"]
        return sorted(i["InvoiceNumber"] for i in found)

    assert numbers(InvoiceNumbers="A-1") == ["A-1"]
    assert numbers(IDs=f"{one['InvoiceID']},{two['InvoiceID']}") == ["A-1", "A-2"]
    assert numbers(Statuses="DRAFT") == ["A-2"]
    assert numbers(ContactIDs=amazon) == ["A-1", "A-2"]
    assert numbers(where='Type=="ACCPAY" AND Status=="AUTHORISED"') == ["A-1"]
    assert numbers(where=f'Contact.ContactID==guid("{amazon}") AND InvoiceNumber=="A-2"') == ["A-2"]
    assert xero.get(f"Invoices/{one['InvoiceID']}").json["Invoices"][0]["InvoiceNumber"] == "A-1"
    assert xero.get("Invoices/A-2").json["Invoices"][0]["InvoiceID"] == two["InvoiceID"]


def test_payment_reduces_amount_due_and_marks_paid(xero):  # noqa: F811
    invoice = create(xero, "Invoices", bill(xero.contact_id("Amazon Business")))
    first = pay(xero, invoice["InvoiceID"], 700.0, Reference="part")
    payment = first.json["Payments"][0]
    assert payment["StatusAttributeString"] == "OK"
    assert payment["PaymentType"] == "ACCPAYPAYMENT"
    assert payment["Status"] == "AUTHORISED"
    assert payment["Invoice"]["InvoiceID"] == invoice["InvoiceID"]
    assert payment["Account"]["Code"] == "090"
    partly = xero.get(f"Invoices/{invoice['InvoiceID']}").json["Invoices"][0]
    assert (partly["AmountDue"], partly["AmountPaid"], partly["Status"]) == (
        20.0,
        700.0,
        "AUTHORISED",
    )
    too_much = pay(xero, invoice["InvoiceID"], 20.01)
    assert (
        first_message(too_much, "Payments")
        == "Payment amount exceeds the amount outstanding on this document"
    )
    pay(xero, invoice["InvoiceID"], 20.0)
    paid = xero.get(f"Invoices/{invoice['InvoiceID']}").json["Invoices"][0]
    assert (paid["AmountDue"], paid["Status"]) == (0.0, "PAID")
    assert len(paid["Payments"]) == 2
    again = pay(xero, invoice["InvoiceID"], 1.0)
    assert (
        first_message(again, "Payments")
        == "Payments can only be made against Authorised documents."
    )


def test_payments_in_one_batch_count_against_each_other(xero):  # noqa: F811
    invoice = create(xero, "Invoices", bill(xero.contact_id("Amazon Business")))
    payment = {
        "Invoice": {"InvoiceID": invoice["InvoiceID"]},
        "Account": {"Code": "090"},
        "Date": "2026-06-01",
        "Amount": 400,
    }
    answer = xero.put("Payments", json={"Payments": [payment, payment]})
    assert answer.status_code == 400
    assert xero.get("Payments").json["Payments"] == []


@pytest.mark.parametrize(
    ("account", "message_start"),
    [
        ("429", "Account code '429' cannot be used for payments."),
        ("999", "The payment Account could not be found"),
        ("835", None),
        ("800", None),
    ],
)
def test_payment_account_must_be_bank_or_payments_enabled(xero, account, message_start):  # noqa: F811
    invoice = create(xero, "Invoices", bill(xero.contact_id("Amazon Business")))
    answer = pay(xero, invoice["InvoiceID"], 10.0, account=account)
    element = answer.json["Payments"][0]
    if message_start is None:
        assert element["StatusAttributeString"] == "OK"
    else:
        assert element["ValidationErrors"][0]["Message"].startswith(message_start)


def test_payments_against_drafts_or_unknown_bills_fail(xero):  # noqa: F811
    draft = create(xero, "Invoices", bill(xero.contact_id("Amazon Business"), Status="DRAFT"))
    assert (
        first_message(pay(xero, draft["InvoiceID"], 1.0), "Payments")
        == "Payments can only be made against Authorised documents."
    )
    unknown = pay(xero, "0f8fad5b-d9cb-469f-a165-70867728950e", 1.0)
    assert first_message(unknown, "Payments") == "Invoice could not be found."


def test_payment_lookups(xero):  # noqa: F811
    amazon = xero.contact_id("Amazon Business")
    first = create(xero, "Invoices", bill(amazon, InvoiceNumber="P-1"))
    second = create(xero, "Invoices", bill(amazon, InvoiceNumber="P-2"))
    pay(xero, first["InvoiceID"], 720.0, Reference="settle P-1")
    pay(xero, second["InvoiceID"], 10.0, Reference="part P-2")
    found = xero.get(
        "Payments", query_string={"where": f'Invoice.InvoiceID=guid("{first["InvoiceID"]}")'}
    ).json["Payments"]
    assert [p["Reference"] for p in found] == ["settle P-1"]
    assert found[0]["Invoice"]["InvoiceNumber"] == "P-1"
    by_reference = xero.get(
        "Payments", query_string={"where": 'Reference=="part P-2" AND Status=="AUTHORISED"'}
    ).json
    assert [p["Amount"] for p in by_reference["Payments"]] == [10.0]
    payment_id = found[0]["PaymentID"]
    assert xero.get(f"Payments/{payment_id}").json["Payments"][0]["Amount"] == 720.0


def test_credit_note_allocation_reduces_both_documents(xero):  # noqa: F811
    amazon = xero.contact_id("Amazon Business")
    invoice = create(xero, "Invoices", bill(amazon))
    note = create(xero, "CreditNotes", credit_note(amazon, amount=100.0))
    assert (note["Total"], note["RemainingCredit"], note["Type"]) == (120.0, 120.0, "ACCPAYCREDIT")
    answer = xero.put(
        f"CreditNotes/{note['CreditNoteID']}/Allocations",
        json={
            "Allocations": [
                {
                    "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                    "Amount": 50.0,
                    "Date": "2026-05-10",
                }
            ]
        },
    )
    assert answer.status_code == 200
    allocation = answer.json["Allocations"][0]
    assert allocation["Amount"] == 50.0
    assert allocation["Invoice"]["InvoiceID"] == invoice["InvoiceID"]
    after_note = xero.get(f"CreditNotes/{note['CreditNoteID']}").json["CreditNotes"][0]
    assert after_note["RemainingCredit"] == 70.0
    assert after_note["Allocations"][0]["Amount"] == 50.0
    after_bill = xero.get(f"Invoices/{invoice['InvoiceID']}").json["Invoices"][0]
    assert (after_bill["AmountDue"], after_bill["AmountCredited"]) == (670.0, 50.0)
    rest = xero.put(
        f"CreditNotes/{note['CreditNoteID']}/Allocations",
        json={
            "Allocations": [
                {
                    "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                    "Amount": 70.0,
                    "Date": "2026-05-11",
                }
            ]
        },
    )
    assert rest.status_code == 200
    assert (
        xero.get(f"CreditNotes/{note['CreditNoteID']}").json["CreditNotes"][0]["Status"] == "PAID"
    )


@pytest.mark.parametrize(
    ("amount", "note_status", "message"),
    [
        (
            130.0,
            "AUTHORISED",
            "The amount allocated exceeds the remaining credit on the credit note.",
        ),
        (10.0, "DRAFT", "Only AUTHORISED credit notes can be allocated."),
        (0, "AUTHORISED", "The allocation Amount must be greater than zero."),
    ],
)
def test_allocation_errors(xero, amount, note_status, message):  # noqa: F811
    amazon = xero.contact_id("Amazon Business")
    invoice = create(xero, "Invoices", bill(amazon))
    note = create(xero, "CreditNotes", credit_note(amazon, amount=100.0, Status=note_status))
    answer = xero.put(
        f"CreditNotes/{note['CreditNoteID']}/Allocations",
        json={
            "Allocations": [
                {
                    "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                    "Amount": amount,
                    "Date": "2026-05-10",
                }
            ]
        },
    )
    assert answer.status_code == 400
    assert message in [e["Message"] for e in answer.json["Elements"][0]["ValidationErrors"]]
    assert xero.get(f"Invoices/{invoice['InvoiceID']}").json["Invoices"][0]["AmountDue"] == 720.0


def test_allocation_needs_the_same_contact_and_an_open_bill(xero):  # noqa: F811
    invoice = create(xero, "Invoices", bill(xero.contact_id("Viking Direct")))
    note = create(xero, "CreditNotes", credit_note(xero.contact_id("Amazon Business")))
    answer = xero.put(
        f"CreditNotes/{note['CreditNoteID']}/Allocations?summarizeErrors=false",
        json={
            "Allocations": [
                {
                    "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                    "Amount": 5.0,
                    "Date": "2026-05-10",
                }
            ]
        },
    )
    assert answer.status_code == 200
    assert (
        first_message(answer, "Allocations")
        == "The invoice and the credit note must be for the same contact."
    )
    missing = xero.put(
        "CreditNotes/0f8fad5b-d9cb-469f-a165-70867728950e/Allocations", json={"Allocations": []}
    )
    assert missing.status_code == 404


def test_cash_refund_of_a_credit_note(xero):  # noqa: F811
    note = create(xero, "CreditNotes", credit_note(xero.contact_id("Amazon Business")))
    payment = {
        "CreditNote": {"CreditNoteID": note["CreditNoteID"]},
        "Account": {"Code": "090"},
        "Date": "2026-05-20",
        "Amount": 144.0,
    }
    answer = xero.put("Payments", json={"Payments": [payment]})
    assert answer.json["Payments"][0]["PaymentType"] == "APCREDITPAYMENT"
    refunded = xero.get(f"CreditNotes/{note['CreditNoteID']}").json["CreditNotes"][0]
    assert (refunded["RemainingCredit"], refunded["Status"]) == (0.0, "PAID")


def test_credit_note_listing_with_where(xero):  # noqa: F811
    amazon = xero.contact_id("Amazon Business")
    create(xero, "CreditNotes", credit_note(amazon, CreditNoteNumber="CN-A"))
    create(xero, "CreditNotes", credit_note(amazon, CreditNoteNumber="CN-B", Status="DRAFT"))
    found = xero.get("CreditNotes", query_string={"where": 'Status=="DRAFT"'}).json["CreditNotes"]
    assert [n["CreditNoteNumber"] for n in found] == ["CN-B"]


def test_us_bill_in_usd(xero):  # noqa: F811
    us = xero.tenants[HUDSON]
    vendor = xero.contact_id("Office Depot", tenant=us)
    document = bill(
        vendor,
        LineItems=[
            {
                "Description": "Desk",
                "Quantity": 1,
                "UnitAmount": 300,
                "AccountCode": "1510",
                "TaxType": "NONE",
            }
        ],
    )
    created = create(xero, "Invoices", document, tenant=us)
    assert (created["CurrencyCode"], created["Total"]) == ("USD", 300.0)
    eur = xero.put("Invoices", json={"Invoices": [{**document, "CurrencyCode": "EUR"}]}, tenant=us)
    assert (
        eur.json["Elements"][0]["ValidationErrors"][0]["Message"]
        == "Organisation is not subscribed to currency EUR"
    )


def test_deleting_a_payment_reopens_the_bill(xero):  # noqa: F811
    invoice = create(xero, "Invoices", bill(xero.contact_id("Amazon Business")))
    payment = pay(xero, invoice["InvoiceID"], 720.0).json["Payments"][0]
    assert xero.get(f"Invoices/{invoice['InvoiceID']}").json["Invoices"][0]["Status"] == "PAID"
    deleted = xero.post(f"Payments/{payment['PaymentID']}", json={"Status": "DELETED"})
    assert deleted.json["Payments"][0]["Status"] == "DELETED"
    reopened = xero.get(f"Invoices/{invoice['InvoiceID']}").json["Invoices"][0]
    assert (reopened["Status"], reopened["AmountDue"], reopened["Payments"]) == (
        "AUTHORISED",
        720.0,
        [],
    )


def test_voiding_and_deleting_documents(xero):  # noqa: F811
    amazon = xero.contact_id("Amazon Business")
    invoice = create(xero, "Invoices", bill(amazon))
    voided = xero.post(f"Invoices/{invoice['InvoiceID']}", json={"Status": "VOIDED"})
    assert voided.json["Invoices"][0]["Status"] == "VOIDED"
    draft = create(xero, "Invoices", bill(amazon, Status="DRAFT"))
    refused = xero.post(f"Invoices/{draft['InvoiceID']}", json={"Status": "VOIDED"})
    assert refused.status_code == 400
    assert (
        xero.post(f"Invoices/{draft['InvoiceID']}", json={"Status": "DELETED"}).status_code == 200
    )
    paid = create(xero, "Invoices", bill(amazon))
    pay(xero, paid["InvoiceID"], 10.0)
    assert xero.post(f"Invoices/{paid['InvoiceID']}", json={"Status": "VOIDED"}).status_code == 400
    edit = xero.post(f"Invoices/{paid['InvoiceID']}", json={"InvoiceNumber": "new"})
    assert edit.status_code == 400


def test_field_lengths_are_xeros(xero):  # noqa: F811
    """Description 4,000 and Reference 255 (InvoiceNumber 255 is above): longer is refused."""
    contact = xero.contact_id("Amazon Business")
    long_line = dict(bill(contact)["LineItems"][0], Description="x" * 4001)
    answer = xero.put(
        "Invoices?summarizeErrors=false",
        json={"Invoices": [bill(contact, LineItems=[long_line])]},
    )
    assert "4000 characters" in first_message(answer, "Invoices")
    fits = dict(long_line, Description="x" * 4000)
    assert create(xero, "Invoices", bill(contact, InvoiceNumber="GB-LEN", LineItems=[fits]))
