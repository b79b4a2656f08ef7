"""Posting rules: Amazon Business transactions + mapping + the org's chart -> Xero documents.

PURE: no database, no HTTP, no clock, no Flask. Everything a rule needs comes in as arguments
(``Transaction``, ``Mapping``, ``Chart``, ``PostingContext``); the result is a ``Document`` (the
element exactly as it would be sent to Xero) or a ``Held`` with a stable machine ``code`` and a
reason a bookkeeper can act on. ``translate_all`` never raises and returns every input exactly
once. The rules are design.md §4; the field names are the APIs' own.

Shapes:

- ``spend_money`` treatment: CHARGE -> ``BankTransactions`` ``SPEND`` on the mapped account;
  REFUND / OVERREFUND -> ``RECEIVE`` on the same account with the same expense accounts.
- ``bill`` treatment: CHARGE -> ``Invoices`` ``ACCPAY`` ``AUTHORISED`` (``InvoiceNumber`` = Amazon
  ``invoiceNumber``, ``DueDate`` from ``PostingContext.bill_due_dates`` else ``Date`` +
  ``Mapping.bill_due_days``); REFUND / OVERREFUND -> ``CreditNotes`` ``ACCPAYCREDIT``
  ``AUTHORISED``. Allocating a credit note to its bill and paying a closed bill need Xero ids and
  are done after posting, not here.

Decisions where the design and specs are silent (each is a small function below):

- **Signs.** Amazon may send refunds as negative amounts (the spec's example) or positive ones
  (UNCONFIRMED). The document total is ``|amount|``; when ``amount`` is negative every line amount
  is negated too, so a refund's principal ``-17.99`` becomes ``17.99`` on the RECEIVE. A CHARGE
  with a negative amount is held (``unexpected_sign``); a zero amount is held (``zero_amount``).
- **Amounts.** ``Decimal`` throughout; every amount must be whole cents (``sub_cent_amount``
  otherwise) and below 10^11 (``amount_out_of_range``). Bodies carry JSON numbers (Xero's schema
  types them ``number``): ``float`` of a 2-dp ``Decimal``, converted only when the body is built.
- **Totals invariant.** Per line item, principal + shipping + gift wrap + regulatory fee +
  discount + tax must equal ``totalAmount`` (when sent); the line items together must equal
  ``|amount|``. Otherwise ``amounts_do_not_add_up``. Every emitted document is re-checked:
  sum(``LineAmount``) + sum(``TaxAmount``) == ``|amount|`` and ``Quantity`` x ``UnitAmount`` ==
  ``LineAmount`` on every line; a breach raises ``InvariantViolation`` (a bug, never a post).
- **Quantity.** ``LineAmount`` is always the principal exactly. ``Quantity`` = ``itemQuantity`` and
  ``UnitAmount`` = principal / quantity when that division is exact to the cent; otherwise
  ``Quantity`` 1, ``UnitAmount`` = principal and the quantity is written in the description.
- **Tax.** One Amazon line item has one ``tax`` and one ``taxRate``; its shipping, gift-wrap,
  fee and discount lines carry the item's tax type (the transaction-level ``shipTaxRate`` /
  ``giftWrapTaxRate`` cannot be right for items of different rates, so they are not used).
  ``EffectiveRate`` is Xero's percentage (``20.0000``), Amazon's rate a fraction (``"0.20"``);
  they are compared as ``Decimal`` (``EffectiveRate / 100 == taxRate``).
  Reclaimable (rates equal): every line of the item carries the mapped ``TaxType``; Amazon's tax
  is split across them in proportion to their amounts, rounded to the cent, the remainder on the
  item line, so the tax total is Amazon's to the cent. Amazon's tax must also agree with its rate
  (``tax_amount_mismatch`` beyond a cent per unit and per line).
  Unreclaimable (mapped rate 0, Amazon charged tax: US sales tax): the lines carry the mapped
  zero-rate type with ``TaxAmount`` 0 and the tax becomes, per ``Mapping.unreclaimable_tax``,
  one line per rate to the ``tax`` line-type account with ``TaxType`` ``NONE``
  (``separate_line``) or part of the item line's amount (``fold_into_item``).
  A line item without ``taxRate`` is treated as rate 0 when its tax is zero, else held
  (``missing_tax_rate``).
- **Refund lines.** A refund line usually lacks ``productTitle``, ``unspsc`` and
  ``businessOrderInfo``. The charge's line (same ``orderId`` + ``orderLineItemId``), taken from
  ``PostingContext.original_line_items`` or from a CHARGE in the same ``translate_all`` input,
  fills them in, so expense rules pick the same account as the charge did.
- **Over-refunds.** An OVERREFUND with line items is posted like a refund. One without line items
  (goodwill; the spec does not say whether they carry lines) becomes a single line for
  ``|amount|`` to the default expense account with ``TaxType`` ``NONE``: it reduces the cost of
  purchases, and Amazon reported no tax to reclaim or reverse.
- **Missing lines.** A CHARGE or REFUND without line items is held (``missing_line_items``).
- **Split tender.** Each part is its own transaction on its own payment method and is posted on
  its own when its line items add up to its own ``amount``. A part whose lines do not (for
  example each part repeating the whole order's lines) is held (``split_payment_unreconciled``)
  naming the other parts: apportioning lines between instruments would be a guess.
- **Credit notes.** ``CreditNoteNumber`` = Amazon's credit-memo ``invoiceNumber`` (the schema
  says it is unique only for ACCRECCREDIT, so repeats are allowed; ``Reference`` is ACCRECCREDIT
  only). ``CreditNote`` has no ``Url`` in Xero's schema, so none is sent.
- **Findable again.** Bank transactions: ``Reference`` = the distinct order ids then the
  transaction id, space separated, at most 255 characters (order ids are dropped from the end,
  with "+N more", before the transaction id is); bills and credit notes: the transaction id in the
  first line's description.
- **Url.** From ``PostingContext.entry_url``; omitted when it is ``None`` or mentions "xero"
  (Xero rejects such links).
- **Dates.** ``Date`` is the calendar date of ``transactionDate`` in ``PostingContext.timezone``
  when given, else as Amazon wrote it (normally UTC). On or before the later of
  ``PeriodLockDate`` / ``EndOfYearLockDate`` -> ``lock_date``.
- **Duplicates.** A ``transactionId`` seen earlier in the same ``translate_all`` input is held
  (``duplicate_transaction``); only the first copy is posted.
- **Checks run in a fixed order** (data, then payment method, then org, then lines) and the first
  failure is the reason given.

``Mapping`` is the export format of design.md §7, version 1, plus one optional field:
``bill_due_days`` (integer, default 30), the fallback terms for Pay-by-Invoice bills when Amazon's
payment details give no due date.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from datetime import tzinfo
from decimal import ROUND_HALF_EVEN
from decimal import Decimal
from typing import Any
from typing import Final
from typing import Literal

from plugin.amazon.models import ParseFailure
from plugin.amazon.models import Transaction
from plugin.amazon.models import TransactionLineItem
from plugin.amazon.models import payment_method_key

CENT: Final = Decimal("0.01")
ZERO: Final = Decimal(0)
HUNDRED: Final = Decimal(100)
MAX_AMOUNT: Final = Decimal(10) ** 11
MAX_REFERENCE: Final = 255
MAX_DESCRIPTION: Final = 4000
SAME_AS_ITEM: Final = "same_as_item"
NO_TAX: Final = "NONE"

Endpoint = Literal["BankTransactions", "Invoices", "CreditNotes"]
DocumentKind = Literal["spend_money", "receive_money", "bill", "credit_note"]
TREATMENTS: Final = ("spend_money", "bill")
UNRECLAIMABLE_TAX_OPTIONS: Final = ("separate_line", "fold_into_item")
EXPENSE_RULE_FIELDS: Final = (
    "business_order_info",
    "unspsc_prefix",
    "legal_entity",
    "customer_group",
)
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
    "internal_error": "A bug in the posting rules; reported, never posted.",
}
"""Every ``Held.code`` this module produces, with a one-line gloss."""


# ---------------------------------------------------------------------------------------------
# Inputs: mapping, chart, per-run context
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentMethodMapping:
    """How one payment method (``type`` + ``last4``) is posted."""

    instrument_type: str
    last4: str | None
    treatment: str
    account_code: str | None = None
    payment_account_code: str | None = None

    @property
    def key(self) -> str:
        """The payment-method key this entry maps (see ``payment_method_key``)."""
        return payment_method_key(self.instrument_type, self.last4)


@dataclass(frozen=True)
class ExpenseRule:
    """An expense-account override: when ``field`` matches ``value``, use ``account_code``.

    ``field`` is one of ``EXPENSE_RULE_FIELDS``; ``key`` names the ``businessOrderInfo`` entry
    (e.g. ``"GL code"``) and is used only by ``business_order_info`` rules.
    """

    field: str
    value: str
    account_code: str
    key: str | None = None


@dataclass(frozen=True)
class TaxRateMapping:
    """Amazon ``taxRate`` (a fraction, e.g. ``0.20``) -> Xero ``TaxType``."""

    rate: Decimal
    tax_type: str


@dataclass(frozen=True)
class LineTypeAccounts:
    """Account codes for the lines that are not items; ``discount`` may be ``SAME_AS_ITEM``."""

    shipping: str | None = None
    gift_wrap: str | None = None
    regulatory_fee: str | None = None
    discount: str = SAME_AS_ITEM
    tax: str | None = None


@dataclass(frozen=True)
class Mapping:
    """An org's mapping (design.md §7 export format, version 1, plus ``bill_due_days``)."""

    payment_methods: tuple[PaymentMethodMapping, ...] = ()
    expense_default_account_code: str | None = None
    expense_rules: tuple[ExpenseRule, ...] = ()
    tax_rates: tuple[TaxRateMapping, ...] = ()
    unreclaimable_tax: str = "separate_line"
    line_types: LineTypeAccounts = field(default_factory=LineTypeAccounts)
    bill_due_days: int = 30

    def payment_method(self, key: str) -> PaymentMethodMapping | None:
        """Return the entry mapping payment-method ``key``, if any."""
        return next((pm for pm in self.payment_methods if pm.key == key), None)

    def tax_type_for(self, rate: Decimal) -> str | None:
        """Return the Xero TaxType mapped to Amazon ``rate`` (compared as numbers)."""
        return next((m.tax_type for m in self.tax_rates if m.rate == rate), None)


