"""Checks for the documents our app creates: spend/receive money (BankTransactions), bills
(ACCPAY Invoices) and supplier credit notes (ACCPAYCREDIT), the way Xero validates them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sandbox.xero.validation import BatchContext
from sandbox.xero.validation import Draft
from sandbox.xero.validation import Lines
from sandbox.xero.validation import as_number
from sandbox.xero.validation import base_fields
from sandbox.xero.validation import build_lines
from sandbox.xero.validation import check_lock_dates
from sandbox.xero.validation import contact_ref
from sandbox.xero.validation import currency_rate
from sandbox.xero.validation import document_date
from sandbox.xero.validation import find_account
from sandbox.xero.validation import read_currency
from sandbox.xero.validation import read_date
from sandbox.xero.validation import read_line_amount_types
from sandbox.xero.validation import resolve_contact
from sandbox.xero.world import Tenant
from sandbox.xero.xerojson import date_string
from sandbox.xero.xerojson import ms_date


def check_bank_transaction(tenant: Tenant, element: dict[str, Any], context: BatchContext) -> Draft:
    """A SPEND or RECEIVE money transaction on a BANK-type account."""
    errors: list[str] = []
    kind = element.get("Type")
    if kind not in ("SPEND", "RECEIVE"):
        errors.append(
            f"Type '{kind}' is not valid for this operation. Use SPEND or RECEIVE."
            if kind
            else "The Type field is mandatory. Use SPEND or RECEIVE."
        )
    if len(str(element.get("Reference") or "")) > 255:
        errors.append("Reference must not be more than 255 characters long.")
    contact, new_contact = resolve_contact(tenant, element.get("Contact"), context, errors)
    bank = find_account(tenant, element.get("BankAccount"))
    if not isinstance(element.get("BankAccount"), dict):
        errors.append("The BankAccount field is mandatory.")
    elif bank is None or bank["Status"] != "ACTIVE":
        errors.append("The BankAccount could not be found or is archived.")
        bank = None
    elif bank["Type"] != "BANK":
        errors.append(f"Account code '{bank['Code']}' is not a bank account (Type BANK).")
        bank = None
    status = element.get("Status") or "AUTHORISED"
    if status != "AUTHORISED":
        errors.append("Bank transactions can only be created with a Status of AUTHORISED.")
    default_currency = bank["CurrencyCode"] if bank else tenant.base_currency
    currency = read_currency(tenant, element, default_currency, errors)
    if bank and currency != bank["CurrencyCode"]:
        errors.append(
            f"The currency {currency} of the bank transaction does not match the currency "
            f"{bank['CurrencyCode']} of the bank account."
        )
    line_amount_types = read_line_amount_types(element, errors)
    day = document_date(element, context, errors)
    check_lock_dates(tenant, day, errors)
    lines = build_lines(
        tenant, element.get("LineItems"), line_amount_types, str(kind), context, errors
    )
    if lines.total < 0:
        errors.append("The document total must not be negative.")
    if errors:
        return Draft(errors)
    assert bank is not None
    document: dict[str, Any] = {
        "BankTransactionID": context.new_id(),
        "Type": kind,
        "Contact": contact_ref(contact, new_contact),
        "BankAccount": {"AccountID": bank["AccountID"], "Code": bank["Code"], "Name": bank["Name"]},
        "IsReconciled": bool(element.get("IsReconciled", False)),
        "Reference": str(element.get("Reference") or ""),
        "CurrencyRate": currency_rate(element, currency, tenant, day),
        "Status": "AUTHORISED",
        "LineAmountTypes": line_amount_types,
        **base_fields(day, lines, currency),
        "HasAttachments": False,
    }
    if element.get("Url"):
        document["Url"] = str(element["Url"])
    return Draft([], document, new_contact)


@dataclass
class BillParts:
    """The fields bills and credit notes share, once checked."""

    day: date
    status: str
    currency: str
    line_amount_types: str
    lines: Lines
    contact: dict[str, Any] | None
    new_contact: dict[str, Any] | None


def _check_bill_like(
    tenant: Tenant,
    element: dict[str, Any],
    context: BatchContext,
    document_type: str,
    errors: list[str],
) -> BillParts:
    contact, new_contact = resolve_contact(tenant, element.get("Contact"), context, errors)
    status = element.get("Status") or "DRAFT"
    if status not in ("DRAFT", "SUBMITTED", "AUTHORISED"):
        errors.append(
            f"Status '{status}' is not valid when creating a document. "
            "Use DRAFT, SUBMITTED or AUTHORISED."
        )
    currency = read_currency(tenant, element, tenant.base_currency, errors)
    line_amount_types = read_line_amount_types(element, errors)
    day = document_date(element, context, errors)
    if status == "AUTHORISED":
        check_lock_dates(tenant, day, errors)
    lines = build_lines(
        tenant, element.get("LineItems"), line_amount_types, document_type, context, errors
    )
    if lines.total < 0:
        errors.append("The document total must not be negative.")
    return BillParts(day, str(status), currency, line_amount_types, lines, contact, new_contact)


def check_invoice(tenant: Tenant, element: dict[str, Any], context: BatchContext) -> Draft:
    """A bill (``ACCPAY``); ``AUTHORISED`` bills need a DueDate."""
    errors: list[str] = []
    kind = element.get("Type")
    if kind != "ACCPAY":
        errors.append(
            f"Invoice Type '{kind}' is not supported by the sandbox. Use ACCPAY."
            if kind
            else "The Type field is mandatory. Use ACCPAY."
        )
    parts = _check_bill_like(tenant, element, context, "ACCPAY", errors)
    due_errors: list[str] = []
    due = read_date(element.get("DueDate"), due_errors, "DueDate")
    errors.extend(due_errors)
    if parts.status == "AUTHORISED" and due is None and not due_errors:
        errors.append("The document DueDate field must be specified")
    number = str(element.get("InvoiceNumber") or "")
    if len(number) > 255:
        errors.append("The InvoiceNumber must be 255 characters or fewer.")
    if errors:
        return Draft(errors)
    document: dict[str, Any] = {
        "Type": "ACCPAY",
        "InvoiceID": context.new_id(),
        "InvoiceNumber": number,
        "Reference": "",
        "Prepayments": [],
        "Overpayments": [],
        "AmountDue": as_number(parts.lines.total),
        "AmountPaid": 0.0,
        "AmountCredited": 0.0,
        "SentToContact": False,
        "CurrencyRate": currency_rate(element, parts.currency, tenant, parts.day),
        "IsDiscounted": False,
        "HasAttachments": False,
        "HasErrors": False,
        "Contact": contact_ref(parts.contact, parts.new_contact),
        "Status": parts.status,
        "LineAmountTypes": parts.line_amount_types,
        **base_fields(parts.day, parts.lines, parts.currency),
        "Payments": [],
        "CreditNotes": [],
    }
    if due:
        document["DueDate"] = ms_date(due)
        document["DueDateString"] = date_string(due)
    if element.get("PlannedPaymentDate"):
        planned = read_date(element["PlannedPaymentDate"], [], "PlannedPaymentDate")
        if planned:
            document["PlannedPaymentDate"] = ms_date(planned)
    if element.get("Url"):
        document["Url"] = str(element["Url"])
    return Draft([], document, parts.new_contact)


def check_credit_note(tenant: Tenant, element: dict[str, Any], context: BatchContext) -> Draft:
    """A supplier credit note (``ACCPAYCREDIT``)."""
    errors: list[str] = []
    kind = element.get("Type")
    if kind != "ACCPAYCREDIT":
        errors.append(
            f"Credit note Type '{kind}' is not supported by the sandbox. Use ACCPAYCREDIT."
            if kind
            else "The Type field is mandatory. Use ACCPAYCREDIT."
        )
    parts = _check_bill_like(tenant, element, context, "ACCPAYCREDIT", errors)
    if errors:
        return Draft(errors)
    document: dict[str, Any] = {
        "CreditNoteID": context.new_id(),
        "CreditNoteNumber": str(element.get("CreditNoteNumber") or ""),
        "Type": "ACCPAYCREDIT",
        "Reference": str(element.get("Reference") or ""),
        "RemainingCredit": as_number(parts.lines.total),
        "Allocations": [],
        "Payments": [],
        "HasAttachments": False,
        "HasErrors": False,
        "CurrencyRate": currency_rate(element, parts.currency, tenant, parts.day),
        "Contact": contact_ref(parts.contact, parts.new_contact),
        "Status": parts.status,
        "LineAmountTypes": parts.line_amount_types,
        **base_fields(parts.day, parts.lines, parts.currency),
    }
    return Draft([], document, parts.new_contact)
