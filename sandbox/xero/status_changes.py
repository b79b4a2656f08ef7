"""``POST /{Endpoint}/{id}``: deleting and voiding documents, deleting payments (which puts the
amount back on the bill or credit note), and (``sandbox.xero.updates``) updating a bank
transaction, a bill or a credit note in place. A reconciled bank transaction, or a deleted or
voided document, cannot be changed at all; other field updates (payments) are refused."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import Response

from sandbox.core import current_sandbox
from sandbox.xero import books
from sandbox.xero.api import api_blueprint
from sandbox.xero.api import current_tenant
from sandbox.xero.api import error_response
from sandbox.xero.api import invalid_body
from sandbox.xero.api import not_found
from sandbox.xero.api import request_elements
from sandbox.xero.api import respond
from sandbox.xero.updates import RECONCILED
from sandbox.xero.updates import apply_update
from sandbox.xero.validation import BatchContext
from sandbox.xero.world import Tenant
from sandbox.xero.world import xero_world
from sandbox.xero.xerojson import validation_exception

bp = api_blueprint("xero_status_changes", __name__)

ALLOWED = {
    "BankTransactions": {"AUTHORISED": {"DELETED"}},
    "Invoices": {
        "DRAFT": {"DELETED", "AUTHORISED"},
        "SUBMITTED": {"DELETED"},
        "AUTHORISED": {"VOIDED"},
    },
    "CreditNotes": {
        "DRAFT": {"DELETED", "AUTHORISED"},
        "SUBMITTED": {"DELETED"},
        "AUTHORISED": {"VOIDED"},
    },
    "Payments": {"AUTHORISED": {"DELETED"}},
}


def _refusal(element: dict[str, Any], message: str) -> Response:
    failed = {**element, "ValidationErrors": [{"Message": message}]}
    return error_response(validation_exception([failed]))


def _untouched(document: dict[str, Any]) -> bool:
    paid = Decimal(str(document.get("AmountPaid", 0)))
    credited = Decimal(str(document.get("AmountCredited", 0)))
    allocated = document.get("Allocations") or document.get("Payments")
    return paid == 0 and credited == 0 and not allocated


def _reverse_payment(tenant: Tenant, payment: dict[str, Any], now: datetime) -> None:
    amount = Decimal(str(payment["Amount"]))
    if "Invoice" in payment:
        target = tenant.documents["Invoices"][payment["Invoice"]["InvoiceID"]]
        target["AmountDue"] = float(Decimal(str(target["AmountDue"])) + amount)
        target["AmountPaid"] = float(Decimal(str(target["AmountPaid"])) - amount)
        endpoint = "Invoices"
    else:
        target = tenant.documents["CreditNotes"][payment["CreditNote"]["CreditNoteID"]]
        target["RemainingCredit"] = float(Decimal(str(target["RemainingCredit"])) + amount)
        endpoint = "CreditNotes"
    target["Payments"] = [p for p in target["Payments"] if p["PaymentID"] != payment["PaymentID"]]
    target["Status"] = "AUTHORISED"
    target.pop("FullyPaidOnDate", None)
    books.touch(endpoint, target, now)


@bp.post("/<any(BankTransactions,Invoices,CreditNotes,Payments):endpoint>/<document_id>")
def change_status(endpoint: str, document_id: str) -> Any:
    """Move a document to DELETED / VOIDED (or approve a draft) as Xero allows."""
    elements = request_elements(endpoint)
    if not elements:
        return invalid_body()
    element = elements[0]
    wanted = element.get("Status")
    sandbox = current_sandbox()
    with sandbox.lock:
        tenant = current_tenant()
        document = tenant.document(endpoint, document_id)
        if document is None:
            return not_found()
        if endpoint == "BankTransactions" and document.get("IsReconciled"):
            return _refusal(element, RECONCILED)
        fields = set(element) - {"Status", books.ID_KEYS[endpoint]}
        if fields and wanted not in ("DELETED", "VOIDED"):
            return _update(tenant, endpoint, document, element)
        if wanted is None:
            return _refusal(element, "The Status field is mandatory for this call.")
        if wanted == "VOIDED" and not _untouched(document):
            return _refusal(element, "Documents with payments or allocations cannot be voided.")
        if wanted not in ALLOWED[endpoint].get(document["Status"], set()):
            return _refusal(
                element, f"Cannot change the Status from {document['Status']} to {wanted}."
            )
        if wanted == "AUTHORISED" and endpoint == "Invoices" and "DueDate" not in document:
            return _refusal(element, "The document DueDate field must be specified")
        now = sandbox.clock.now()
        if endpoint == "Payments":
            _reverse_payment(tenant, document, now)
        document["Status"] = wanted
        books.touch(endpoint, document, now)
        books.add_history(
            tenant, document_id.lower(), wanted.title(), f"Status set to {wanted}", now
        )
        return respond(endpoint, [books.render(tenant, endpoint, document)])


def _update(
    tenant: Tenant, endpoint: str, document: dict[str, Any], element: dict[str, Any]
) -> Any:
    """Update a document in place (``sandbox.xero.updates``), as one element of a request."""
    sandbox = current_sandbox()
    context = BatchContext(today=sandbox.clock.now().date(), new_id=xero_world().new_id)
    draft = apply_update(tenant, endpoint, document, element, context)
    if draft.errors or draft.document is None:
        return _refusal(element, draft.errors[0] if draft.errors else "Not updated.")
    now = sandbox.clock.now()
    if draft.new_contact and draft.new_contact["ContactID"] not in tenant.contacts:
        books.store_contact(tenant, draft.new_contact, now)
    updated = draft.document
    document_id = updated[books.ID_KEYS[endpoint]]
    books.touch(endpoint, updated, now)
    tenant.documents[endpoint][document_id] = updated
    books.add_history(
        tenant,
        document_id,
        "Edited",
        f"Updated through the Xero API: total {updated['Total']}",
        now,
    )
    return respond(endpoint, [books.render(tenant, endpoint, updated)])