@dataclass(frozen=True)
class Account:
    """A Xero account, as far as posting cares."""

    code: str | None
    name: str
    type: str
    status: str
    account_id: str | None = None
    bank_account_type: str | None = None
    currency_code: str | None = None
    system_account: str | None = None

    @property
    def label(self) -> str:
        """``"429 Office Expenses"`` for reasons."""
        return f"{self.code} {self.name}".strip() if self.code else self.name


@dataclass(frozen=True)
class TaxRate:
    """A Xero tax rate; ``effective_rate`` is a percentage as Xero gives it (``20.0000``)."""

    tax_type: str
    name: str
    status: str
    effective_rate: Decimal
    can_apply_to_expenses: bool

    @property
    def fraction(self) -> Decimal:
        """The rate as a fraction, comparable with Amazon's ``taxRate``."""
        return self.effective_rate / HUNDRED


@dataclass(frozen=True)
class Chart:
    """The org as Xero describes it: currency, lock dates, accounts, tax rates, the contact."""

    base_currency: str
    accounts: tuple[Account, ...] = ()
    tax_rates: tuple[TaxRate, ...] = ()
    currencies: frozenset[str] = frozenset()
    contact_id: str | None = None
    period_lock_date: date | None = None
    end_of_year_lock_date: date | None = None

    @property
    def enabled_currencies(self) -> frozenset[str]:
        """The currencies the org may post in (always including the base currency)."""
        return self.currencies | {self.base_currency}

    @property
    def lock_date(self) -> date | None:
        """The later of the two lock dates; documents on or before it are refused."""
        dates = [d for d in (self.period_lock_date, self.end_of_year_lock_date) if d]
        return max(dates) if dates else None

    def account(self, code: str) -> Account | None:
        """Return the account with ``Code`` ``code``."""
        return next((a for a in self.accounts if a.code == code), None)

    def tax_rate(self, tax_type: str) -> TaxRate | None:
        """Return the tax rate with ``TaxType`` ``tax_type``."""
        return next((t for t in self.tax_rates if t.tax_type == tax_type), None)


