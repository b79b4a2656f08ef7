"""Test and demo controls: a Xero user reconciling a document, and a document's history
(``/_sandbox/xero/...``).

No public API can reconcile (spec, December 2026 pt 7): a user matches a bank statement line in
Xero. ``POST /_sandbox/xero/documents/<id>/reconcile`` does what that leaves behind:

- a bank transaction gets ``IsReconciled: true`` (``{"reconciled": false}`` un-reconciles it,
  as "Remove & redo" in Xero would);
- a bill is paid in full from a bank account (``{"account": "<code>"}``, default the first
  active BANK account), the payment itself reconciled: the bill is ``PAID``;
- a credit note is refunded in full to a bank account (the supplier's refund matched on the
  statement; same ``account``), the refund reconciled: the credit note is ``PAID``.

From then on Xero refuses to edit, delete or void the document (``sandbox.xero.updates``).
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask import request

from sandbox.core import current_sandbox
from sandbox.xero import books
from sandbox.xero.control import _bad_request
from sandbox.xero.control import bp
from sandbox.xero.settlement_checks import check_payment
from sandbox.xero.settlement_checks import outstanding
from sandbox.xero.validation import BatchContext
from sandbox.xero.world import Tenant
from sandbox.xero.world import xero_world


def _first_bank_code(tenant: Tenant) -> str | None:
    for account in tenant.accounts:
        if account.get("Type") == "BANK" and account.get("Status") == "ACTIVE":
            return str(account["Code"])
    return None


@bp.post("/documents/<document_id>/reconcile")
def reconcile(document_id: str) -> Any:
    """Mark a bank transaction reconciled (or not), or pay a bill in full (see module doc)."""
    body = request.get_json(silent=True) or {}
    sandbox = current_sandbox()
    with sandbox.lock:
        world = xero_world()
        for tenant in world.tenants.values():
            transaction = tenant.document("BankTransactions", document_id)
            if transaction is not None:
                now = sandbox.clock.now()
                transaction["IsReconciled"] = bool(body.get("reconciled", True))
                books.touch("BankTransactions", transaction, now)
                books.add_history(
                    tenant,
                    transaction["BankTransactionID"],
                    "Reconciled" if transaction["IsReconciled"] else "Unreconciled",
                    "Matched with a bank statement line",
                    now,
                    user="Sandbox bookkeeper",
                )
                return jsonify(books.render(tenant, "BankTransactions", transaction))
            bill = tenant.document("Invoices", document_id)
            if bill is not None:
                return _pay_in_full(tenant, bill, body)
            note = tenant.document("CreditNotes", document_id)
            if note is not None:
                return _pay_in_full(tenant, note, body, "CreditNotes")
    return _bad_request("unknown document", 404)


def _pay_in_full(
    tenant: Tenant, bill: dict[str, Any], body: dict[str, Any], endpoint: str = "Invoices"
) -> Any:
    """Pay a bill (or refund a credit note) in full, reconciled."""
    sandbox = current_sandbox()
    code = str(body.get("account") or _first_bank_code(tenant) or "")
    context = BatchContext(today=sandbox.clock.now().date(), new_id=xero_world().new_id)
    target = (
        {"CreditNote": {"CreditNoteID": bill["CreditNoteID"]}}
        if endpoint == "CreditNotes"
        else {"Invoice": {"InvoiceID": bill["InvoiceID"]}}
    )
    element = {
        **target,
        "Account": {"Code": code},
        "Date": context.today.isoformat(),
        "Amount": float(outstanding(bill)),
        "IsReconciled": True,
    }
    draft = check_payment(tenant, element, context)
    if draft.errors or draft.document is None:
        return _bad_request("; ".join(draft.errors) or "cannot pay this bill")
    draft.document["IsReconciled"] = True
    payment = books.commit(tenant, "Payments", draft, sandbox.clock.now())
    return jsonify(
        {
            "CreditNote" if endpoint == "CreditNotes" else "Invoice": books.render(
                tenant, endpoint, bill
            ),
            "Payment": books.render(tenant, "Payments", payment),
        }
    )


@bp.get("/history/<record_id>")
def history(record_id: str) -> Any:
    """A document's history records (``Created``, ``Edited``, ``Deleted``, ``Reconciled``…), as
    ``GET /{Endpoint}/{id}/History`` gives them: how many times a document was changed."""
    with current_sandbox().lock:
        for tenant in xero_world().tenants.values():
            records = tenant.history.get(record_id.lower())
            if records is not None:
                return jsonify({"HistoryRecords": records})
    return _bad_request("unknown document", 404)
