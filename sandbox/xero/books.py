"""Changing and reading a tenant's books: storing documents, applying payments and
allocations, history records, and rendering documents in Xero's response shape.

Callers hold the sandbox lock. Documents are stored with references (contact, invoice) by id
and rendered with the current names and amounts when read.
"""

from __future__ import annotations

import copy
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.xero.build import new_contact
from sandbox.xero.seed import PROVIDER_NAME
from sandbox.xero.validation import Draft
from sandbox.xero.world import Tenant
from sandbox.xero.xerojson import ms_datetime
from sandbox.xero.xerojson import utc_string

ID_KEYS = {
    "BankTransactions": "BankTransactionID",
    "Invoices": "InvoiceID",
    "CreditNotes": "CreditNoteID",
    "Payments": "PaymentID",
    "Contacts": "ContactID",
}
WITH_UTC_STRING = ("Invoices", "CreditNotes", "Payments")


def touch(endpoint: str, document: dict[str, Any], now: datetime) -> None:
    """Set ``UpdatedDateUTC`` (and its string form where Xero sends one)."""
    document["UpdatedDateUTC"] = ms_datetime(now)
    if endpoint in WITH_UTC_STRING:
        document["UpdatedDateUTCString"] = utc_string(now)


def add_history(
    tenant: Tenant,
    record_id: str,
    changes: str,
    details: str,
    now: datetime,
    user: str = "System Generated",
) -> dict[str, Any]:
    """Append a history record to a document or contact."""
    record = {
        "Changes": changes,
        "DateUTCString": now.strftime("%Y-%m-%dT%H:%M:%S"),
        "DateUTC": ms_datetime(now),
        "User": user,
        "Details": details,
    }
    tenant.history.setdefault(record_id, []).append(record)
    return record


