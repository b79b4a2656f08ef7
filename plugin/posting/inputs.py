"""What the rules read besides the transaction: the org's ``Mapping`` (design.md §7 export
format, version 2: version 1 plus ``bill_due_days`` and ``tracking``), its ``Chart`` as Xero
describes it (with its tracking categories), and the per-run ``PostingContext``."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import tzinfo
from decimal import Decimal
from typing import Final

from plugin.amazon.models import TransactionLineItem
from plugin.amazon.models import payment_method_key
from plugin.posting.amounts import HUNDRED
from plugin.posting.coding import Coding
from plugin.posting.legal_entities import EntityScope

SAME_AS_ITEM: Final = "same_as_item"
TREATMENTS: Final = ("spend_money", "bill")
UNRECLAIMABLE_TAX_OPTIONS: Final = ("separate_line", "fold_into_item")
HOLD: Final = "hold"
BILL_PAID_FROM_ACCOUNT: Final = "bill_paid_from_account"
FOREIGN_CURRENCY_OPTIONS: Final = (HOLD, BILL_PAID_FROM_ACCOUNT)
"""What a ``spend_money`` payment method does with a purchase in another currency than its
account's (``PaymentMethodMapping.foreign_currency``); see ``posting.card_bills``."""
EXPENSE_RULE_FIELDS: Final = (
    "business_order_info",
    "unspsc_prefix",
    "legal_entity",
    "customer_group",
)

TRACKING_SOURCES: Final = (
    "legal_entity",
    "customer_group",
    "buyer",
    "purchase_order",
    "budget_id",
    "business_order_info",
)
"""The Amazon fields a tracking category can be fed from: ``legalEntityName``,
``purchasingCustomerGroupName``, ``buyer.name`` (per transaction), and per line
``purchaseOrderNumber``, ``budgetId`` and one ``businessOrderInfo`` key."""
MAX_TRACKING_CATEGORIES: Final = 2
"""Xero allows two active tracking categories per organisation, so at most two per line."""


@dataclass(frozen=True)
class TrackingValue:
    """A hand mapping: the Amazon value ``value`` goes to the Xero option named ``option``."""

    value: str
    option: str


@dataclass(frozen=True)
class TrackingMapping:
    """Which Amazon field feeds the Xero tracking category named ``category``, and how values
    become its options (``posting.tracking``): a hand mapping first, then (``match_by_name``)
    the option of the same name, then (``create_missing``) a new option created in Xero before
    posting, then ``default_option``; otherwise the purchase is held. A line without a value
    (no purchase order number, say) takes ``default_option``, or no option of this category.

    ``key`` names the ``businessOrderInfo`` entry (e.g. ``"Cost center"``); only for that source.
    """

    category: str
    source: str
    key: str | None = None
    values: tuple[TrackingValue, ...] = ()
    match_by_name: bool = True
    create_missing: bool = False
    default_option: str | None = None

    def hand_mapped(self, value: str) -> str | None:
        """The option ``value`` is mapped to by hand (values compared trimmed, any case)."""
        wanted = value.strip().casefold()
        return next((v.option for v in self.values if v.value.strip().casefold() == wanted), None)


@dataclass(frozen=True)
class TrackingOption:
    """An option of a Xero tracking category."""

    name: str
    status: str = "ACTIVE"
    option_id: str | None = None


@dataclass(frozen=True)
class TrackingCategory:
    """A Xero tracking category with its options (archived ones included)."""

    name: str
    status: str = "ACTIVE"
    category_id: str | None = None
    options: tuple[TrackingOption, ...] = ()

    def option(self, name: str) -> TrackingOption | None:
        """The option named ``name`` (trimmed, any case, as Xero matches names)."""
        wanted = name.strip().casefold()
        return next((o for o in self.options if o.name.strip().casefold() == wanted), None)


@dataclass(frozen=True)
class PaymentMethodMapping:
    """How one payment method (``type`` + ``last4``) is posted.

    ``foreign_currency`` (``spend_money`` only): ``hold`` (the default) holds a purchase in
    another currency than the account's, since Xero records spend money only in the account's
    currency; ``bill_paid_from_account`` posts it as a bill in the purchase's currency paid at
    once from the account (``posting.card_bills``).
    """

    instrument_type: str
    last4: str | None
    treatment: str
    account_code: str | None = None
    payment_account_code: str | None = None
    foreign_currency: str = HOLD

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
    """An org's mapping (design.md §7 export format, version 2)."""

    payment_methods: tuple[PaymentMethodMapping, ...] = ()
    expense_default_account_code: str | None = None
    expense_rules: tuple[ExpenseRule, ...] = ()
    tax_rates: tuple[TaxRateMapping, ...] = ()
    unreclaimable_tax: str = "separate_line"
    line_types: LineTypeAccounts = field(default_factory=LineTypeAccounts)
    bill_due_days: int = 30
    tracking: tuple[TrackingMapping, ...] = ()

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
    """The org as Xero describes it: currency, lock dates, time zone, accounts, tax rates, the
    contact."""

    base_currency: str
    accounts: tuple[Account, ...] = ()
    tax_rates: tuple[TaxRate, ...] = ()
    currencies: frozenset[str] = frozenset()
    contact_id: str | None = None
    period_lock_date: date | None = None
    end_of_year_lock_date: date | None = None
    timezone: str | None = None  # Xero's ``Organisation.Timezone`` (Windows-style name)
    tracking_categories: tuple[TrackingCategory, ...] = ()
    # Whether Xero lets the app create tracking options (the ``accounting.settings`` scope).
    tracking_options_writable: bool = True

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

    def tracking_category(self, name: str) -> TrackingCategory | None:
        """Return the tracking category named ``name`` (trimmed, any case)."""
        wanted = name.strip().casefold()
        return next(
            (c for c in self.tracking_categories if c.name.strip().casefold() == wanted), None
        )


LineKey = tuple[str, str]
"""(``orderId``, ``orderLineItemId``): how a refund line finds its charge line."""


@dataclass(frozen=True)
class PostingContext:
    """Per-run inputs that are neither mapping nor chart.

    ``entry_url(transaction_id)`` gives our page for the ledger entry (``Url``);
    ``bill_due_dates`` maps Amazon invoice numbers to due dates from
    ``getBatchInvoicePaymentDetails``; ``original_line_items`` gives charge lines for refunds;
    ``timezone`` is the org's, for the calendar date of ``transactionDate``; ``codings`` maps
    Amazon transaction ids to the coding a bookkeeper chose in review (``posting.coding``);
    ``legal_entities`` which legal entities this organisation takes (``posting.legal_entities``;
    None: no rule, as in the preview command).
    """

    entry_url: Callable[[str], str | None] | None = None
    bill_due_dates: AbcMapping[str, date] = field(default_factory=dict)
    original_line_items: AbcMapping[LineKey, TransactionLineItem] = field(default_factory=dict)
    timezone: tzinfo | None = None
    codings: AbcMapping[str, Coding] = field(default_factory=dict)
    legal_entities: EntityScope | None = None


def url_template(template: str) -> Callable[[str], str | None]:
    """Return an ``entry_url`` filling ``{transaction_id}`` in ``template``."""
    return lambda transaction_id: template.format(transaction_id=transaction_id)