LineKey = tuple[str, str]
"""(``orderId``, ``orderLineItemId``): how a refund line finds its charge line."""


@dataclass(frozen=True)
class PostingContext:
    """Per-run inputs that are neither mapping nor chart.

    ``entry_url(transaction_id)`` gives our page for the ledger entry (``Url``);
    ``bill_due_dates`` maps Amazon invoice numbers to due dates from
    ``getBatchInvoicePaymentDetails``; ``original_line_items`` gives charge lines for refunds;
    ``timezone`` is the org's, for the calendar date of ``transactionDate``.
    """

    entry_url: Callable[[str], str | None] | None = None
    bill_due_dates: AbcMapping[str, date] = field(default_factory=dict)
    original_line_items: AbcMapping[LineKey, TransactionLineItem] = field(default_factory=dict)
    timezone: tzinfo | None = None


def url_template(template: str) -> Callable[[str], str | None]:
    """Return an ``entry_url`` filling ``{transaction_id}`` in ``template``."""
    return lambda transaction_id: template.format(transaction_id=transaction_id)


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    """One Xero document to send: ``body`` is the element exactly as sent (JSON-serialisable)."""

    endpoint: Endpoint
    amazon_transaction_id: str
    body: dict[str, Any]
    kind: DocumentKind
    currency: str
    total: Decimal


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


# ---------------------------------------------------------------------------------------------
# Wording helpers
# ---------------------------------------------------------------------------------------------


def money_text(amount: Decimal) -> str:
    """``Decimal("7.2")`` -> ``"7.20"``."""
    return f"{amount.quantize(CENT):,.2f}".replace(",", "")


def percent_text(rate: Decimal) -> str:
    """Amazon fraction -> ``"7.25%"`` / ``"20%"``."""
    value = (rate * HUNDRED).normalize()
    return f"{value:f}%"


def payment_method_label(transaction: Transaction) -> str:
    """``"Visa ending 4242"``, ``"Pay by Invoice"``, or a fallback."""
    kind = transaction.payment_instrument_type or "an unnamed payment method"
    last4 = transaction.payment_instrument_last4_digits
    return f"{kind} ending {last4}" if last4 else kind


# ---------------------------------------------------------------------------------------------
# Rules on the transaction's own data
# ---------------------------------------------------------------------------------------------


def check_transaction_type(transaction: Transaction) -> str:
    """Return ``CHARGE``/``REFUND``/``OVERREFUND``; hold anything else."""
    kind = transaction.transaction_type
    if kind is None:
        raise Unpostable(
            "incomplete_transaction",
            "Amazon sent this transaction without a transactionType, so we cannot tell a "
            "charge from a refund. Re-import it; if it persists, post it by hand.",
        )
    if kind not in ("CHARGE", "REFUND", "OVERREFUND"):
        raise Unpostable(
            "unsupported_transaction_type",
            f"Amazon transaction type {kind!r} is not one we know how to post "
            "(we post CHARGE, REFUND and OVERREFUND). Post it by hand in Xero.",
        )
    return kind


def transaction_currency(transaction: Transaction) -> str:
    """Return the currency of ``amount``; hold when the amount is missing."""
    if transaction.amount is None:
        raise Unpostable(
            "incomplete_transaction",
            "Amazon sent this transaction without an amount. Re-import it; if it persists, "
            "post it by hand.",
        )
    return transaction.amount.currency_code


def posting_date(transaction: Transaction, context: PostingContext) -> date:
    """Return the document date: ``transactionDate`` in the org's zone (else as sent)."""
    moment = transaction.transaction_date
    if moment is None:
        raise Unpostable(
            "incomplete_transaction",
            "Amazon sent this transaction without a transactionDate. Re-import it; if it "
            "persists, post it by hand.",
        )
    if context.timezone is not None:
        moment = moment.astimezone(context.timezone)
    return moment.date()


def sign_factor(transaction: Transaction, kind: str) -> Decimal:
    """Return +1 or -1: what turns Amazon's signed amounts into document amounts."""
    assert transaction.amount is not None
    amount = transaction.amount.amount
    if amount == 0:
        raise Unpostable(
            "zero_amount",
            f"Amazon transaction amount is {money_text(amount)}: there is nothing to post.",
        )
    if kind == "CHARGE" and amount < 0:
        raise Unpostable(
            "unexpected_sign",
            f"Amazon sent a CHARGE with a negative amount ({money_text(amount)}). Charges are "
            "positive; post this one by hand after checking it in Amazon Business.",
        )
    return Decimal(-1) if amount < 0 else Decimal(1)


def check_line_currencies(transaction: Transaction, currency: str) -> None:
    """Hold when any line amount is in another currency than the transaction."""
    for index, item in enumerate(transaction.line_items):
        for name, money in item.money_fields().items():
            if money.currency_code != currency:
                raise Unpostable(
                    "mixed_currencies",
                    f"transactionLineItems[{index}].{name} is in {money.currency_code} but the "
                    f"transaction is in {currency}; we cannot post mixed currencies.",
                )


def check_amount_precision(transaction: Transaction) -> None:
    """Hold amounts with fractions of a cent, or implausibly large ones."""
    assert transaction.amount is not None
    named = [("amount", transaction.amount.amount)]
    for index, item in enumerate(transaction.line_items):
        named += [
            (f"transactionLineItems[{index}].{name}", money.amount)
            for name, money in item.money_fields().items()
            if name != "unitPrice"
        ]
    for name, value in named:
        if abs(value) >= MAX_AMOUNT:
            raise Unpostable(
                "amount_out_of_range",
                f"{name} is {value}, too large to be a real purchase. Check it in Amazon "
                "Business and post it by hand.",
            )
        if value != value.quantize(CENT):
            raise Unpostable(
                "sub_cent_amount",
                f"{name} is {value}, which has fractions of a cent; Xero needs whole cents. "
                "Post it by hand.",
            )


