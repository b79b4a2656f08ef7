"""What the rules produce: a ``Document`` to send or a ``Held`` with a stable ``code`` (every
code is in ``HELD_CODES``), a run's ``Plan`` and its ``Summary``, and the two exceptions the rules
raise (``Unpostable``: hold it; ``InvariantViolation``: a bug)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from typing import Final
from typing import Literal

from plugin.posting.amounts import ZERO

Endpoint = Literal["BankTransactions", "Invoices", "CreditNotes"]
DocumentKind = Literal["spend_money", "receive_money", "bill", "credit_note"]
JsonBody = dict[str, Any]
"""A Xero element exactly as sent: a JSON object (its values of any JSON type)."""
DOCUMENT_KINDS: Final[tuple[DocumentKind, ...]] = (
    "spend_money",
    "receive_money",
    "bill",
    "credit_note",
)

HELD_CODES: Final[dict[str, str]] = {
    "parse_error": "Amazon sent a transaction we could not read.",
    "duplicate_transaction": "The same transaction id appears twice in one input.",
    "unsupported_transaction_type": "A transactionType the posting rules do not know.",
    "incomplete_transaction": "A field posting needs (amount, date, type) is missing.",
    "unexpected_sign": "A charge with a negative amount.",
    "zero_amount": "Nothing to post.",
    "mixed_currencies": "Line amounts in another currency than the transaction.",
    "sub_cent_amount": "An amount with fractions of a cent.",
    "amount_out_of_range": "An implausibly large amount.",
    "missing_line_items": "A charge or refund without line items.",
    "amounts_do_not_add_up": "Line items do not add up to the transaction amount.",
    "split_payment_unreconciled": "A split-payment part whose lines are not its own.",
    "missing_contact": "No Amazon Business supplier contact in Xero.",
    "unmapped_payment_method": "The card or instrument is not mapped.",
    "unmapped_account": "A needed account (expense, line type, bank) is not mapped.",
    "unknown_account": "A mapped account code is not in Xero's chart.",
    "archived_account": "A mapped account is archived in Xero.",
    "wrong_account_type": "A mapped account cannot be used for this purpose.",
    "currency_not_enabled": "The org has not enabled the transaction's currency.",
    "bank_account_currency": "The bank account is in another currency.",
    "lock_date": "Dated on or before the org's lock date.",
    "missing_invoice_number": "A Pay-by-Invoice transaction without an invoice number.",
    "missing_tax_rate": "Tax charged without a rate.",
    "unmapped_tax_rate": "Amazon's tax rate is not mapped to a Xero tax rate.",
    "unknown_tax_type": "A mapped tax type is not in Xero's tax rates.",
    "archived_tax_rate": "A mapped tax rate is archived or deleted in Xero.",
    "tax_type_not_for_expenses": "A mapped tax rate cannot be used on expenses.",
    "tax_rate_mismatch": "The mapped tax rate differs from Amazon's rate.",
    "tax_amount_mismatch": "Amazon's tax amount does not match its own rate.",
    "unmapped_tracking": "An Amazon value has no Xero tracking option mapped.",
    "tracking_option_to_create": "A tracking option the posting run creates in Xero first.",
    "unknown_tracking_category": "A mapped tracking category is not in Xero.",
    "archived_tracking_category": "A mapped tracking category is archived in Xero.",
    "unknown_tracking_option": "A mapped tracking option is not in Xero.",
    "archived_tracking_option": "A mapped tracking option is archived in Xero.",
    "legal_entity_not_taken": "Its legal entity is not taken by this organisation.",
    "legal_entity_other_organisation": "Its legal entity is taken by another organisation.",
    "legal_entity_in_other_books": "Already in another organisation's books.",
    "internal_error": "A bug in the posting rules; reported, never posted.",
}
"""Every ``Held.code`` the rules produce, with a one-line gloss."""


@dataclass(frozen=True)
class PaymentIntent:
    """The payment a document needs once Xero has given it an id (``posting.card_bills``).

    ``target`` is the document's endpoint: a bill (``Invoices``) is paid from ``account``, a
    credit note (``CreditNotes``) refunded to it; ``amount`` is the document's whole total in its
    ``currency``, ``date`` the purchase's (ISO). ``currency_rate`` ``None``: Xero's own rate for
    that date. ``as_json`` is what the posting batch records before the call.
    """

    target: Endpoint
    account: dict[str, str]
    date: str
    amount: Decimal
    currency: str
    account_currency: str
    reference: str
    currency_rate: Decimal | None = None

    def as_json(self) -> JsonBody:
        """The intent as JSON (amounts as text, so no float ever holds them)."""
        return {
            "target": self.target,
            "account": dict(self.account),
            "date": self.date,
            "amount": format(self.amount, "f"),
            "currency": self.currency,
            "account_currency": self.account_currency,
            "reference": self.reference,
            "currency_rate": (
                None if self.currency_rate is None else format(self.currency_rate, "f")
            ),
        }

    @classmethod
    def from_json(cls, data: JsonBody) -> PaymentIntent:
        """Read back ``as_json``."""
        rate = data.get("currency_rate")
        return cls(
            target=data["target"],
            account={str(k): str(v) for k, v in dict(data["account"]).items()},
            date=str(data["date"]),
            amount=Decimal(str(data["amount"])),
            currency=str(data["currency"]),
            account_currency=str(data["account_currency"]),
            reference=str(data["reference"]),
            currency_rate=None if rate is None else Decimal(str(rate)),
        )


@dataclass(frozen=True)
class Document:
    """One Xero document to send: ``body`` is the element exactly as sent (JSON-serialisable).

    ``payment``: what must follow once it is posted (a card bill's payment), else ``None``.
    """

    endpoint: Endpoint
    amazon_transaction_id: str
    body: JsonBody
    kind: DocumentKind
    currency: str
    total: Decimal
    payment: PaymentIntent | None = None


@dataclass(frozen=True)
class Held:
    """A transaction not posted, with a stable machine code and a reason saying how to fix it."""

    amazon_transaction_id: str | None
    code: str
    reason: str


@dataclass(frozen=True)
class Plan:
    """What a run would post, and what it holds: every input exactly once."""

    documents: tuple[Document, ...]
    held: tuple[Held, ...]


@dataclass(frozen=True)
class SummaryRow:
    """Count and total of one document kind in one currency."""

    kind: DocumentKind
    currency: str
    count: int
    total: Decimal


@dataclass(frozen=True)
class Summary:
    """Counts and totals per document kind per currency, and held counts per code."""

    rows: tuple[SummaryRow, ...]
    held_count: int
    held_by_code: dict[str, int]


class Unpostable(Exception):
    """Raised by a rule: the transaction must be held with ``code`` and ``reason``."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


class InvariantViolation(AssertionError):
    """A built document breaks the totals invariant: a bug in these rules, never posted."""


def summarise(plan: Plan) -> Summary:
    """Counts and totals per document kind per currency, plus held counts per code."""
    totals: dict[tuple[DocumentKind, str], tuple[int, Decimal]] = {}
    for document in plan.documents:
        count, total = totals.get((document.kind, document.currency), (0, ZERO))
        totals[(document.kind, document.currency)] = (count + 1, total + document.total)
    rows = tuple(
        SummaryRow(kind, currency, count, total)
        for (kind, currency), (count, total) in sorted(
            totals.items(), key=lambda kv: (DOCUMENT_KINDS.index(kv[0][0]), kv[0][1])
        )
    )
    by_code: dict[str, int] = {}
    for entry in plan.held:
        by_code[entry.code] = by_code.get(entry.code, 0) + 1
    return Summary(rows, len(plan.held), dict(sorted(by_code.items())))
