"""The building blocks of Xero's validation: money, dates and lock dates, accounts, contacts,
line items with their tax (rounded to 2 dp per line) and document totals.

Pure functions over a ``Tenant`` (read only). The ``check_*`` functions in ``document_checks``
and ``settlement_checks`` return a ``Draft``: the validation messages, and when there are none
the document in Xero's response shape (ids included). ``BatchContext`` carries what earlier
elements of the same request have already used (amounts paid or allocated, contacts created by
name), so a batch is checked in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from decimal import ROUND_HALF_UP
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any

from sandbox.xero.rates import xero_rate
from sandbox.xero.tracking_rules import check_line_tracking
from sandbox.xero.world import Tenant
from sandbox.xero.xerojson import date_string
from sandbox.xero.xerojson import ms_date
from sandbox.xero.xerojson import parse_date

CENT = Decimal("0.01")
ZERO = Decimal("0")
LINE_AMOUNT_TYPES = ("Exclusive", "Inclusive", "NoTax")
PURCHASE_TYPES = ("SPEND", "ACCPAY", "ACCPAYCREDIT")
BANK_TYPES = ("SPEND", "RECEIVE")
CLASS_PERMISSION = {
    "EXPENSE": "CanApplyToExpenses",
    "REVENUE": "CanApplyToRevenue",
    "ASSET": "CanApplyToAssets",
    "LIABILITY": "CanApplyToLiabilities",
    "EQUITY": "CanApplyToEquity",
}
CONTACT_REQUIRED = (
    "The Contact must contain at least 1 of the following elements to identify the contact: "
    "Name, ContactID, ContactNumber"
)


@dataclass
class BatchContext:
    """What a request's earlier elements used, and how to make ids and dates."""

    today: date
    new_id: Callable[[], str]
    consumed: dict[str, Decimal] = field(default_factory=dict)
    new_contacts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def used(self, document_id: str) -> Decimal:
        return self.consumed.get(document_id, ZERO)

    def use(self, document_id: str, amount: Decimal) -> None:
        self.consumed[document_id] = self.used(document_id) + amount


@dataclass
class Draft:
    """A checked element: its errors, or the document to store."""

    errors: list[str]
    document: dict[str, Any] | None = None
    new_contact: dict[str, Any] | None = None


def money(value: Any) -> Decimal | None:
    """A JSON number (or numeric string) as a Decimal, or None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def cents(value: Decimal) -> Decimal:
    """Round to 2 dp, halves away from zero."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def as_number(value: Decimal) -> float:
    return float(value)


def read_date(value: Any, errors: list[str], label: str = "Date") -> date | None:
    """A request date, or None when absent; an unreadable one adds a message."""
    if value is None or value == "":
        return None
    day = parse_date(value)
    if day is None:
        errors.append(f"The {label} '{value}' is not a valid date.")
    return day


def check_lock_dates(tenant: Tenant, day: date, errors: list[str]) -> None:
    """Documents dated on or before a lock date are refused."""
    year_end = tenant.end_of_year_lock_date
    period = tenant.period_lock_date
    if year_end and day <= year_end:
        errors.append(
            f"The document date cannot be before the end of year lock date, {year_end:%d %b %Y}."
        )
    elif period and day <= period:
        errors.append(
            f"The document date cannot be before the period lock date, {period:%d %b %Y}."
        )


def find_account(tenant: Tenant, reference: Any) -> dict[str, Any] | None:
    """An account named by ``{"AccountID": ...}`` or ``{"Code": ...}``."""
    if not isinstance(reference, dict):
        return None
    if reference.get("AccountID"):
        return tenant.account_by_id(str(reference["AccountID"]))
    if reference.get("Code"):
        return tenant.account_by_code(str(reference["Code"]))
    return None


