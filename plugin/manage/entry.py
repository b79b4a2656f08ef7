"""A ledger entry in plain words, for its page: state, reason, Xero document, amounts, lines,
and for a card bill (a foreign-currency purchase on a base-currency card) its payment from the
card account with the rate Xero used."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final

from plugin.amazon.models import ParseFailure
from plugin.amazon.models import Transaction
from plugin.amazon.models import TransactionLineItem
from plugin.ledger import parsed
from plugin.manage.entry_names import day_text
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import PaymentMethod
from plugin.posting import money_text
from plugin.posting import percent_text
from plugin.work.card_payment_model import CardPayment
from plugin.work.card_payment_model import CardPaymentState

STATES: Final = {
    # Badged as the entries list and its filter say it (issue 15 point 8): "Waiting to post".
    EntryState.FETCHED: (
        "Waiting to post",
        "Imported from Amazon Business; checked against your mapping when it is next posted.",
    ),
    EntryState.HELD: ("Held", "Not posted to Xero yet: something needs your attention."),
    EntryState.REVIEW: (
        "Waiting for your review",
        "Review before posting is on: this purchase posts when you approve it (Review page).",
    ),
    EntryState.READY: ("Waiting to post", "Checked; posted to Xero on the next run."),
    EntryState.POSTING: ("Posting", "Being posted to Xero right now."),
    EntryState.POSTED: ("Posted", "Posted to Xero."),
    EntryState.FAILED: ("Refused by Xero", "Xero refused this document; see the reason."),
    EntryState.BY_HAND: (
        "Posted by hand",
        "Posted in Xero by you, not by this app; it will never post it.",
    ),
    EntryState.CANCELLED: (
        "Cancelled",
        "Amazon cancelled this charge after it was posted; its Xero document was removed.",
    ),
}
ATTACHMENT_STATES: Final = {
    "attached": "Amazon's PDF is attached to the Xero document",
    "order_summary": "Amazon's order summary is attached to the Xero document",
    "unavailable": "Amazon has no PDF for this purchase",
    "unreadable": "Amazon's document could not be read, so nothing was attached",
}
DOCUMENT_TYPES: Final = {
    "BankTransactions": "Bank transaction (spend or receive money)",
    "Invoices": "Bill",
    "CreditNotes": "Credit note",
}


@dataclass(frozen=True)
class LineView:
    """One Amazon line item."""

    title: str
    quantity: str
    principal: str
    extras: str
    tax: str
    rate: str


PAYMENT_STATES: Final = {
    CardPaymentState.PENDING: "Not sent to Xero yet",
    CardPaymentState.SENT: "Sent to Xero; waiting for its answer (checked on the next run)",
    CardPaymentState.PAID: "Paid",
    CardPaymentState.REFUSED: "Refused by Xero",
}


@dataclass(frozen=True)
class CardPaymentView:
    """A card bill's payment from the card account (or a card credit note's refund to it)."""

    what: str
    state: str
    account: str
    date: str
    amount: str
    rate: str | None
    bank_amount: str | None
    payment_id: str | None
    reason: str | None


def card_payment_view(row: CardPayment) -> CardPaymentView:
    """The payment as the entry page shows it: ``rate`` in Xero's terms (1 base = x foreign)."""
    account = row.account or {}
    rate = bank = None
    if row.currency_rate is not None:
        rate = f"1 {row.account_currency} = {row.currency_rate.normalize():f} {row.currency}"
    if row.bank_amount is not None:
        bank = f"{row.account_currency} {money_text(row.bank_amount)}"
    return CardPaymentView(
        what="Paid from the card account" if row.target == "Invoices" else "Refunded to the card",
        state=PAYMENT_STATES.get(CardPaymentState(row.state), str(row.state)),
        account=str(account.get("Code") or account.get("AccountID") or ""),
        date=day_text(row.payment_date),
        amount=f"{row.currency} {money_text(row.amount)}",
        rate=rate,
        bank_amount=bank,
        payment_id=row.xero_payment_id,
        reason=row.reason,
    )


