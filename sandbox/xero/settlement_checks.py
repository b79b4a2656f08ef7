"""Checks for settling bills: payments (of bills, or cash refunds of credit notes) and
allocations of supplier credit notes to open bills."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sandbox.xero.rates import RATE_PLACES
from sandbox.xero.rates import to_base
from sandbox.xero.rates import xero_rate
from sandbox.xero.validation import BatchContext
from sandbox.xero.validation import Draft
from sandbox.xero.validation import as_number
from sandbox.xero.validation import cents
from sandbox.xero.validation import check_lock_dates
from sandbox.xero.validation import find_account
from sandbox.xero.validation import money
from sandbox.xero.validation import read_date
from sandbox.xero.world import Tenant
from sandbox.xero.xerojson import ms_date


def _find_by_id_or_number(
    tenant: Tenant, endpoint: str, reference: Any, id_key: str, number_key: str
) -> dict[str, Any] | None:
    if not isinstance(reference, dict):
        return None
    if reference.get(id_key):
        return tenant.document(endpoint, str(reference[id_key]))
    if reference.get(number_key):
        number = str(reference[number_key])
        return next(
            (d for d in tenant.documents[endpoint].values() if d.get(number_key) == number), None
        )
    return None


def outstanding(document: dict[str, Any]) -> Decimal:
    """What is still owed on a bill, or still to use on a credit note."""
    key = "RemainingCredit" if "CreditNoteID" in document else "AmountDue"
    return Decimal(str(document.get(key, 0)))


def payment_conversion(
    tenant: Tenant,
    element: dict[str, Any],
    target: dict[str, Any],
    account: dict[str, Any],
    amount: Decimal,
    day: date,
) -> tuple[Decimal, Decimal]:
    """(``CurrencyRate``, ``BankAmount``) of a payment, as Xero works them out.

    ``Amount`` is in the document's currency. A base-currency document: rate 1. A foreign one
    paid from an account in its own currency: the bank amount is the amount (the rate, for the
    base-currency books, is the one given or Xero's). Paid from a base-currency account: the
    rate given, else the one implied by a ``BankAmount`` given, else Xero's own for the
    payment's date; the bank amount is the amount converted at it, to the cent.
    """
    currency = str(target["CurrencyCode"])
    if currency == tenant.base_currency:
        return Decimal(1), amount
    given = money(element.get("CurrencyRate"))
    given_bank = money(element.get("BankAmount"))
    account_currency = account.get("CurrencyCode", tenant.base_currency)
    if given and given > 0:
        rate = given
    elif account_currency != currency and given_bank and given_bank > 0:
        rate = (amount / given_bank).quantize(RATE_PLACES)
    else:
        rate = xero_rate(tenant.base_currency, currency, day)
    if account_currency == currency:
        return rate, amount
    return rate, to_base(amount, rate)


def check_payment(tenant: Tenant, element: dict[str, Any], context: BatchContext) -> Draft:
    """A payment of a bill, or a cash refund of a supplier credit note."""
    errors: list[str] = []
    target: dict[str, Any] | None = None
    if isinstance(element.get("Invoice"), dict):
        target = _find_by_id_or_number(
            tenant, "Invoices", element["Invoice"], "InvoiceID", "InvoiceNumber"
        )
        if target is None:
            errors.append("Invoice could not be found.")
    elif isinstance(element.get("CreditNote"), dict):
        target = _find_by_id_or_number(
            tenant, "CreditNotes", element["CreditNote"], "CreditNoteID", "CreditNoteNumber"
        )
        if target is None:
            errors.append("Credit note could not be found.")
    else:
        errors.append(
            "You must specify either an Invoice, CreditNote, Prepayment or Overpayment "
            "for the payment."
        )
    if target is not None and target["Status"] != "AUTHORISED":
        errors.append("Payments can only be made against Authorised documents.")
    account = find_account(tenant, element.get("Account"))
    if not isinstance(element.get("Account"), dict):
        errors.append("The Account field is mandatory for a payment.")
    elif account is None or account["Status"] != "ACTIVE":
        errors.append("The payment Account could not be found or is archived.")
        account = None
    elif account["Type"] != "BANK" and not account["EnablePaymentsToAccount"]:
        errors.append(
            f"Account code '{account['Code']}' cannot be used for payments. Payments can only "
            "be made to bank accounts or accounts with payments enabled."
        )
        account = None
    amount = money(element.get("Amount"))
    if amount is None or amount <= 0:
        errors.append("The payment Amount must be greater than zero.")
    elif target is not None and target["Status"] == "AUTHORISED":
        target_id = target.get("InvoiceID") or target.get("CreditNoteID")
        if cents(amount) > outstanding(target) - context.used(str(target_id)):
            errors.append("Payment amount exceeds the amount outstanding on this document")
    if target is not None and account is not None:
        account_currency = account.get("CurrencyCode", tenant.base_currency)
        if account_currency not in (target["CurrencyCode"], tenant.base_currency):
            errors.append(
                f"The currency {account_currency} of the account cannot be used to pay a "
                f"{target['CurrencyCode']} document."
            )
    day = read_date(element.get("Date"), errors) or context.today
    check_lock_dates(tenant, day, errors)
    if errors:
        return Draft(errors)
    assert target is not None
    assert account is not None
    assert amount is not None
    is_bill = "InvoiceID" in target
    target_id = str(target["InvoiceID"] if is_bill else target["CreditNoteID"])
    context.use(target_id, cents(amount))
    rate, bank_amount = payment_conversion(tenant, element, target, account, cents(amount), day)
    document: dict[str, Any] = {
        "PaymentID": context.new_id(),
        "Date": ms_date(day),
        "BankAmount": as_number(bank_amount),
        "Amount": as_number(cents(amount)),
        "Reference": str(element.get("Reference") or ""),
        "CurrencyRate": float(rate),
        "PaymentType": "ACCPAYPAYMENT" if is_bill else "APCREDITPAYMENT",
        "Status": "AUTHORISED",
        "HasAccount": True,
        "IsReconciled": bool(element.get("IsReconciled", False)),
        "Account": {
            "AccountID": account["AccountID"],
            "Code": account["Code"],
            "Name": account["Name"],
        },
        "HasValidationErrors": False,
    }
    if is_bill:
        document["Invoice"] = {"InvoiceID": target_id}
    else:
        document["CreditNote"] = {"CreditNoteID": target_id}
    return Draft([], document)


def check_allocation(
    tenant: Tenant, credit_note: dict[str, Any], element: dict[str, Any], context: BatchContext
) -> Draft:
    """Allocating part of an AUTHORISED supplier credit note to an open bill."""
    errors: list[str] = []
    if credit_note["Status"] != "AUTHORISED":
        errors.append("Only AUTHORISED credit notes can be allocated.")
    invoice = _find_by_id_or_number(
        tenant, "Invoices", element.get("Invoice"), "InvoiceID", "InvoiceNumber"
    )
    if invoice is None:
        errors.append("Invoice could not be found.")
    else:
        if invoice["Status"] != "AUTHORISED":
            errors.append("Credit can only be allocated to Authorised documents.")
        if invoice["Contact"]["ContactID"] != credit_note["Contact"]["ContactID"]:
            errors.append("The invoice and the credit note must be for the same contact.")
        if invoice["CurrencyCode"] != credit_note["CurrencyCode"]:
            errors.append("The invoice and the credit note must be in the same currency.")
    amount = money(element.get("Amount"))
    credit_id = str(credit_note["CreditNoteID"])
    if amount is None or amount <= 0:
        errors.append("The allocation Amount must be greater than zero.")
    else:
        amount = cents(amount)
        if amount > outstanding(credit_note) - context.used(credit_id):
            errors.append("The amount allocated exceeds the remaining credit on the credit note.")
        if invoice is not None and amount > outstanding(invoice) - context.used(
            str(invoice["InvoiceID"])
        ):
            errors.append("The amount allocated exceeds the amount outstanding on the invoice.")
    day = read_date(element.get("Date"), errors) or context.today
    check_lock_dates(tenant, day, errors)
    if errors:
        return Draft(errors)
    assert invoice is not None
    assert amount is not None
    context.use(credit_id, amount)
    context.use(str(invoice["InvoiceID"]), amount)
    document = {
        "AllocationID": context.new_id(),
        "Amount": as_number(amount),
        "Date": ms_date(day),
        "Invoice": {"InvoiceID": invoice["InvoiceID"]},
        "CreditNote": {"CreditNoteID": credit_id},
        "IsDeleted": False,
    }
    return Draft([], document)