@dataclass(frozen=True)
class Components:
    """One Amazon line item's amounts, already in document sign (refunds made positive)."""

    principal: Decimal
    shipping: Decimal
    gift_wrap: Decimal
    regulatory_fee: Decimal
    discount: Decimal
    tax: Decimal

    @property
    def net(self) -> Decimal:
        """Everything but tax."""
        return (
            self.principal + self.shipping + self.gift_wrap + self.regulatory_fee + (self.discount)
        )

    @property
    def total(self) -> Decimal:
        """Everything including tax."""
        return self.net + self.tax


def _signed(money: Any, factor: Decimal) -> Decimal:
    return ZERO if money is None else money.amount * factor


def components_of(item: TransactionLineItem, factor: Decimal) -> Components:
    """Return the line item's amounts in document sign (missing ones are zero)."""
    return Components(
        principal=_signed(item.principal_amount, factor),
        shipping=_signed(item.shipping_charge, factor),
        gift_wrap=_signed(item.gift_wrapping_charge, factor),
        regulatory_fee=_signed(item.regulatory_fee, factor),
        discount=_signed(item.discount, factor),
        tax=_signed(item.tax, factor),
    )


def check_amounts_add_up(transaction: Transaction, factor: Decimal) -> None:
    """Hold unless every line item and the items together add up to the transaction amount."""
    assert transaction.amount is not None
    expected = transaction.amount.amount * factor
    for index, item in enumerate(transaction.line_items):
        parts = components_of(item, factor)
        if item.total_amount is not None and parts.total != item.total_amount.amount * factor:
            raise Unpostable(
                "amounts_do_not_add_up",
                f"Amazon amounts do not add up: line item {index + 1} parts total "
                f"{money_text(parts.total)}, its totalAmount "
                f"{money_text(item.total_amount.amount * factor)}. Nothing was posted; check the "
                "order in Amazon Business and post it by hand.",
            )
    lines_total = sum((components_of(i, factor).total for i in transaction.line_items), ZERO)
    if lines_total == expected:
        return
    others = transaction.associated_transaction_ids
    if others:
        raise Unpostable(
            "split_payment_unreconciled",
            f"This is one part of a split payment (with {', '.join(others)}); its line items "
            f"total {money_text(lines_total)} but this part is {money_text(expected)}. We do "
            "not guess how to divide the items between payment methods: post it by hand.",
        )
    raise Unpostable(
        "amounts_do_not_add_up",
        f"Amazon amounts do not add up: lines total {money_text(lines_total)}, transaction "
        f"amount {money_text(expected)}. Nothing was posted; check the order in Amazon "
        "Business and post it by hand.",
    )


def check_has_line_items(transaction: Transaction, kind: str) -> None:
    """Hold a charge or refund without line items (an over-refund may have none)."""
    if transaction.line_items or kind == "OVERREFUND":
        return
    others = transaction.associated_transaction_ids
    split = f" It is one part of a split payment (with {', '.join(others)})." if others else ""
    raise Unpostable(
        "missing_line_items",
        f"Amazon sent this {kind.lower()} without line items, so we cannot tell what was "
        f"bought.{split} Post it by hand.",
    )


# ---------------------------------------------------------------------------------------------
# Rules on the org: payment method, accounts, currency, lock date
# ---------------------------------------------------------------------------------------------


def payment_method_for(transaction: Transaction, mapping: Mapping) -> PaymentMethodMapping:
    """Return the mapping entry for the transaction's payment method; hold if unmapped."""
    entry = mapping.payment_method(transaction.payment_method_key)
    if entry is None or entry.treatment not in TREATMENTS:
        raise Unpostable(
            "unmapped_payment_method",
            f"Payment method {payment_method_label(transaction)} is not mapped to a Xero "
            "account yet. Map it under Payment methods.",
        )
    return entry


def require_contact(chart: Chart) -> str:
    """Return the Amazon Business supplier ContactID; hold when there is none."""
    if not chart.contact_id:
        raise Unpostable(
            "missing_contact",
            "The Amazon Business supplier contact is not set up in Xero. Repair it under "
            "Manage Integrations.",
        )
    return chart.contact_id


def _existing_active_account(code: str, chart: Chart, purpose: str, fix: str) -> Account:
    account = chart.account(code)
    if account is None:
        raise Unpostable(
            "unknown_account",
            f"Account {code} (mapped for {purpose}) is not in the Xero chart of accounts. "
            f"Choose another account under {fix}.",
        )
    if account.status != "ACTIVE":
        raise Unpostable(
            "archived_account",
            f"Account {account.label} (mapped for {purpose}) is {account.status.lower()} in "
            f"Xero. Choose another account under {fix}, or restore it in Xero.",
        )
    return account


def bank_account_for(
    entry: PaymentMethodMapping, transaction: Transaction, chart: Chart
) -> Account:
    """Return the ACTIVE ``BANK`` account a spend-money payment method posts to."""
    label = payment_method_label(transaction)
    if not entry.account_code:
        raise Unpostable(
            "unmapped_payment_method",
            f"Payment method {label} is not mapped to a Xero account yet. Map it under "
            "Payment methods.",
        )
    account = _existing_active_account(
        entry.account_code, chart, f"payment method {label}", "Payment methods"
    )
    if account.type != "BANK":
        raise Unpostable(
            "wrong_account_type",
            f"Account {account.label} (mapped for payment method {label}) is a {account.type} "
            "account; spend and receive money need a bank or credit-card account (Type BANK). "
            "Choose one under Payment methods.",
        )
    return account


def check_currency_enabled(currency: str, chart: Chart) -> None:
    """Hold when the org has not enabled ``currency``."""
    if currency not in chart.enabled_currencies:
        raise Unpostable(
            "currency_not_enabled",
            f"This purchase is in {currency}, which is not enabled in the Xero organisation "
            f"(base currency {chart.base_currency}). Add {currency} under Settings > Currencies "
            "in Xero, or post it by hand.",
        )


def check_bank_account_currency(account: Account, currency: str, chart: Chart) -> None:
    """Hold when the bank account is in another currency than the transaction."""
    account_currency = account.currency_code or chart.base_currency
    if account_currency != currency:
        raise Unpostable(
            "bank_account_currency",
            f"This purchase is in {currency} but account {account.label} is in "
            f"{account_currency}; Xero only records spend or receive money in the account's "
            f"currency. Map this payment method to a {currency} account, or post it by hand.",
        )