@dataclass(frozen=True)
class EntryView:
    """Everything the entry page shows."""

    transaction_id: str
    state: str
    state_label: str
    state_help: str
    reason: str | None
    needs_review: bool
    reason_code: str | None
    kind: str
    date: str
    amount: str
    currency: str
    payment_method: str
    order_id: str
    invoice_number: str
    charge_identifier: str
    document_type: str | None
    document_id: str | None
    reference: str | None
    posted_at: str | None
    lines: tuple[LineView, ...]
    unreadable: str | None
    card_payment: CardPaymentView | None = None
    attachment: str | None = None
    attachment_state: str | None = None
    attachment_note: str | None = None


def _moment_text(moment: datetime | None) -> str | None:
    return f"{day_text(moment)}, {moment:%H:%M} UTC" if moment else None


def _money(value: object) -> str:
    amount = getattr(value, "amount", None)
    return money_text(amount) if isinstance(amount, Decimal) else ""


def _extras(item: TransactionLineItem) -> str:
    parts = []
    for label, money in (
        ("shipping", item.shipping_charge),
        ("gift wrap", item.gift_wrapping_charge),
        ("fee", item.regulatory_fee),
        ("discount", item.discount),
    ):
        if money is not None and money.amount != 0:
            parts.append(f"{label} {money_text(money.amount)}")
    return ", ".join(parts)


def _quantity(quantity: int | None) -> str:
    """A line's quantity; "none returned" for Amazon's 0 on a goodwill refund (money back,
    nothing sent back), never a bare 0 (issue 15 point 8)."""
    if quantity is None:
        return ""
    return "none returned" if quantity == 0 else str(quantity)


def _line(item: TransactionLineItem) -> LineView:
    return LineView(
        title=item.product_title or item.asin or "(no title)",
        quantity=_quantity(item.item_quantity),
        principal=_money(item.principal_amount),
        extras=_extras(item),
        tax=_money(item.tax),
        rate=percent_text(item.tax_rate) if item.tax_rate is not None else "",
    )


def describe(
    entry: LedgerEntry, method: PaymentMethod | None, payment: CardPayment | None = None
) -> EntryView:
    """Return the entry as its page shows it (``payment``: its card-bill payment, if any)."""
    transaction = parsed(entry)
    lines: tuple[LineView, ...] = ()
    unreadable = None
    if isinstance(transaction, Transaction):
        lines = tuple(_line(item) for item in transaction.line_items)
    elif isinstance(transaction, ParseFailure):
        unreadable = transaction.reason
    label, help_text = STATES.get(EntryState(entry.state), (str(entry.state), ""))
    return EntryView(
        transaction_id=entry.amazon_transaction_id,
        state=str(entry.state),
        state_label=label,
        state_help=help_text,
        reason=entry.reason,
        needs_review=entry.needs_review,
        reason_code=entry.reason_code,
        kind=(entry.transaction_type or "").capitalize() or "Transaction",
        date=day_text(entry.transaction_date),
        amount=money_text(entry.amount),
        currency=entry.currency,
        payment_method=(method.label if method else None) or entry.payment_method_key or "",
        order_id=entry.order_id or "",
        invoice_number=entry.invoice_number or "",
        charge_identifier=entry.charge_identifier or "",
        document_type=DOCUMENT_TYPES.get(entry.xero_document_type or "", entry.xero_document_type),
        document_id=entry.xero_document_id,
        reference=entry.xero_reference,
        posted_at=_moment_text(entry.posted_at),
        lines=lines,
        unreadable=unreadable,
        card_payment=card_payment_view(payment) if payment is not None else None,
        attachment=(
            ATTACHMENT_STATES.get(entry.attachment_state, entry.attachment_state)
            if entry.attachment_state
            else None
        ),
        attachment_state=entry.attachment_state,
        attachment_note=entry.attachment_note,
    )
