"""Updating documents in place (POST /{Endpoint}/{id}), reconciling them from the control, and
Xero's refusals: a reconciled bank transaction, a paid bill, an allocated or refunded credit
note, a deleted document."""

from __future__ import annotations

from tests.sandbox.test_xero_bank_transactions import spend
from tests.sandbox.test_xero_bills import bill
from tests.sandbox.test_xero_bills import create
from tests.sandbox.test_xero_bills import credit_note
from tests.sandbox.xero_support import xero  # noqa: F401
from tests.sandbox.xero_support import xero_app  # noqa: F401


def message(answer) -> str:
    return answer.json["Elements"][0]["ValidationErrors"][0]["Message"]


def reconcile(xero, document_id, **body):  # noqa: F811
    return xero.client.post(f"/_sandbox/xero/documents/{document_id}/reconcile", json=body)


def test_bank_transaction_update_keeps_line_ids_and_recomputes_totals(xero):  # noqa: F811
    created = create(xero, "BankTransactions", spend(xero.contact_id("Amazon Business")))
    line = created["LineItems"][0]
    stale = ("TaxAmount", "LineAmount")  # Xero checks a given tax against the new amount
    changed = {**{k: v for k, v in line.items() if k not in stale}, "UnitAmount": 20.00}
    answer = xero.post(
        f"BankTransactions/{created['BankTransactionID']}",
        json={"BankTransactions": [{"LineItems": [changed]}]},
    )
    assert answer.status_code == 200, answer.json
    updated = answer.json["BankTransactions"][0]
    assert updated["LineItems"][0]["LineItemID"] == line["LineItemID"]
    assert (updated["SubTotal"], updated["TotalTax"], updated["Total"]) == (40.0, 8.0, 48.0)
    assert updated["Reference"] == created["Reference"]
    stored = xero.get(f"BankTransactions/{created['BankTransactionID']}").json
    assert stored["BankTransactions"][0]["Total"] == 48.0
    # A line sent without its id is a new line; the old one is gone.
    fresh = {k: v for k, v in changed.items() if k != "LineItemID"}
    again = xero.post(
        f"BankTransactions/{created['BankTransactionID']}", json={"LineItems": [fresh]}
    ).json["BankTransactions"][0]
    assert again["LineItems"][0]["LineItemID"] != line["LineItemID"]
    assert len(again["LineItems"]) == 1


def test_update_is_validated_like_a_creation(xero):  # noqa: F811
    created = create(xero, "BankTransactions", spend(xero.contact_id("Amazon Business")))
    line = {k: v for k, v in created["LineItems"][0].items() if k != "AccountID"}
    bad = {**line, "AccountCode": "999999"}
    answer = xero.post(
        f"BankTransactions/{created['BankTransactionID']}", json={"LineItems": [bad]}
    )
    assert answer.status_code == 400
    assert "not a valid code" in message(answer)
    unchanged = xero.get(f"BankTransactions/{created['BankTransactionID']}").json
    assert unchanged["BankTransactions"][0]["Total"] == created["Total"]


def test_reconciled_bank_transaction_cannot_be_edited_or_deleted(xero):  # noqa: F811
    created = create(xero, "BankTransactions", spend(xero.contact_id("Amazon Business")))
    document_id = created["BankTransactionID"]
    shown = reconcile(xero, document_id).json
    assert shown["IsReconciled"] is True
    listed = xero.get(f"BankTransactions/{document_id}").json["BankTransactions"][0]
    assert listed["IsReconciled"] is True
    edit = xero.post(f"BankTransactions/{document_id}", json={"Reference": "changed"})
    assert edit.status_code == 400
    assert "reconciled" in message(edit)
    delete = xero.post(f"BankTransactions/{document_id}", json={"Status": "DELETED"})
    assert delete.status_code == 400
    assert "reconciled" in message(delete)
    # Un-reconciled ("Remove & redo"), it can be deleted; deleted, it cannot be edited.
    assert reconcile(xero, document_id, reconciled=False).json["IsReconciled"] is False
    assert (
        xero.post(f"BankTransactions/{document_id}", json={"Status": "DELETED"}).status_code == 200
    )
    late = xero.post(f"BankTransactions/{document_id}", json={"Reference": "after"})
    assert late.status_code == 400
    assert "deleted" in message(late)