def check_lock_date(when: date, chart: Chart) -> None:
    """Hold documents dated on or before the org's lock date."""
    lock = chart.lock_date
    if lock is not None and when <= lock:
        raise Unpostable(
            "lock_date",
            f"The transaction is dated {when.isoformat()}, on or before the organisation's lock "
            f"date {lock.isoformat()}. Move the lock date in Xero (Advisor) or post it by hand "
            "in an open period.",
        )


def invoice_number_for(transaction: Transaction) -> str:
    """Return Amazon's invoice (or credit-memo) number, required for bills and credit notes."""
    number = (transaction.invoice_number or "").strip()
    if not number:
        raise Unpostable(
            "missing_invoice_number",
            "Amazon has not given an invoice number for this Pay by Invoice transaction yet. "
            "It will be posted once Amazon issues one.",
        )
    return number[:255]


def due_date_for(
    invoice_number: str, bill_date: date, mapping: Mapping, context: PostingContext
) -> date:
    """Return the bill's due date: Amazon's payment details, else ``Date`` + terms."""
    known = context.bill_due_dates.get(invoice_number)
    return known if known is not None else bill_date + timedelta(days=mapping.bill_due_days)


def _unmapped_subject(purpose: str) -> str:
    if purpose.startswith("the "):
        return f"T{purpose[1:]}"
    return f"The account for {purpose}"


def line_account(code: str | None, chart: Chart, purpose: str, fix: str) -> str:
    """Return ``code`` if it can take expense lines: mapped, in the chart, active, not a bank."""
    if not code:
        raise Unpostable(
            "unmapped_account",
            f"{_unmapped_subject(purpose)} is not mapped yet. Map it under {fix}.",
        )
    account = _existing_active_account(code, chart, purpose, fix)
    if account.type == "BANK" or account.system_account:
        kind = "a bank account" if account.type == "BANK" else "a system account"
        raise Unpostable(
            "wrong_account_type",
            f"Account {account.label} (mapped for {purpose}) is {kind} and cannot take "
            f"expense lines. Choose another account under {fix}.",
        )
    return code


# ---------------------------------------------------------------------------------------------
# Expense accounts
# ---------------------------------------------------------------------------------------------


def rule_matches(rule: ExpenseRule, transaction: Transaction, item: TransactionLineItem) -> bool:
    """Return whether ``rule`` applies to this line item (exact, case-sensitive matches)."""
    if rule.field == "business_order_info":
        info = item.business_order_info or {}
        return rule.key is not None and info.get(rule.key) == rule.value
    if rule.field == "unspsc_prefix":
        return bool(rule.value) and (item.unspsc or "").startswith(rule.value)
    if rule.field == "legal_entity":
        return transaction.legal_entity_name == rule.value
    if rule.field == "customer_group":
        return transaction.purchasing_customer_group_name == rule.value
    return False


def _rule_text(rule: ExpenseRule) -> str:
    if rule.field == "business_order_info":
        return f"the expense rule {rule.key} = {rule.value}"
    names = {
        "unspsc_prefix": "UNSPSC starting",
        "legal_entity": "legal entity",
        "customer_group": "group",
    }
    return f"the expense rule {names.get(rule.field, rule.field)} {rule.value}"


def expense_account_for(
    transaction: Transaction, item: TransactionLineItem, mapping: Mapping, chart: Chart
) -> str:
    """Return the item's expense account: the first matching rule, else the default."""
    for rule in mapping.expense_rules:
        if rule_matches(rule, transaction, item):
            return line_account(rule.account_code, chart, _rule_text(rule), "Expenses")
    return line_account(
        mapping.expense_default_account_code, chart, "the default expense account", "Expenses"
    )


def with_original_details(
    item: TransactionLineItem, context: PostingContext
) -> TransactionLineItem:
    """Fill a refund line's missing title/ASIN/UNSPSC/businessOrderInfo from its charge line."""
    if item.order_id is None or item.order_line_item_id is None:
        return item
    original = context.original_line_items.get((item.order_id, item.order_line_item_id))
    if original is None:
        return item
    fill = {
        "product_title": item.product_title or original.product_title,
        "asin": item.asin or original.asin,
        "unspsc": item.unspsc or original.unspsc,
        "business_order_info": item.business_order_info or original.business_order_info,
    }
    return item.model_copy(update=fill)


# ---------------------------------------------------------------------------------------------
# Tax
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaxTreatment:
    """How one line item's tax is posted."""

    tax_type: str
    reclaimable: bool
    rate: Decimal


def mapped_tax_rate(tax_type: str, chart: Chart, rate: Decimal) -> TaxRate:
    """Return the chart's tax rate for ``tax_type`` if it is usable on expenses."""
    found = chart.tax_rate(tax_type)
    if found is None:
        raise Unpostable(
            "unknown_tax_type",
            f"Tax type {tax_type} (mapped for Amazon tax rate {percent_text(rate)}) is not "
            "among the organisation's Xero tax rates. Choose another under Taxes.",
        )
    if found.status != "ACTIVE":
        raise Unpostable(
            "archived_tax_rate",
            f"Xero tax rate {found.name} ({tax_type}, mapped for Amazon tax rate "
            f"{percent_text(rate)}) is {found.status.lower()}. Choose another under Taxes.",
        )
    if not found.can_apply_to_expenses:
        raise Unpostable(
            "tax_type_not_for_expenses",
            f"Xero tax rate {found.name} ({tax_type}) cannot be used on expenses. Choose "
            "another for Amazon tax rate "
            f"{percent_text(rate)} under Taxes.",
        )
    return found


def no_tax_type(chart: Chart, purpose: str) -> str:
    """Return ``NONE`` if the org has it ACTIVE for expenses (it is a Xero system rate)."""
    found = chart.tax_rate(NO_TAX)
    if found is None or found.status != "ACTIVE" or not found.can_apply_to_expenses:
        state = "missing" if found is None else "not usable on expenses"
        if found is not None and found.status != "ACTIVE":
            state = found.status.lower()
        raise Unpostable(
            "unknown_tax_type" if found is None else "archived_tax_rate",
            f"Xero tax type NONE (used for {purpose}) is {state} in this organisation. "
            "Reconnect Xero to refresh its tax rates, or post this by hand.",
        )
    return NO_TAX


