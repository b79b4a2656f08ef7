"""PURE: correcting a document already in Xero (issue 14 points 2 and 5).

Given the Xero document as it is now (its JSON, read just before) and what it should become:

- ``lock_reason``: why the document must not be touched (reconciled, paid, has payments or
  credits, a credit note allocated or refunded, already deleted or voided), in words a
  bookkeeper can act on; None when it may be;
- ``is_cancellation``: Amazon's re-fed transaction is a cancellation (amount 0, no lines: see
  ``sandbox.amazon.changes`` for why that is the representation);
- ``cancel_body``: the status change that takes the document out of the books (a bank
  transaction is ``DELETED``; a bill or credit note ``VOIDED``);
- ``update_body``: the new body with the document's ``LineItemID``s, line by line in order (the
  spec: lines sent without their id are recreated, lines not sent are removed);
- ``is_applied``: whether the document already shows the change (the look-up after an answer
  was lost: never send a change twice).
"""

from __future__ import annotations

import copy
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any

from plugin.amazon.models import Transaction

JsonBody = dict[str, Any]
CLOSED = ("DELETED", "VOIDED")
CANCEL_STATUS = {"BankTransactions": "DELETED", "Invoices": "VOIDED", "CreditNotes": "VOIDED"}


def _amount(value: Any) -> Decimal:
    try:
        return Decimal(str(value if value is not None else 0))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def is_cancellation(transaction: Transaction) -> bool:
    """Amazon fed the transaction again with a zero amount and no lines: it was cancelled."""
    amount = transaction.amount.amount if transaction.amount else Decimal(0)
    return amount == 0 and not transaction.line_items


def lock_reason(endpoint: str, document: JsonBody) -> str | None:
    """Why this Xero document must not be changed by the app (None: it may be)."""
    status = str(document.get("Status") or "")
    if status in CLOSED:
        return f"The Xero document is already {status.lower()}, so it was left as it is."
    if endpoint == "BankTransactions" and document.get("IsReconciled"):
        return "The Xero document is reconciled with a bank statement line."
    if endpoint == "CreditNotes":
        used = _amount(document.get("Total")) - _amount(document.get("RemainingCredit"))
        if document.get("Payments"):
            return "The Xero credit note is refunded (a refund payment is recorded against it)."
        if document.get("Allocations") or used != 0 or status == "PAID":
            return "The Xero credit note is allocated to a bill."
    if endpoint == "Invoices":
        paid = _amount(document.get("AmountPaid")) + _amount(document.get("AmountCredited"))
        if status == "PAID" or paid != 0 or document.get("Payments"):
            return "The Xero bill has a payment (or a credit) against it."
    return None


def cancel_body(endpoint: str) -> JsonBody:
    """The status change that removes the document from the books."""
    return {"Status": CANCEL_STATUS[endpoint]}


def update_body(body: JsonBody, document: JsonBody) -> JsonBody:
    """``body`` (a freshly translated document) carrying the document's line ids in order."""
    updated = copy.deepcopy(body)
    old_lines = list(document.get("LineItems") or [])
    for position, line in enumerate(updated.get("LineItems") or []):
        if position < len(old_lines) and old_lines[position].get("LineItemID"):
            line["LineItemID"] = old_lines[position]["LineItemID"]
    return updated


def line_signature(lines: Any) -> list[tuple[str, Decimal]]:
    """What a document's lines say, to compare a body with the document Xero holds."""
    return [
        (
            str(line.get("Description") or ""),
            _amount(line.get("LineAmount")).quantize(Decimal("0.01")),
        )
        for line in lines or []
        if isinstance(line, dict)
    ]


def is_applied(action: str, endpoint: str, body: JsonBody, document: JsonBody) -> bool:
    """Whether the Xero document already shows this change."""
    if action in ("void", "delete"):
        return str(document.get("Status") or "") == CANCEL_STATUS[endpoint]
    return line_signature(document.get("LineItems")) == line_signature(body.get("LineItems"))


def summary(document: JsonBody) -> JsonBody:
    """What the audit trail keeps of a Xero document: status, totals, flags and lines."""
    keep = ("Status", "Total", "SubTotal", "TotalTax", "IsReconciled", "AmountPaid", "AmountDue")
    shown: JsonBody = {k: document[k] for k in keep if k in document}
    if isinstance(document.get("BankAccount"), dict):  # what a remap may change
        shown["BankAccount"] = {
            k: document["BankAccount"][k]
            for k in ("AccountID", "Code")
            if k in document["BankAccount"]
        }
    shown["LineItems"] = [
        {
            k: line[k]
            for k in (
                "LineItemID",
                "Description",
                "LineAmount",
                "TaxAmount",
                "AccountCode",
                "TaxType",
            )
            if k in line
        }
        for line in document.get("LineItems") or []
        if isinstance(line, dict)
    ]
    return shown