def store_contact(tenant: Tenant, fields: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Add a new ACTIVE contact (from PUT /Contacts or a document naming a new contact)."""
    extra = {k: v for k, v in fields.items() if k not in ("ContactID", "Name", "ContactStatus")}
    contact = new_contact(fields["ContactID"], fields["Name"], "ACTIVE", ms_datetime(now), extra)
    tenant.contacts[contact["ContactID"]] = contact
    add_history(tenant, contact["ContactID"], "Created", f"Contact created by {PROVIDER_NAME}", now)
    return contact


def commit(tenant: Tenant, endpoint: str, draft: Draft, now: datetime) -> dict[str, Any]:
    """Store a checked document (creating its new contact first) and apply payments."""
    assert draft.document is not None
    if draft.new_contact and draft.new_contact["ContactID"] not in tenant.contacts:
        store_contact(tenant, draft.new_contact, now)
    document = draft.document
    touch(endpoint, document, now)
    document_id = document[ID_KEYS[endpoint]]
    tenant.documents[endpoint][document_id] = document
    add_history(
        tenant, document_id, "Created", f"Created through the Xero API using {PROVIDER_NAME}", now
    )
    if endpoint == "Payments":
        apply_payment(tenant, document, now)
    return document


def _reduce(document: dict[str, Any], key: str, amount: Decimal) -> Decimal:
    remaining = Decimal(str(document[key])) - amount
    document[key] = float(remaining)
    return remaining


def _mark_paid_if_settled(document: dict[str, Any], remaining: Decimal, day: str) -> None:
    if remaining <= 0:
        document["Status"] = "PAID"
        document["FullyPaidOnDate"] = day


def apply_payment(tenant: Tenant, payment: dict[str, Any], now: datetime) -> None:
    """Reduce what is owed on the paid bill (or left on the refunded credit note)."""
    amount = Decimal(str(payment["Amount"]))
    summary = {
        "PaymentID": payment["PaymentID"],
        "Date": payment["Date"],
        "Amount": payment["Amount"],
        "BankAmount": payment["BankAmount"],
        "Reference": payment["Reference"],
        "CurrencyRate": payment["CurrencyRate"],
        "HasAccount": True,
        "HasValidationErrors": False,
    }
    if "Invoice" in payment:
        invoice = tenant.documents["Invoices"][payment["Invoice"]["InvoiceID"]]
        remaining = _reduce(invoice, "AmountDue", amount)
        invoice["AmountPaid"] = float(Decimal(str(invoice["AmountPaid"])) + amount)
        invoice["Payments"].append(summary)
        _mark_paid_if_settled(invoice, remaining, payment["Date"])
        touch("Invoices", invoice, now)
        add_history(tenant, invoice["InvoiceID"], "Paid", f"Payment received of {amount}", now)
    else:
        credit_note = tenant.documents["CreditNotes"][payment["CreditNote"]["CreditNoteID"]]
        remaining = _reduce(credit_note, "RemainingCredit", amount)
        credit_note["Payments"].append(summary)
        _mark_paid_if_settled(credit_note, remaining, payment["Date"])
        touch("CreditNotes", credit_note, now)
        add_history(
            tenant, credit_note["CreditNoteID"], "Refunded", f"Refund received of {amount}", now
        )


def apply_allocation(tenant: Tenant, allocation: dict[str, Any], now: datetime) -> None:
    """Offset a bill with a credit note: both amounts go down, PAID when nothing is left."""
    amount = Decimal(str(allocation["Amount"]))
    credit_note = tenant.documents["CreditNotes"][allocation["CreditNote"]["CreditNoteID"]]
    invoice = tenant.documents["Invoices"][allocation["Invoice"]["InvoiceID"]]
    credit_left = _reduce(credit_note, "RemainingCredit", amount)
    due_left = _reduce(invoice, "AmountDue", amount)
    invoice["AmountCredited"] = float(Decimal(str(invoice["AmountCredited"])) + amount)
    credit_note["Allocations"].append(
        {
            "AllocationID": allocation["AllocationID"],
            "Amount": allocation["Amount"],
            "Date": allocation["Date"],
            "Invoice": {
                "InvoiceID": invoice["InvoiceID"],
                "InvoiceNumber": invoice["InvoiceNumber"],
            },
        }
    )
    invoice["CreditNotes"].append(
        {
            "CreditNoteID": credit_note["CreditNoteID"],
            "CreditNoteNumber": credit_note["CreditNoteNumber"],
            "AppliedAmount": allocation["Amount"],
            "Date": allocation["Date"],
            "Total": credit_note["Total"],
        }
    )
    _mark_paid_if_settled(credit_note, credit_left, allocation["Date"])
    _mark_paid_if_settled(invoice, due_left, allocation["Date"])
    touch("CreditNotes", credit_note, now)
    touch("Invoices", invoice, now)
    add_history(
        tenant, credit_note["CreditNoteID"], "Credit Applied", f"Credit allocated: {amount}", now
    )
    add_history(tenant, invoice["InvoiceID"], "Credit Applied", f"Credit applied: {amount}", now)


def contact_summary(tenant: Tenant, contact_id: str) -> dict[str, Any]:
    """How a document shows its contact."""
    contact = tenant.contacts.get(contact_id)
    if contact is None:
        return {"ContactID": contact_id}
    return {
        "ContactID": contact_id,
        "ContactStatus": contact["ContactStatus"],
        "Name": contact["Name"],
        "HasValidationErrors": False,
    }


def _invoice_summary(tenant: Tenant, invoice_id: str) -> dict[str, Any]:
    invoice = tenant.documents["Invoices"].get(invoice_id, {"InvoiceID": invoice_id})
    keys = ("Type", "InvoiceID", "InvoiceNumber", "Status", "CurrencyCode", "Total")
    summary = {k: invoice[k] for k in keys if k in invoice}
    summary.update({k: invoice[k] for k in ("AmountDue", "AmountPaid") if k in invoice})
    if "Contact" in invoice:
        summary["Contact"] = contact_summary(tenant, invoice["Contact"]["ContactID"])
    return summary


def _credit_note_summary(tenant: Tenant, credit_note_id: str) -> dict[str, Any]:
    note = tenant.documents["CreditNotes"].get(credit_note_id, {"CreditNoteID": credit_note_id})
    keys = ("Type", "CreditNoteID", "CreditNoteNumber", "Status", "CurrencyCode", "Total")
    summary = {k: note[k] for k in keys if k in note}
    if "Contact" in note:
        summary["Contact"] = contact_summary(tenant, note["Contact"]["ContactID"])
    return summary


def render(tenant: Tenant, endpoint: str, document: dict[str, Any]) -> dict[str, Any]:
    """A stored document as the API returns it (current contact names, attachment flag)."""
    shown = copy.deepcopy(document)
    if isinstance(shown.get("Contact"), dict) and "ContactID" in shown["Contact"]:
        shown["Contact"] = contact_summary(tenant, shown["Contact"]["ContactID"])
    if endpoint == "Payments":
        if "Invoice" in shown:
            shown["Invoice"] = _invoice_summary(tenant, shown["Invoice"]["InvoiceID"])
        if "CreditNote" in shown:
            shown["CreditNote"] = _credit_note_summary(tenant, shown["CreditNote"]["CreditNoteID"])
    if endpoint in ("BankTransactions", "Invoices", "CreditNotes"):
        shown["HasAttachments"] = bool(tenant.attachments.get(shown[ID_KEYS[endpoint]]))
    return shown


def render_allocation(tenant: Tenant, allocation: dict[str, Any]) -> dict[str, Any]:
    """An allocation as ``PUT .../Allocations`` returns it."""
    shown = copy.deepcopy(allocation)
    shown["Invoice"] = _invoice_summary(tenant, allocation["Invoice"]["InvoiceID"])
    shown["CreditNote"] = _credit_note_summary(tenant, allocation["CreditNote"]["CreditNoteID"])
    return shown