def resolve_contact(
    tenant: Tenant, reference: Any, context: BatchContext, errors: list[str]
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The contact a document refers to: ``(existing, to_create)``; messages go to ``errors``."""
    if not isinstance(reference, dict) or not any(
        reference.get(k) for k in ("ContactID", "Name", "ContactNumber")
    ):
        errors.append(CONTACT_REQUIRED)
        return None, None
    contact: dict[str, Any] | None = None
    if reference.get("ContactID"):
        contact = tenant.contacts.get(str(reference["ContactID"]).lower())
        if contact is None:
            errors.append("The contact with the specified ContactID does not exist.")
            return None, None
    elif reference.get("ContactNumber"):
        number = str(reference["ContactNumber"])
        contact = next(
            (c for c in tenant.contacts.values() if c.get("ContactNumber") == number), None
        )
        if contact is None and not reference.get("Name"):
            errors.append("The contact with the specified ContactNumber does not exist.")
            return None, None
    if contact is None:
        name = str(reference.get("Name", "")).strip()
        contact = next(
            (
                c
                for c in tenant.contacts.values()
                if c["Name"].lower() == name.lower() and c["ContactStatus"] == "ACTIVE"
            ),
            None,
        )
        if contact is None:
            pending = context.new_contacts.get(name.lower())
            if pending is None:
                pending = {"ContactID": context.new_id(), "Name": name}
                if reference.get("ContactNumber"):
                    pending["ContactNumber"] = str(reference["ContactNumber"])
                context.new_contacts[name.lower()] = pending
            return None, pending
    if contact.get("ContactStatus") != "ACTIVE":
        errors.append(
            "The contact with the specified ContactID is archived. "
            "Archived contacts cannot be used on transactions."
        )
    return contact, None


def read_line_amount_types(element: dict[str, Any], errors: list[str]) -> str:
    value = element.get("LineAmountTypes") or "Exclusive"
    if value not in LINE_AMOUNT_TYPES:
        errors.append(f"LineAmountTypes '{value}' is not valid. Use Exclusive, Inclusive or NoTax.")
        return "Exclusive"
    return str(value)


def read_currency(tenant: Tenant, element: dict[str, Any], default: str, errors: list[str]) -> str:
    code = str(element.get("CurrencyCode") or default).upper()
    if code not in tenant.currency_codes():
        errors.append(f"Organisation is not subscribed to currency {code}")
    return code


@dataclass
class Lines:
    """Checked line items and the document totals."""

    items: list[dict[str, Any]]
    sub_total: Decimal
    total_tax: Decimal
    total: Decimal


def build_lines(
    tenant: Tenant,
    raw_lines: Any,
    line_amount_types: str,
    document_type: str,
    context: BatchContext,
    errors: list[str],
) -> Lines:
    """Check each line (description, account, tax type) and compute tax and totals."""
    if not isinstance(raw_lines, list) or not raw_lines:
        errors.append("At least one line item must be specified.")
        return Lines([], ZERO, ZERO, ZERO)
    items = []
    line_sum = ZERO
    tax_sum = ZERO
    for raw in raw_lines:
        line = raw if isinstance(raw, dict) else {}
        item, amount, tax = _build_line(
            tenant, line, line_amount_types, document_type, context, errors
        )
        items.append(item)
        line_sum += amount
        tax_sum += tax
    if line_amount_types == "Inclusive":
        return Lines(items, line_sum - tax_sum, tax_sum, line_sum)
    return Lines(items, line_sum, tax_sum, line_sum + tax_sum)


def _build_line(
    tenant: Tenant,
    line: dict[str, Any],
    line_amount_types: str,
    document_type: str,
    context: BatchContext,
    errors: list[str],
) -> tuple[dict[str, Any], Decimal, Decimal]:
    description = str(line.get("Description") or "").strip()
    if not description:
        errors.append("The Description field is mandatory for each line item.")
    elif len(description) > 4000:
        errors.append("Description must not be more than 4000 characters long.")
    account = None
    code = line.get("AccountCode")
    if line.get("AccountID"):
        account = tenant.account_by_id(str(line["AccountID"]))
        code = account["Code"] if account else line["AccountID"]
    elif code:
        account = tenant.account_by_code(str(code))
    if not code:
        errors.append("The AccountCode field is mandatory for each line item.")
    elif account is None or not _usable_on_lines(account):
        errors.append(f"Account code '{code}' is not a valid code for this document.")
        account = None
    tax_type = line.get("TaxType") or (account["TaxType"] if account else "NONE")
    tax_rate = tenant.tax_rate(str(tax_type))
    if (
        tax_rate is None
        or tax_rate["Status"] != "ACTIVE"
        or (document_type in PURCHASE_TYPES and not tax_rate["CanApplyToExpenses"])
    ):
        errors.append(
            f"The TaxType code '{tax_type}' does not exist or cannot be used with this type of "
            "transaction."
        )
        tax_rate = None
    elif account is not None and not tax_rate[CLASS_PERMISSION[account["Class"]]]:
        errors.append(f"The TaxType code '{tax_type}' cannot be used with account code '{code}'.")
    quantity = money(line.get("Quantity"))
    unit_amount = money(line.get("UnitAmount"))
    given_line_amount = money(line.get("LineAmount"))
    if quantity is None:
        quantity = Decimal(1)
    if unit_amount is None:
        if given_line_amount is not None and quantity != 0:
            unit_amount = given_line_amount / quantity
        else:
            unit_amount = ZERO
    line_amount = cents(quantity * unit_amount)
    rate = Decimal(str(tax_rate["EffectiveRate"])) if tax_rate else ZERO
    given_tax = money(line.get("TaxAmount"))
    if line_amount_types == "NoTax":
        tax = ZERO
    else:
        tax = own_tax(line_amount, rate, line_amount_types)
        if given_tax is not None:
            _check_given_tax(cents(given_tax), tax, tax_rate, document_type, errors)
            tax = cents(given_tax)
    item: dict[str, Any] = {
        "LineItemID": context.new_id(),
        "Description": description,
        "Quantity": as_number(quantity),
        "UnitAmount": float(round(unit_amount, 4)),
        "TaxType": str(tax_type),
        "TaxAmount": as_number(tax),
        "LineAmount": as_number(line_amount),
        "AccountCode": str(code or ""),
        "Tracking": check_line_tracking(tenant, line.get("Tracking"), errors),
    }
    if account:
        item["AccountID"] = account["AccountID"]
    if line.get("ItemCode"):
        item["ItemCode"] = str(line["ItemCode"])
    return item, line_amount, tax


def own_tax(line_amount: Decimal, rate: Decimal, line_amount_types: str) -> Decimal:
    """Xero's tax for one line: per line, rounded to the cent (halves away from zero)."""
    if line_amount_types == "Inclusive":
        return cents(line_amount * rate / (100 + rate))
    return cents(line_amount * rate / 100)


def _check_given_tax(
    given: Decimal,
    own: Decimal,
    tax_rate: dict[str, Any] | None,
    document_type: str,
    errors: list[str],
) -> None:
    """Bank transactions refuse a caller's ``TaxAmount`` that is not Xero's own figure.

    xero-api.md, December 2026, point 2 (xero-node #768: "Tax amount 52.23 is incorrect for
    INPUT2 tax type, should be 52.28"); the tolerance is undocumented, so none is allowed here.
    Bills and credit notes accept an override, as the spec says.
    """
    if document_type in BANK_TYPES and tax_rate is not None and given != own:
        errors.append(
            f"Tax amount {given:.2f} is incorrect for {tax_rate['TaxType']} tax type, "
            f"should be {own:.2f}"
        )


def _usable_on_lines(account: dict[str, Any]) -> bool:
    return (
        account["Status"] == "ACTIVE"
        and account["Type"] != "BANK"
        and account.get("SystemAccount") not in ("DEBTORS", "CREDITORS")
    )


def document_date(element: dict[str, Any], context: BatchContext, errors: list[str]) -> date:
    """The element's ``Date``, or today in sandbox time."""
    return read_date(element.get("Date"), errors) or context.today


def base_fields(day: date, lines: Lines, currency: str) -> dict[str, Any]:
    """Date, lines, totals and currency as every document shows them."""
    return {
        "Date": ms_date(day),
        "DateString": date_string(day),
        "LineItems": lines.items,
        "SubTotal": as_number(lines.sub_total),
        "TotalTax": as_number(lines.total_tax),
        "Total": as_number(lines.total),
        "CurrencyCode": currency,
    }


def currency_rate(element: dict[str, Any], currency: str, tenant: Tenant, day: date) -> float:
    """1.0 in the base currency, else the rate given, else Xero's own for ``day``."""
    if currency == tenant.base_currency:
        return 1.0
    rate = money(element.get("CurrencyRate"))
    if rate and rate > 0:
        return float(rate)
    return float(xero_rate(tenant.base_currency, currency, day))


def contact_ref(existing: dict[str, Any] | None, created: dict[str, Any] | None) -> dict[str, Any]:
    """How a stored document refers to its contact (rendered with the name when read)."""
    contact = existing or created or {}
    return {"ContactID": contact.get("ContactID", "")}
