"""``POST /BankTransactions/{id}``, ``POST /Invoices/{id}`` and ``POST /CreditNotes/{id}`` with
new fields: updating a document in place, as Xero allows it, checked exactly as a new one is.

What Xero refuses (spec §3.7 to 3.10, December 2026 pt 7), the sandbox refuses:

- a reconciled bank transaction (``IsReconciled``) cannot be edited, deleted or voided: the
  user must un-reconcile it in Xero first;
- a deleted or voided document cannot be edited;
- a bill with payments or credit notes against it (or ``PAID``) cannot have its lines or
  amounts changed, nor be voided;
- a credit note allocated to a bill or refunded (``Allocations``, ``Payments``, less
  ``RemainingCredit`` than its total, or ``PAID``) cannot be changed nor voided: the allocation
  or refund must be removed in Xero first;
- a document dated in a locked period cannot be changed, nor moved into one.

The update is the stored document with the request's fields laid over it: ``LineItems`` given
replace the lines (a line sent with a known ``LineItemID`` keeps that id; one without is a new
line; a stored line not sent is removed, as the spec says). Callers hold the sandbox lock.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.xero.validation import BatchContext
from sandbox.xero.validation import Draft
from sandbox.xero.validation import as_number
from sandbox.xero.validation import check_lock_dates
from sandbox.xero.world import Tenant
from sandbox.xero.xerojson import parse_date

UPDATABLE = ("BankTransactions", "Invoices", "CreditNotes")
RECONCILED = (
    "This Bank Transaction cannot be edited as it has been reconciled with a Bank Statement."
)
CLOSED = "This document cannot be edited as it has been {status}."
HAS_PAYMENTS = "This document cannot be edited as it has a payment or credit note allocated to it."

# Input fields of a stored document that an update keeps unless the request gives them.
KEPT = {
    "BankTransactions": (
        "Type",
        "Contact",
        "BankAccount",
        "Reference",
        "CurrencyCode",
        "CurrencyRate",
        "LineAmountTypes",
        "Status",
        "Url",
    ),
    "Invoices": (
        "Type",
        "Contact",
        "InvoiceNumber",
        "CurrencyCode",
        "CurrencyRate",
        "LineAmountTypes",
        "Status",
        "PlannedPaymentDate",
        "Url",
    ),
    "CreditNotes": (
        "Type",
        "Contact",
        "CreditNoteNumber",
        "Reference",
        "CurrencyCode",
        "CurrencyRate",
        "LineAmountTypes",
        "Status",
    ),
}
ID_KEYS = {
    "BankTransactions": "BankTransactionID",
    "Invoices": "InvoiceID",
    "CreditNotes": "CreditNoteID",
}


def _has_payments(document: dict[str, Any]) -> bool:
    paid = Decimal(str(document.get("AmountPaid", 0) or 0))
    credited = Decimal(str(document.get("AmountCredited", 0) or 0))
    if paid != 0 or credited != 0 or document.get("Payments") or document.get("Allocations"):
        return True
    if "CreditNoteID" in document:  # some of its credit used
        remaining = Decimal(str(document.get("RemainingCredit", 0) or 0))
        return remaining != Decimal(str(document.get("Total", 0) or 0))
    return False


def refusal(endpoint: str, document: dict[str, Any], tenant: Tenant) -> str | None:
    """Why Xero would refuse any change to this document (status changes included)."""
    if endpoint == "BankTransactions" and document.get("IsReconciled"):
        return RECONCILED
    if document.get("Status") in ("DELETED", "VOIDED"):
        return CLOSED.format(status=str(document["Status"]).lower())
    day = parse_date(document.get("Date"))
    if day is not None:
        errors: list[str] = []
        check_lock_dates(tenant, day, errors)
        if errors and document.get("Status") != "DRAFT":
            return errors[0]
    return None


def merged_input(
    endpoint: str, document: dict[str, Any], element: dict[str, Any]
) -> dict[str, Any]:
    """The request as a creation would see it: the stored fields, overlaid with the given."""
    merged: dict[str, Any] = {k: document[k] for k in KEPT[endpoint] if k in document}
    merged["Date"] = document.get("DateString") or document.get("Date")
    if endpoint == "Invoices" and document.get("DueDate"):
        merged["DueDate"] = document.get("DueDateString") or document["DueDate"]
    merged["LineItems"] = [dict(line) for line in document.get("LineItems") or []]
    merged.update({k: v for k, v in element.items() if k != "StatusAttributeString"})
    return merged


def _keep_line_ids(
    old_lines: list[dict[str, Any]], sent: Any, new_lines: list[dict[str, Any]]
) -> None:
    known = {str(line.get("LineItemID", "")).lower() for line in old_lines}
    sent_lines = sent if isinstance(sent, list) else []
    for given, built in zip(sent_lines, new_lines, strict=False):
        line_id = str((given or {}).get("LineItemID") or "").lower()
        if line_id and line_id in known:
            built["LineItemID"] = line_id


def apply_update(
    tenant: Tenant,
    endpoint: str,
    document: dict[str, Any],
    element: dict[str, Any],
    context: BatchContext,
) -> Draft:
    """Check an update; the Draft holds the document to store in place of the old one."""
    from sandbox.xero.documents import CHECKERS

    if endpoint not in UPDATABLE:
        return Draft(["The sandbox only supports changing Status with this call."])
    why = refusal(endpoint, document, tenant)
    if why:
        return Draft([why])
    if endpoint != "BankTransactions" and (
        _has_payments(document) or document.get("Status") == "PAID"
    ):
        return Draft([HAS_PAYMENTS])
    merged = merged_input(endpoint, document, element)
    draft = CHECKERS[endpoint](tenant, merged, context)
    if draft.errors or draft.document is None:
        return draft
    updated = draft.document
    id_key = ID_KEYS[endpoint]
    updated[id_key] = document[id_key]
    if "LineItems" in element:
        _keep_line_ids(document.get("LineItems") or [], element["LineItems"], updated["LineItems"])
    else:
        for old, new in zip(document.get("LineItems") or [], updated["LineItems"], strict=False):
            new["LineItemID"] = old["LineItemID"]
    if endpoint == "BankTransactions":
        updated["IsReconciled"] = bool(document.get("IsReconciled"))
    elif endpoint == "CreditNotes":
        updated["RemainingCredit"] = as_number(Decimal(str(updated["Total"])))
    else:
        updated["AmountDue"] = as_number(Decimal(str(updated["Total"])))
    updated["HasAttachments"] = bool(document.get("HasAttachments"))
    return Draft([], updated, draft.new_contact)