def tax_treatment_for(
    item: TransactionLineItem, parts: Components, mapping: Mapping, chart: Chart
) -> TaxTreatment:
    """Decide the item's tax type and whether its tax is reclaimable; hold mismatches."""
    rate = item.tax_rate
    if rate is None:
        if parts.tax != 0:
            raise Unpostable(
                "missing_tax_rate",
                f"Amazon charged tax of {money_text(parts.tax)} on "
                f"{item.product_title or 'an item'} without saying the rate, so we cannot "
                "choose a tax rate. Post it by hand.",
            )
        rate = ZERO
    tax_type = mapping.tax_type_for(rate)
    if tax_type is None:
        raise Unpostable(
            "unmapped_tax_rate",
            f"Amazon tax rate {percent_text(rate)} is not mapped to a Xero tax rate yet. Map "
            "it under Taxes.",
        )
    xero_rate = mapped_tax_rate(tax_type, chart, rate)
    if xero_rate.fraction == rate:
        return TaxTreatment(tax_type, reclaimable=True, rate=rate)
    if xero_rate.effective_rate == 0 and rate > 0:
        return TaxTreatment(tax_type, reclaimable=False, rate=rate)
    raise Unpostable(
        "tax_rate_mismatch",
        f"Amazon charged tax at {percent_text(rate)} but the mapped Xero tax rate "
        f"{xero_rate.name} ({tax_type}) is {percent_text(xero_rate.fraction)}. Map "
        f"{percent_text(rate)} to a Xero tax rate of {percent_text(rate)} (or to a 0% rate if "
        "the tax cannot be reclaimed) under Taxes.",
    )


def check_tax_amount(
    item: TransactionLineItem, parts: Components, rate: Decimal, lines: int
) -> None:
    """Hold when Amazon's tax is not its rate times the amounts (beyond rounding)."""
    expected = parts.net * rate
    units = max(item.item_quantity or 1, 1)
    tolerance = CENT * (units + lines)
    if abs(parts.tax - expected) > tolerance:
        raise Unpostable(
            "tax_amount_mismatch",
            f"Amazon's tax of {money_text(parts.tax)} on {item.product_title or 'an item'} is "
            f"not {percent_text(rate)} of {money_text(parts.net)} (about "
            f"{money_text(expected)}). Nothing was posted; post it by hand.",
        )


