"""Xero JSON bodies: ``LineItem`` elements, the ``BankTransactions`` / ``Invoices`` /
``CreditNotes`` elements, the reference that finds a document again and the ``Url`` back to our
entry page."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Final

from plugin.amazon.models import Transaction
from plugin.posting.amounts import CENT
from plugin.posting.inputs import Account
from plugin.posting.inputs import PostingContext
from plugin.posting.lines import Line
from plugin.posting.results import JsonBody
from plugin.posting.tracking import LineTracking

MAX_REFERENCE: Final = 255
MAX_DESCRIPTION: Final = 4000

LineItemBody = dict[str, str | int | Decimal | list[dict[str, str]]]


def tracking_body(tracking: LineTracking) -> dict[str, str]:
    """A Xero ``LineItemTracking``: the names, and the ids when the chart gave them."""
    body = {"Name": tracking.category, "Option": tracking.option}
    if tracking.category_id:
        body["TrackingCategoryID"] = tracking.category_id
    if tracking.option_id:
        body["TrackingOptionID"] = tracking.option_id
    return body


def json_amount(amount: Decimal) -> Decimal:
    """A ``Decimal`` as the JSON number Xero's schema asks for: exactly two decimal places.

    It stays ``Decimal`` to the wire: the Xero client (``plugin.xero.wire``) and the ledger's JSON
    columns write it as a number with exactly these digits, never through ``float``.
    """
    return amount.quantize(CENT)


def line_body(line: Line) -> LineItemBody:
    """A Xero ``LineItem`` (with ``Tracking`` when the line is tracked)."""
    body: LineItemBody = {
        "Description": line.description[:MAX_DESCRIPTION],
        "Quantity": line.quantity,
        "UnitAmount": json_amount(line.unit_amount),
        "LineAmount": json_amount(line.amount),
        "AccountCode": line.account_code,
        "TaxType": line.tax_type,
        "TaxAmount": json_amount(line.tax_amount),
    }
    if line.tracking:
        body["Tracking"] = [tracking_body(t) for t in line.tracking]
    return body


def transaction_tag(transaction_id: str) -> str:
    """What the first line of a bill or credit note ends with: recovery looks for it there."""
    return f"[Amazon transaction {transaction_id}]"


def tagged_description(text: str, transaction_id: str, limit: int = MAX_DESCRIPTION) -> str:
    """``text`` then the transaction tag, within ``limit`` characters: the text is cut (ending
    with "…"), never the tag, so a 4,400-character product title keeps the id that recovery
    looks the document up by."""
    tag = transaction_tag(transaction_id)
    if len(text) + 1 + len(tag) <= limit:
        return f"{text} {tag}"
    room = limit - len(tag) - 2  # "…" and the space
    if room <= 0:
        return tag[:limit]
    return f"{text[:room]}… {tag}"


def with_transaction_id(lines: list[Line], transaction_id: str) -> list[Line]:
    """Append the Amazon transaction id to the first line's description (bills, credit notes),
    cutting the description rather than the id (``tagged_description``)."""
    first = lines[0]
    tagged = replace(first, description=tagged_description(first.description, transaction_id))
    return [tagged, *lines[1:]]


def bank_reference(transaction: Transaction) -> str:
    """``"<orderId> [<orderId> ...] <transactionId>"``, at most 255 characters.

    The distinct order ids then the transaction id, space separated; when too long, order ids are
    dropped from the end (with "+N more"); the transaction id is never cut (Amazon's ids are far
    shorter than 255 characters; only an absurd one is cut, to the limit Xero takes).
    """
    order_ids = list(dict.fromkeys(i.order_id for i in transaction.line_items if i.order_id))
    tail = transaction.transaction_id
    for keep in range(len(order_ids), -1, -1):
        dropped = len(order_ids) - keep
        parts = order_ids[:keep] + ([f"+{dropped} more"] if dropped else []) + [tail]
        reference = " ".join(parts)
        if len(reference) <= MAX_REFERENCE:
            return reference
    return tail[:MAX_REFERENCE]


def document_url(transaction: Transaction, context: PostingContext) -> str | None:
    """Our page for the entry (``PostingContext.entry_url``), unless absent or mentioning Xero
    (which Xero refuses)."""
    if context.entry_url is None:
        return None
    url = context.entry_url(transaction.transaction_id)
    if not url or "xero" in url.lower():
        return None
    return url


def bank_account_ref(account: Account) -> dict[str, str]:
    """``{"AccountID": ...}`` when known, else ``{"Code": ...}``."""
    if account.account_id:
        return {"AccountID": account.account_id}
    return {"Code": account.code or ""}


def common_fields(contact_id: str, when: date, currency: str) -> JsonBody:
    """The fields every document carries: the Amazon Business contact, date, currency, status."""
    return {
        "Contact": {"ContactID": contact_id},
        "Date": when.isoformat(),
        "CurrencyCode": currency,
        "LineAmountTypes": "Exclusive",
        "Status": "AUTHORISED",
    }


def bank_transaction_body(
    transaction: Transaction,
    spend: bool,
    bank_account: Account,
    common: JsonBody,
    lines: list[Line],
    url: str | None,
) -> JsonBody:
    """A ``BankTransactions`` element: ``SPEND`` for a charge, ``RECEIVE`` for a refund."""
    body: JsonBody = {
        "Type": "SPEND" if spend else "RECEIVE",
        "BankAccount": bank_account_ref(bank_account),
        "Reference": bank_reference(transaction),
        **common,
        "LineItems": [line_body(line) for line in lines],
    }
    if url:
        body["Url"] = url
    return body


def bill_body(
    invoice_number: str, due: date, common: JsonBody, lines: list[Line], url: str | None
) -> JsonBody:
    """An ``Invoices`` element of type ``ACCPAY``: a bill numbered as Amazon's invoice."""
    body: JsonBody = {
        "Type": "ACCPAY",
        "InvoiceNumber": invoice_number,
        **common,
        "DueDate": due.isoformat(),
        "LineItems": [line_body(line) for line in lines],
    }
    if url:
        body["Url"] = url
    return body


def credit_note_body(invoice_number: str, common: JsonBody, lines: list[Line]) -> JsonBody:
    """A ``CreditNotes`` element of type ``ACCPAYCREDIT``, numbered as Amazon's credit memo.

    ``CreditNoteNumber`` may repeat (it is unique only for ACCRECCREDIT), ``Reference`` is
    ACCRECCREDIT only, and a credit note has no ``Url`` in Xero's schema: none is sent.
    """
    return {
        "Type": "ACCPAYCREDIT",
        "CreditNoteNumber": invoice_number,
        **common,
        "LineItems": [line_body(line) for line in lines],
    }