def test_bill_update_then_paid_bill_is_refused(xero):  # noqa: F811
    created = create(xero, "Invoices", bill(xero.contact_id("Amazon Business")))
    invoice_id = created["InvoiceID"]
    old = {k: v for k, v in created["LineItems"][0].items() if k not in ("TaxAmount", "LineAmount")}
    line = {**old, "Quantity": 3}
    answer = xero.post(f"Invoices/{invoice_id}", json={"Invoices": [{"LineItems": [line]}]})
    assert answer.status_code == 200, answer.json
    updated = answer.json["Invoices"][0]
    assert (updated["Total"], updated["AmountDue"], updated["Status"]) == (
        540.0,
        540.0,
        "AUTHORISED",
    )
    assert updated["LineItems"][0]["LineItemID"] == line["LineItemID"]
    paid = reconcile(xero, invoice_id).json
    assert paid["Invoice"]["Status"] == "PAID"
    assert paid["Payment"]["Amount"] == 540.0
    edit = xero.post(f"Invoices/{invoice_id}", json={"LineItems": [line]})
    assert edit.status_code == 400
    assert "payment" in message(edit)
    void = xero.post(f"Invoices/{invoice_id}", json={"Status": "VOIDED"})
    assert void.status_code == 400
    assert "payments" in message(void)


def test_unpaid_bill_can_be_voided_and_then_not_edited(xero):  # noqa: F811
    created = create(xero, "Invoices", bill(xero.contact_id("Amazon Business")))
    invoice_id = created["InvoiceID"]
    assert xero.post(f"Invoices/{invoice_id}", json={"Status": "VOIDED"}).status_code == 200
    edit = xero.post(f"Invoices/{invoice_id}", json={"InvoiceNumber": "X"})
    assert edit.status_code == 400
    assert "voided" in message(edit)


def test_reconcile_control_knows_only_real_documents(xero):  # noqa: F811
    assert reconcile(xero, "00000000-0000-0000-0000-000000000000").status_code == 404


def _stale_free(line: dict) -> dict:
    return {k: v for k, v in line.items() if k not in ("TaxAmount", "LineAmount")}


def test_credit_note_update_keeps_line_ids_and_its_credit(xero):  # noqa: F811
    note = create(xero, "CreditNotes", credit_note(xero.contact_id("Amazon Business")))
    note_id = note["CreditNoteID"]
    line = {**_stale_free(note["LineItems"][0]), "UnitAmount": 80.0}
    answer = xero.post(f"CreditNotes/{note_id}", json={"CreditNotes": [{"LineItems": [line]}]})
    assert answer.status_code == 200, answer.json
    updated = answer.json["CreditNotes"][0]
    assert updated["LineItems"][0]["LineItemID"] == note["LineItems"][0]["LineItemID"]
    assert (updated["Total"], updated["RemainingCredit"]) == (96.0, 96.0)
    assert updated["CreditNoteNumber"] == note["CreditNoteNumber"]
    stored = xero.get(f"CreditNotes/{note_id}").json["CreditNotes"][0]
    assert stored["Total"] == 96.0
    assert xero.post(f"CreditNotes/{note_id}", json={"Status": "VOIDED"}).status_code == 200


def test_allocated_credit_note_cannot_be_edited_or_voided(xero):  # noqa: F811
    amazon = xero.contact_id("Amazon Business")
    invoice = create(xero, "Invoices", bill(amazon))
    note = create(xero, "CreditNotes", credit_note(amazon, amount=100.0))
    note_id = note["CreditNoteID"]
    allocation = {"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Amount": 20.0}
    allocated = xero.put(
        f"CreditNotes/{note_id}/Allocations",
        json={"Allocations": [{**allocation, "Date": "2026-05-10"}]},
    )
    assert allocated.status_code == 200
    line = {**_stale_free(note["LineItems"][0]), "UnitAmount": 90.0}
    edit = xero.post(f"CreditNotes/{note_id}", json={"LineItems": [line]})
    assert edit.status_code == 400
    assert "allocated" in message(edit)
    void = xero.post(f"CreditNotes/{note_id}", json={"Status": "VOIDED"})
    assert void.status_code == 400
    assert "allocations" in message(void)
    assert xero.get(f"CreditNotes/{note_id}").json["CreditNotes"][0]["Total"] == 120.0


def test_refunded_credit_note_cannot_be_edited(xero):  # noqa: F811
    note = create(xero, "CreditNotes", credit_note(xero.contact_id("Amazon Business")))
    note_id = note["CreditNoteID"]
    refunded = reconcile(xero, note_id).json
    assert refunded["CreditNote"]["Status"] == "PAID"
    assert refunded["Payment"]["Amount"] == note["Total"]
    line = {**_stale_free(note["LineItems"][0]), "UnitAmount": 90.0}
    edit = xero.post(f"CreditNotes/{note_id}", json={"LineItems": [line]})
    assert edit.status_code == 400
    assert "payment" in message(edit)