def allocate(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split ``total`` in proportion to ``weights``, in cents, summing to ``total`` exactly.

    Each share is rounded to the cent; the remainder goes to the first share.
    """
    base = sum(weights, ZERO)
    if not weights:
        return []
    if base == 0:
        return [total] + [ZERO] * (len(weights) - 1)
    shares = [(total * w / base).quantize(CENT, ROUND_HALF_EVEN) for w in weights]
    shares[0] += total - sum(shares, ZERO)
    return shares


# ---------------------------------------------------------------------------------------------
# Lines
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One Xero line item, in ``Decimal``; ``quantity`` x ``unit_amount`` == ``amount``."""

    description: str
    account_code: str
    amount: Decimal
    tax_type: str
    tax_amount: Decimal = ZERO
    quantity: int = 1

    @property
    def unit_amount(self) -> Decimal:
        """``amount / quantity``, exact to the cent by construction."""
        return self.amount / self.quantity


def quantity_for(amount: Decimal, item_quantity: int | None) -> int:
    """Return ``itemQuantity`` when ``amount`` divides by it to the cent, else 1."""
    if item_quantity is None or item_quantity < 1:
        return 1
    cents = amount / CENT
    return item_quantity if cents % item_quantity == 0 else 1


def item_description(item: TransactionLineItem, kind: str, quantity_shown: bool) -> str:
    """``"Pencils (ASIN B07..., order 203-...)"``, noting refunds and unshown quantities."""
    title = item.product_title or "Amazon item"
    details = []
    if not quantity_shown and item.item_quantity is not None and item.item_quantity != 1:
        details.append(f"quantity {item.item_quantity}")
    if item.asin:
        details.append(f"ASIN {item.asin}")
    if item.order_id:
        details.append(f"order {item.order_id}")
    text = f"{title} ({', '.join(details)})" if details else title
    if kind != "CHARGE":
        reason = f": {item.refund_reason}" if item.refund_reason else ""
        text = f"Refund{reason} - {text}"
    return text


def _item_ref(item: TransactionLineItem) -> str:
    title = item.product_title or "Amazon item"
    return f"{title} (order {item.order_id})" if item.order_id else title


def component_lines(
    item: TransactionLineItem,
    parts: Components,
    item_account: str,
    mapping: Mapping,
    chart: Chart,
) -> list[tuple[str, str, Decimal]]:
    """Return (description, account, amount) for the item's non-zero extra charges/credits."""
    ref = _item_ref(item)
    line_types = mapping.line_types
    wanted = [
        ("shipping", "Shipping for", parts.shipping, line_types.shipping),
        ("gift wrap", "Gift wrap for", parts.gift_wrap, line_types.gift_wrap),
        ("regulatory fee", "Regulatory fee for", parts.regulatory_fee, line_types.regulatory_fee),
    ]
    lines = []
    for name, prefix, amount, code in wanted:
        if amount != 0:
            account = line_account(code, chart, f"{name} charges", "Line types")
            lines.append((f"{prefix} {ref}", account, amount))
    if parts.discount != 0:
        if line_types.discount == SAME_AS_ITEM:
            account = item_account
        else:
            account = line_account(line_types.discount, chart, "discounts", "Line types")
        lines.append((f"Discount on {ref}", account, parts.discount))
    return lines


@dataclass(frozen=True)
class ItemLines:
    """The Xero lines for one Amazon line item, and any unreclaimable tax set aside."""

    lines: list[Line]
    unreclaimable_tax: Decimal
    rate: Decimal


def lines_for_item(
    transaction: Transaction,
    item: TransactionLineItem,
    kind: str,
    factor: Decimal,
    mapping: Mapping,
    chart: Chart,
) -> ItemLines:
    """Return the Xero lines for one Amazon line item (item line first)."""
    parts = components_of(item, factor)
    item_account = expense_account_for(transaction, item, mapping, chart)
    extras = component_lines(item, parts, item_account, mapping, chart)
    treatment = tax_treatment_for(item, parts, mapping, chart)
    principal = parts.principal
    set_aside = ZERO
    if treatment.reclaimable:
        check_tax_amount(item, parts, treatment.rate, len(extras))
        taxes = allocate(parts.tax, [principal, *(amount for _, _, amount in extras)])
    else:
        taxes = [ZERO] * (1 + len(extras))
        if mapping.unreclaimable_tax == "fold_into_item":
            principal += parts.tax
        else:
            set_aside = parts.tax
    quantity = quantity_for(principal, item.item_quantity)
    first = Line(
        description=item_description(item, kind, quantity_shown=quantity != 1),
        account_code=item_account,
        amount=principal,
        tax_type=treatment.tax_type,
        tax_amount=taxes[0],
        quantity=quantity,
    )
    rest = [
        Line(description, account, amount, treatment.tax_type, tax)
        for (description, account, amount), tax in zip(extras, taxes[1:], strict=True)
    ]
    return ItemLines([first, *rest], set_aside, treatment.rate)


def unreclaimable_tax_lines(items: list[ItemLines], mapping: Mapping, chart: Chart) -> list[Line]:
    """One ``NONE`` line per rate for tax the org cannot reclaim (``separate_line``)."""
    by_rate: dict[Decimal, Decimal] = {}
    for entry in items:
        if entry.unreclaimable_tax != 0:
            by_rate[entry.rate] = by_rate.get(entry.rate, ZERO) + entry.unreclaimable_tax
    if not by_rate:
        return []
    account = line_account(mapping.line_types.tax, chart, "unreclaimable tax", "Line types")
    no_tax_type(chart, "tax that cannot be reclaimed")
    return [
        Line(
            f"Tax at {percent_text(rate)} charged by Amazon (not reclaimable)",
            account,
            amount,
            NO_TAX,
        )
        for rate, amount in sorted(by_rate.items())
    ]


def over_refund_line(
    transaction: Transaction, mapping: Mapping, chart: Chart, factor: Decimal
) -> Line:
    """The single line of an over-refund that came without line items."""
    assert transaction.amount is not None
    account = line_account(
        mapping.expense_default_account_code,
        chart,
        "the default expense account (used for over-refunds)",
        "Expenses",
    )
    no_tax_type(chart, "over-refunds without line items")
    return Line(
        "Amazon over-refund (goodwill credit)",
        account,
        transaction.amount.amount * factor,
        NO_TAX,
    )


def build_lines(
    transaction: Transaction,
    kind: str,
    factor: Decimal,
    mapping: Mapping,
    chart: Chart,
    context: PostingContext,
) -> list[Line]:
    """Return every Xero line of the document, in Amazon's order, tax lines last."""
    if not transaction.line_items:
        return [over_refund_line(transaction, mapping, chart, factor)]
    items = []
    for item in transaction.line_items:
        source = with_original_details(item, context) if kind != "CHARGE" else item
        items.append(lines_for_item(transaction, source, kind, factor, mapping, chart))
    lines = [line for entry in items for line in entry.lines]
    return lines + unreclaimable_tax_lines(items, mapping, chart)


# ---------------------------------------------------------------------------------------------
# Bodies
# ---------------------------------------------------------------------------------------------


def json_amount(amount: Decimal) -> float:
    """A 2-dp ``Decimal`` as the JSON number Xero's schema asks for (exact to the cent)."""
    quantized = amount.quantize(CENT)
    number = float(quantized)
    if Decimal(repr(number)).quantize(CENT) != quantized:  # pragma: no cover - range-checked
        raise InvariantViolation(f"{amount} does not survive conversion to a JSON number")
    return number


def line_body(line: Line) -> dict[str, Any]:
    """A Xero ``LineItem``."""
    return {
        "Description": line.description[:MAX_DESCRIPTION],
        "Quantity": line.quantity,
        "UnitAmount": json_amount(line.unit_amount),
        "LineAmount": json_amount(line.amount),
        "AccountCode": line.account_code,
        "TaxType": line.tax_type,
        "TaxAmount": json_amount(line.tax_amount),
    }


def with_transaction_id(lines: list[Line], transaction_id: str) -> list[Line]:
    """Append the Amazon transaction id to the first line's description."""
    first = lines[0]
    tagged = replace(
        first, description=f"{first.description} [Amazon transaction {transaction_id}]"
    )
    return [tagged, *lines[1:]]


def bank_reference(transaction: Transaction) -> str:
    """``"<orderId> [<orderId> ...] <transactionId>"``, at most 255 characters."""
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
    """Our page for the entry, unless absent or mentioning Xero (which Xero refuses)."""
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


def check_invariant(lines: list[Line], expected_total: Decimal, transaction_id: str) -> Decimal:
    """Return the document total; raise ``InvariantViolation`` unless it is ``expected_total``."""
    for line in lines:
        if (
            line.unit_amount * line.quantity != line.amount
            or line.unit_amount != line.unit_amount.quantize(CENT)
        ):
            raise InvariantViolation(
                f"{transaction_id}: line {line.description!r} does not multiply out"
            )
    total = sum((line.amount + line.tax_amount for line in lines), ZERO)
    if total != expected_total:
        raise InvariantViolation(
            f"{transaction_id}: lines total {total}, transaction amount {expected_total}"
        )
    return total


# ---------------------------------------------------------------------------------------------
# Translate
# ---------------------------------------------------------------------------------------------


def _translate(
    transaction: Transaction, mapping: Mapping, chart: Chart, context: PostingContext
) -> Document:
    kind = check_transaction_type(transaction)
    currency = transaction_currency(transaction)
    when = posting_date(transaction, context)
    check_line_currencies(transaction, currency)
    check_amount_precision(transaction)
    factor = sign_factor(transaction, kind)
    check_has_line_items(transaction, kind)
    if transaction.line_items:
        check_amounts_add_up(transaction, factor)
    assert transaction.amount is not None
    expected_total = abs(transaction.amount.amount)

    contact_id = require_contact(chart)
    entry = payment_method_for(transaction, mapping)
    check_currency_enabled(currency, chart)
    bank_account = None
    if entry.treatment == "spend_money":
        bank_account = bank_account_for(entry, transaction, chart)
        check_bank_account_currency(bank_account, currency, chart)
    check_lock_date(when, chart)
    invoice_number = invoice_number_for(transaction) if entry.treatment == "bill" else None

    lines = build_lines(transaction, kind, factor, mapping, chart, context)
    total = check_invariant(lines, expected_total, transaction.transaction_id)
    common: dict[str, Any] = {
        "Contact": {"ContactID": contact_id},
        "Date": when.isoformat(),
        "CurrencyCode": currency,
        "LineAmountTypes": "Exclusive",
        "Status": "AUTHORISED",
    }
    url = document_url(transaction, context)
    tid = transaction.transaction_id
    if bank_account is not None:
        spend = kind == "CHARGE"
        body = {
            "Type": "SPEND" if spend else "RECEIVE",
            "BankAccount": bank_account_ref(bank_account),
            "Reference": bank_reference(transaction),
            **common,
            "LineItems": [line_body(line) for line in lines],
        }
        if url:
            body["Url"] = url
        return Document(
            "BankTransactions",
            tid,
            body,
            "spend_money" if spend else "receive_money",
            currency,
            total,
        )
    assert invoice_number is not None
    tagged = [line_body(line) for line in with_transaction_id(lines, tid)]
    if kind == "CHARGE":
        body = {
            "Type": "ACCPAY",
            "InvoiceNumber": invoice_number,
            **common,
            "DueDate": due_date_for(invoice_number, when, mapping, context).isoformat(),
            "LineItems": tagged,
        }
        if url:
            body["Url"] = url
        return Document("Invoices", tid, body, "bill", currency, total)
    body = {
        "Type": "ACCPAYCREDIT",
        "CreditNoteNumber": invoice_number,
        **common,
        "LineItems": tagged,
    }
    return Document("CreditNotes", tid, body, "credit_note", currency, total)


def parse_failure_held(failure: ParseFailure) -> Held:
    """The held entry for a transaction Amazon sent that we could not read."""
    where = f" (transactions[{failure.position}])" if failure.position is not None else ""
    return Held(
        failure.transaction_id,
        "parse_error",
        f"Amazon sent a transaction we could not read{where}: {failure.reason}. It cannot be "
        "posted until Amazon sends it correctly; post it by hand if needed.",
    )


def translate(
    transaction: Transaction | ParseFailure,
    mapping: Mapping,
    chart: Chart,
    context: PostingContext | None = None,
) -> Document | Held:
    """Return the Xero document for one transaction, or why it is held.

    Raises ``InvariantViolation`` only on a bug in these rules (``translate_all`` turns that
    into a held ``internal_error``).
    """
    if isinstance(transaction, ParseFailure):
        return parse_failure_held(transaction)
    try:
        return _translate(transaction, mapping, chart, context or PostingContext())
    except Unpostable as held:
        return Held(transaction.transaction_id, held.code, held.reason)


def charge_line_index(
    transactions: Iterable[Transaction | ParseFailure],
) -> dict[LineKey, TransactionLineItem]:
    """Index the charge lines of ``transactions`` by (orderId, orderLineItemId)."""
    index: dict[LineKey, TransactionLineItem] = {}
    for transaction in transactions:
        if isinstance(transaction, Transaction) and transaction.transaction_type == "CHARGE":
            for item in transaction.line_items:
                if item.order_id and item.order_line_item_id:
                    index.setdefault((item.order_id, item.order_line_item_id), item)
    return index


def translate_all(
    transactions: Iterable[Transaction | ParseFailure],
    mapping: Mapping,
    chart: Chart,
    context: PostingContext | None = None,
) -> Plan:
    """Translate every transaction; each input appears exactly once in the plan. Never raises."""
    items = list(transactions)
    context = context or PostingContext()
    originals = {**charge_line_index(items), **context.original_line_items}
    context = replace(context, original_line_items=originals)
    documents: list[Document] = []
    held: list[Held] = []
    seen: set[str] = set()
    for item in items:
        tid = item.transaction_id
        if tid is not None and tid in seen:
            held.append(
                Held(
                    tid,
                    "duplicate_transaction",
                    f"Amazon transaction {tid} appears more than once in this import; only the "
                    "first copy is posted.",
                )
            )
            continue
        if tid is not None:
            seen.add(tid)
        try:
            result = translate(item, mapping, chart, context)
        except Exception as exc:  # a bug must hold one entry, not stop the run
            result = Held(
                tid,
                "internal_error",
                f"The posting rules failed on this transaction ({type(exc).__name__}: {exc}). "
                "It was not posted; please report it.",
            )
        if isinstance(result, Document):
            documents.append(result)
        else:
            held.append(result)
    return Plan(tuple(documents), tuple(held))


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


# ---------------------------------------------------------------------------------------------
# Xero formats
# ---------------------------------------------------------------------------------------------


def xero_date(value: object) -> date:
    """Parse a Xero date: ``"2026-01-31T00:00:00"``, ``"2026-01-31"``, ``"/Date(ms+0000)/"``."""
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a Xero date")
    text = value.strip()
    if text.startswith("/Date(") and text.endswith(")/"):
        inner = text[len("/Date(") : -len(")/")]
        digits = inner
        offset_minutes = 0
        for sign in ("+", "-"):
            head, sep, tail = inner[1:].partition(sign)
            if sep:
                digits = inner[0] + head
                if len(tail) != 4 or not tail.isdigit():
                    raise ValueError(f"{value!r} is not a Xero date")
                minutes = int(tail[:2]) * 60 + int(tail[2:])
                offset_minutes = minutes if sign == "+" else -minutes
                break
        if not digits.lstrip("-").isdigit():
            raise ValueError(f"{value!r} is not a Xero date")
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        moment = epoch + timedelta(milliseconds=int(digits), minutes=offset_minutes)
        return moment.date()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise ValueError(f"{value!r} is not a Xero date") from None
