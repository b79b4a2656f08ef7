"""Attachments (raw bodies, 10 per document, 10 MB) and History notes."""

from __future__ import annotations

import pytest

from tests.sandbox.test_xero_bank_transactions import spend
from tests.sandbox.test_xero_bills import bill
from tests.sandbox.xero_support import xero  # noqa: F401
from tests.sandbox.xero_support import xero_app  # noqa: F401

PDF = b"%PDF-1.4\n% sandbox test invoice\n"


@pytest.fixture
def transaction_id(xero):  # noqa: F811
    created = xero.put(
        "BankTransactions", json={"BankTransactions": [spend(xero.contact_id("Amazon Business"))]}
    )
    return created.json["BankTransactions"][0]["BankTransactionID"]


def upload(xero, endpoint, record_id, name, content=PDF, method="PUT"):  # noqa: F811
    return xero.client.open(
        f"/api.xro/2.0/{endpoint}/{record_id}/Attachments/{name}",
        method=method,
        data=content,
        headers={**xero.headers(), "Content-Type": "application/pdf"},
    )


def test_attach_list_and_download(xero, transaction_id):  # noqa: F811
    answer = upload(xero, "BankTransactions", transaction_id, "invoice 112-123.pdf")
    assert answer.status_code == 200
    attachment = answer.json["Attachments"][0]
    assert attachment["FileName"] == "invoice 112-123.pdf"
    assert attachment["MimeType"] == "application/pdf"
    assert attachment["ContentLength"] == len(PDF)
    assert attachment["Url"].endswith(
        f"/BankTransactions/{transaction_id}/Attachments/invoice%20112-123.pdf"
    )
    listed = xero.get(f"BankTransactions/{transaction_id}/Attachments").json["Attachments"]
    assert [a["AttachmentID"] for a in listed] == [attachment["AttachmentID"]]
    download = xero.get(f"BankTransactions/{transaction_id}/Attachments/invoice 112-123.pdf")
    assert download.data == PDF
    assert download.mimetype == "application/pdf"
    by_id = xero.get(f"BankTransactions/{transaction_id}/Attachments/{attachment['AttachmentID']}")
    assert by_id.data == PDF
    document = xero.get(f"BankTransactions/{transaction_id}").json["BankTransactions"][0]
    assert document["HasAttachments"] is True


def test_bills_and_credit_notes_take_attachments(xero):  # noqa: F811
    invoice = xero.put(
        "Invoices", json={"Invoices": [bill(xero.contact_id("Amazon Business"))]}
    ).json["Invoices"][0]
    assert upload(xero, "Invoices", invoice["InvoiceID"], "bill.pdf").status_code == 200
    assert (
        xero.get(f"Invoices/{invoice['InvoiceID']}").json["Invoices"][0]["HasAttachments"] is True
    )


def test_at_most_ten_attachments_per_document(xero, transaction_id):  # noqa: F811
    for number in range(10):
        assert (
            upload(xero, "BankTransactions", transaction_id, f"file-{number}.pdf").status_code
            == 200
        )
    eleventh = upload(xero, "BankTransactions", transaction_id, "file-10.pdf")
    assert eleventh.status_code == 400
    assert eleventh.json["Type"] == "ValidationException"
    replaced = upload(
        xero, "BankTransactions", transaction_id, "file-3.pdf", content=b"%PDF new", method="POST"
    )
    assert replaced.status_code == 200
    assert len(xero.get(f"BankTransactions/{transaction_id}/Attachments").json["Attachments"]) == 10


def test_attachments_over_10_mb_are_refused(xero, transaction_id):  # noqa: F811
    answer = upload(
        xero, "BankTransactions", transaction_id, "huge.pdf", content=b"0" * (10 * 1024 * 1024 + 1)
    )
    assert answer.status_code == 413
    assert xero.get(f"BankTransactions/{transaction_id}/Attachments").json["Attachments"] == []


@pytest.mark.parametrize("name", ["bad*name.pdf", "a+b.pdf", 'quote".pdf'])
def test_attachment_names_with_forbidden_characters(xero, transaction_id, name):  # noqa: F811
    assert upload(xero, "BankTransactions", transaction_id, name).status_code == 400


def test_empty_attachment_and_unknown_document(xero, transaction_id):  # noqa: F811
    assert (
        upload(xero, "BankTransactions", transaction_id, "empty.pdf", content=b"").status_code
        == 400
    )
    missing = upload(xero, "BankTransactions", "0f8fad5b-d9cb-469f-a165-70867728950e", "x.pdf")
    assert missing.status_code == 404


def test_history_records_creation_notes_and_attachments(xero, transaction_id):  # noqa: F811
    added = xero.put(
        f"BankTransactions/{transaction_id}/History",
        json={"HistoryRecords": [{"Details": "Imported from Amazon Business order 112-123"}]},
    )
    assert added.status_code == 200
    assert (
        added.json["HistoryRecords"][0]["Details"] == "Imported from Amazon Business order 112-123"
    )
    upload(xero, "BankTransactions", transaction_id, "invoice.pdf")
    history = xero.get(f"BankTransactions/{transaction_id}/History").json["HistoryRecords"]
    assert [h["Changes"] for h in history] == ["Created", "Note", "Attached a file"]
    assert all(h["DateUTC"].startswith("/Date(") for h in history)


def test_history_note_validation(xero, transaction_id):  # noqa: F811
    empty = xero.put(
        f"BankTransactions/{transaction_id}/History", json={"HistoryRecords": [{"Details": ""}]}
    )
    assert empty.status_code == 400
    long = xero.put(
        f"BankTransactions/{transaction_id}/History",
        json={"HistoryRecords": [{"Details": "x" * 2501}]},
    )
    assert long.status_code == 400
    assert xero.get("Payments/0f8fad5b-d9cb-469f-a165-70867728950e/History").status_code == 404
