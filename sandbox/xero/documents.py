"""Transaction endpoints: BankTransactions, Invoices (bills), CreditNotes (+ Allocations), Payments.

``PUT`` creates a batch; with ``summarizeErrors=false`` each element answers for itself
(``StatusAttributeString`` OK/ERROR) inside a 200, otherwise one bad element makes the whole
request a 400 ``ValidationException`` that creates nothing. ``GET`` lists support ``where``,
``page`` and (for Invoices) ``IDs``, ``InvoiceNumbers``, ``ContactIDs``, ``Statuses``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from typing import Any

from flask import Response
from flask import request

from sandbox.core import current_sandbox
from sandbox.xero import books
from sandbox.xero import document_checks
from sandbox.xero import settlement_checks
from sandbox.xero.api import api_blueprint
from sandbox.xero.api import current_tenant
from sandbox.xero.api import error_response
from sandbox.xero.api import invalid_body
from sandbox.xero.api import not_found
from sandbox.xero.api import paginate
from sandbox.xero.api import request_elements
from sandbox.xero.api import respond
from sandbox.xero.api import summarize_errors
from sandbox.xero.reference import query_error
from sandbox.xero.validation import BatchContext
from sandbox.xero.validation import Draft
from sandbox.xero.where import WhereError
from sandbox.xero.where import compile_where
from sandbox.xero.world import Tenant
from sandbox.xero.world import xero_world
from sandbox.xero.xerojson import parse_ms_moment
from sandbox.xero.xerojson import validation_exception

bp = api_blueprint("xero_documents", __name__)

Checker = Callable[[Tenant, dict[str, Any], BatchContext], Draft]

CHECKERS: dict[str, Checker] = {
    "BankTransactions": document_checks.check_bank_transaction,
    "Invoices": document_checks.check_invoice,
    "CreditNotes": document_checks.check_credit_note,
    "Payments": settlement_checks.check_payment,
}


def _with_errors(element: dict[str, Any], errors: list[str]) -> dict[str, Any]:
    return {**element, "ValidationErrors": [{"Message": m} for m in errors]}


def _failed_element(element: dict[str, Any], errors: list[str]) -> dict[str, Any]:
    shown = _with_errors(element, errors)
    shown["StatusAttributeString"] = "ERROR"
    return shown


def _batch_context() -> BatchContext:
    return BatchContext(today=current_sandbox().clock.now().date(), new_id=xero_world().new_id)


def create_batch(endpoint: str) -> Response:
    """Check every element in order, then store them (all, or only the good ones)."""
    elements = request_elements(endpoint)
    if elements is None:
        return invalid_body()
    summarize = summarize_errors()
    sandbox = current_sandbox()
    with sandbox.lock:
        tenant = current_tenant()
        context = _batch_context()
        drafts = [CHECKERS[endpoint](tenant, element, context) for element in elements]
        if summarize and any(d.errors for d in drafts):
            failed = [
                _with_errors(e, d.errors) for e, d in zip(elements, drafts, strict=True) if d.errors
            ]
            return error_response(validation_exception(failed))
        now = sandbox.clock.now()
        results = []
        for element, draft in zip(elements, drafts, strict=True):
            if draft.errors:
                results.append(_failed_element(element, draft.errors))
                continue
            stored = books.commit(tenant, endpoint, draft, now)
            shown = books.render(tenant, endpoint, stored)
            shown["StatusAttributeString"] = "OK"
            shown["ValidationErrors"] = []
            results.append(shown)
        return respond(endpoint, results)


def _modified_since(document: dict[str, Any], since: datetime | None) -> bool:
    if since is None:
        return True
    updated = parse_ms_moment(str(document.get("UpdatedDateUTC", "")))
    return updated is not None and updated > since


def _if_modified_since() -> datetime | None:
    header = request.headers.get("If-Modified-Since")
    if not header:
        return None
    try:
        moment = datetime.fromisoformat(header.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _csv(name: str) -> set[str]:
    return {v.strip().lower() for v in request.args.get(name, "").split(",") if v.strip()}


def _invoice_filters(document: dict[str, Any]) -> bool:
    ids, numbers = _csv("IDs"), _csv("InvoiceNumbers")
    contacts, statuses = _csv("ContactIDs"), _csv("Statuses")
    term = request.args.get("searchTerm", "").strip().lower()
    return (
        (not ids or document["InvoiceID"] in ids)
        and (not numbers or document.get("InvoiceNumber", "").lower() in numbers)
        and (not contacts or document["Contact"]["ContactID"] in contacts)
        and (not statuses or document["Status"].lower() in statuses)
        and (not term or term in document.get("InvoiceNumber", "").lower())
    )


def list_documents(endpoint: str) -> Response:
    """Documents of one kind, filtered and paged, oldest first."""
    try:
        predicate = compile_where(request.args.get("where"))
    except WhereError as exc:
        return query_error(str(exc))
    since = _if_modified_since()
    with current_sandbox().lock:
        tenant = current_tenant()
        shown = [books.render(tenant, endpoint, d) for d in tenant.documents[endpoint].values()]
    found = [
        d
        for d in shown
        if predicate(d)
        and _modified_since(d, since)
        and (endpoint != "Invoices" or _invoice_filters(d))
    ]
    page, extra = paginate(found)
    return respond(endpoint, page, **extra)


def get_document(endpoint: str, document_id: str) -> Response:
    """One document by id."""
    with current_sandbox().lock:
        tenant = current_tenant()
        document = tenant.document(endpoint, document_id)
        if document is None and endpoint == "Invoices":
            document = next(
                (
                    d
                    for d in tenant.documents["Invoices"].values()
                    if d.get("InvoiceNumber") == document_id
                ),
                None,
            )
        if document is None:
            return not_found()
        return respond(endpoint, [books.render(tenant, endpoint, document)])


# The four document endpoints share their handlers: create (PUT creates, POST creates or
# updates), list (``where``, ``IDs``, paging) and get one (Invoices also by InvoiceNumber).
DOCUMENT_ENDPOINTS = {
    "BankTransactions": "spend/receive money transactions",
    "Invoices": "bills (ACCPAY)",
    "CreditNotes": "supplier credit notes (ACCPAYCREDIT)",
    "Payments": "payments of bills (or refunds of credit notes) from a bank account",
}


def _register_document_endpoint(endpoint: str, what: str) -> None:
    def create() -> Any:
        return create_batch(endpoint)

    def listing() -> Any:
        return list_documents(endpoint)

    def one(document_id: str) -> Any:
        return get_document(endpoint, document_id)

    create.__doc__ = f"Create {what}."
    listing.__doc__ = f"List {what} (``where``, ``order``, ``page``)."
    one.__doc__ = f"One of the {what}, by id."
    name = endpoint.lower()
    bp.add_url_rule(f"/{endpoint}", f"create_{name}", create, methods=["PUT", "POST"])
    bp.add_url_rule(f"/{endpoint}", f"list_{name}", listing, methods=["GET"])
    bp.add_url_rule(f"/{endpoint}/<document_id>", f"get_{name}", one, methods=["GET"])


for _endpoint, _what in DOCUMENT_ENDPOINTS.items():
    _register_document_endpoint(_endpoint, _what)


@bp.put("/CreditNotes/<credit_note_id>/Allocations")
def allocate_credit_note(credit_note_id: str) -> Any:
    """Allocate a credit note to open bills."""
    elements = request_elements("Allocations")
    if elements is None:
        return invalid_body()
    summarize = summarize_errors()
    sandbox = current_sandbox()
    with sandbox.lock:
        tenant = current_tenant()
        credit_note = tenant.document("CreditNotes", credit_note_id)
        if credit_note is None:
            return not_found()
        context = _batch_context()
        drafts = [
            settlement_checks.check_allocation(tenant, credit_note, e, context) for e in elements
        ]
        if summarize and any(d.errors for d in drafts):
            failed = [
                _with_errors(e, d.errors) for e, d in zip(elements, drafts, strict=True) if d.errors
            ]
            return error_response(validation_exception(failed))
        now = sandbox.clock.now()
        results = []
        for element, draft in zip(elements, drafts, strict=True):
            if draft.errors or draft.document is None:
                results.append(_failed_element(element, draft.errors))
                continue
            books.apply_allocation(tenant, draft.document, now)
            shown = books.render_allocation(tenant, draft.document)
            shown["StatusAttributeString"] = "OK"
            shown["ValidationErrors"] = []
            results.append(shown)
        return respond("Allocations", results)
