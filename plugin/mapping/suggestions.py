"""Suggested mapping defaults from the org's Xero chart and what Amazon has shown us.

PURE: a ``posting.Chart``, the payment methods seen (``(paymentInstrumentType, last4)`` pairs) and
the Amazon tax rates seen in, a ``Suggestions`` out: a ``posting.Mapping`` with the suggestions
filled in, and ``suggested``, the set of ``(kind, key)`` entries that are suggestions (the same
kinds as the ``Mapping`` table rows: ``expense_default``, ``tax``, ``line_type``,
``payment_method``) so the UI can say "suggested" next to them. Given the ``current`` mapping,
only its gaps are filled; what the user chose is never replaced.

Rules (design.md §1 step 5), each its own function below:

- **Default expense account**: the first ACTIVE ``EXPENSE``/``OVERHEADS`` account whose name
  says "Office", else "Supplies", else "General" (in that order of preference, chart order within
  each); else the first ACTIVE ``EXPENSE``/``OVERHEADS`` account, else ``DIRECTCOSTS``.
- **Tax**, per Amazon rate seen: an ACTIVE expense tax type whose ``EffectiveRate`` equals it,
  preferring names that say purchases/expenses (UK 0.20 -> "20% (VAT on Expenses)"). When none
  equals it and the rate is above 0 (US sales tax, foreign VAT), the tax cannot be reclaimed: a
  0% expense type, preferring one named for purchases/expenses that does not claim the purchase
  is zero-rated or exempt (US "Tax on Purchases"), then ``NONE`` (UK "No VAT").
- **Line types**: shipping -> an expense account named like "Postage"/"Freight"/"Shipping"/
  "Delivery"/"Courier", else the default; gift wrap, regulatory fee and unreclaimable tax -> the
  default; discount -> ``same_as_item``.
- **Payment methods**: ``suggest_treatment`` picks the treatment (``bill`` when the type says
  "invoice"). A card (``spend_money`` with last4 digits) -> the ACTIVE ``BANK`` account whose name
  carries those four digits if exactly one does, else the only ACTIVE credit-card account
  (``BankAccountType`` ``CREDITCARD``) whose name names no other card's digits. Balances without
  digits (gift card, rewards) get no account: guessing a card for them would be wrong. Pay by
  Invoice -> ``bill``, paid from the first ACTIVE ``BankAccountType`` ``BANK`` account.
  ``treatments`` gives the suggested treatment of every payment method seen, mapped or not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from decimal import Decimal
from typing import Final

from plugin.amazon.models import payment_method_key
from plugin.mapping.accounts import purchase_named
from plugin.mapping.accounts import unreclaimable_rank
from plugin.mapping.checks import rate_key
from plugin.posting import SAME_AS_ITEM
from plugin.posting import Account
from plugin.posting import Chart
from plugin.posting import LineTypeAccounts
from plugin.posting import Mapping
from plugin.posting import PaymentMethodMapping
from plugin.posting import TaxRate
from plugin.posting import TaxRateMapping

__all__ = [
    "Suggestions",
    "default_expense_account",
    "instrument_label",
    "suggest_card_account",
    "suggest_mapping",
    "suggest_pbi_payment_account",
    "suggest_shipping_account",
    "suggest_tax_type",
    "suggest_treatment",
]

SuggestedEntry = tuple[str, str]
"""(kind, key) as in the ``Mapping`` table: ``("tax", "0.20")``, ``("expense_default", "")``."""

DEFAULT_NAME_PREFERENCE: Final = ("office", "supplies", "general")
SHIPPING_WORDS: Final = ("postage", "freight", "shipping", "delivery", "courier")
_FOUR_DIGITS = re.compile(r"(?<!\d)\d{4}(?!\d)")


@dataclass(frozen=True)
class Suggestions:
    """A mapping with suggestions filled in, which entries are suggestions, and treatments."""

    mapping: Mapping
    suggested: frozenset[SuggestedEntry] = frozenset()
    treatments: dict[str, str] = field(default_factory=dict)

    def is_suggested(self, kind: str, key: str = "") -> bool:
        """Return whether the entry ``(kind, key)`` was suggested rather than chosen."""
        return (kind, key) in self.suggested


# ---------------------------------------------------------------------------------------------
# Payment methods
# ---------------------------------------------------------------------------------------------


def suggest_treatment(instrument_type: str | None, last4: str | None) -> str:
    """Return ``bill`` when the payment type says invoice, else ``spend_money``.

    ``last4`` alone decides nothing: gift-card and rewards balances have no digits either and are
    spend money (design.md §4).
    """
    del last4  # part of the signature so callers need not know it is unused
    return "bill" if "invoice" in (instrument_type or "").casefold() else "spend_money"


def instrument_label(instrument_type: str | None, last4: str | None) -> str:
    """Return ``"Visa ending 4242"``, ``"Pay by Invoice"`` or ``"Gift Card Balance"``."""
    kind = (instrument_type or "").strip() or "Unnamed payment method"
    return f"{kind} ending {last4}" if last4 else kind


def _active(account: Account) -> bool:
    return account.status == "ACTIVE" and bool(account.code)


def suggest_card_account(chart: Chart, last4: str | None) -> Account | None:
    """Return the account a card ending ``last4`` most likely posts to, if the chart says so."""
    if not last4:
        return None
    banks = [a for a in chart.accounts if _active(a) and a.type == "BANK"]
    named = [a for a in banks if last4 in _FOUR_DIGITS.findall(a.name)]
    if len(named) == 1:
        return named[0]
    cards = [
        a
        for a in banks
        if a.bank_account_type == "CREDITCARD"
        and all(digits == last4 for digits in _FOUR_DIGITS.findall(a.name))
    ]
    return cards[0] if len(cards) == 1 else None


def suggest_pbi_payment_account(chart: Chart) -> Account | None:
    """Return the first ACTIVE ordinary bank account (``BankAccountType`` BANK)."""
    return next(
        (
            a
            for a in chart.accounts
            if _active(a) and a.type == "BANK" and a.bank_account_type == "BANK"
        ),
        None,
    )


def _payment_method_suggestion(
    chart: Chart, instrument_type: str, last4: str | None
) -> PaymentMethodMapping | None:
    if suggest_treatment(instrument_type, last4) == "bill":
        bank = suggest_pbi_payment_account(chart)
        return PaymentMethodMapping(
            instrument_type, last4, "bill", payment_account_code=bank.code if bank else None
        )
    card = suggest_card_account(chart, last4)
    if card is None:
        return None
    return PaymentMethodMapping(instrument_type, last4, "spend_money", account_code=card.code)


# ---------------------------------------------------------------------------------------------
# Expense accounts
# ---------------------------------------------------------------------------------------------


def _expense_like(account: Account, types: tuple[str, ...]) -> bool:
    return _active(account) and account.type in types and not account.system_account


def _named(account: Account, word: str) -> bool:
    return re.search(rf"\b{re.escape(word)}", account.name, re.IGNORECASE) is not None


def default_expense_account(chart: Chart) -> Account | None:
    """Return the suggested default expense account (see the module docstring)."""
    usual = [a for a in chart.accounts if _expense_like(a, ("EXPENSE", "OVERHEADS"))]
    for word in DEFAULT_NAME_PREFERENCE:
        match = next((a for a in usual if _named(a, word)), None)
        if match is not None:
            return match
    if usual:
        return usual[0]
    return next((a for a in chart.accounts if _expense_like(a, ("DIRECTCOSTS",))), None)


def suggest_shipping_account(chart: Chart) -> Account | None:
    """Return an expense account named for postage or freight, if the chart has one."""
    usual = [a for a in chart.accounts if _expense_like(a, ("EXPENSE", "OVERHEADS", "DIRECTCOSTS"))]
    return next((a for a in usual if any(_named(a, w) for w in SHIPPING_WORDS)), None)


# ---------------------------------------------------------------------------------------------
# Tax
# ---------------------------------------------------------------------------------------------


def _by_preference(rates: list[TaxRate], rank: dict[str, int]) -> TaxRate | None:
    ordered = sorted(enumerate(rates), key=lambda ir: (rank[ir[1].tax_type], ir[0]))
    return ordered[0][1] if ordered else None


def suggest_tax_type(chart: Chart, rate: Decimal) -> TaxRate | None:
    """Return the suggested Xero tax rate for Amazon ``rate`` (see the module docstring)."""
    usable = [t for t in chart.tax_rates if t.status == "ACTIVE" and t.can_apply_to_expenses]
    equal = [t for t in usable if t.fraction == rate]
    if equal:
        rank = {t.tax_type: 0 if purchase_named(t) else 1 for t in equal}
        return _by_preference(equal, rank)
    if rate <= 0:
        return None
    zero = [t for t in usable if t.effective_rate == 0]
    return _by_preference(zero, {t.tax_type: unreclaimable_rank(t) for t in zero})


# ---------------------------------------------------------------------------------------------
# Everything
# ---------------------------------------------------------------------------------------------


def _code(account: Account | None) -> str | None:
    return account.code if account is not None else None


def _line_types(
    current: LineTypeAccounts | None, default: str | None, shipping: str | None
) -> tuple[LineTypeAccounts, set[SuggestedEntry]]:
    wanted = {
        "shipping": shipping or default,
        "gift_wrap": default,
        "regulatory_fee": default,
        "tax": default,
    }
    base = current or LineTypeAccounts()
    changes: dict[str, str] = {}
    for name, code in wanted.items():
        if getattr(base, name) is None and code is not None:
            changes[name] = code
    suggested = {("line_type", name) for name in changes}
    if current is None:
        changes["discount"] = SAME_AS_ITEM
        suggested.add(("line_type", "discount"))
    return replace(base, **changes), suggested


def suggest_mapping(
    chart: Chart,
    payment_methods: Iterable[tuple[str, str | None]] = (),
    tax_rates_seen: Iterable[Decimal] = (),
    current: Mapping | None = None,
) -> Suggestions:
    """Return ``current`` (or an empty mapping) with its gaps filled by suggestions."""
    base = current or Mapping()
    suggested: set[SuggestedEntry] = set()

    default = base.expense_default_account_code
    if default is None:
        default = _code(default_expense_account(chart))
        if default is not None:
            suggested.add(("expense_default", ""))

    line_types, line_suggested = _line_types(
        current.line_types if current is not None else None,
        default,
        _code(suggest_shipping_account(chart)),
    )
    suggested |= line_suggested

    tax_rates = list(base.tax_rates)
    for rate in sorted(set(tax_rates_seen)):
        if base.tax_type_for(rate) is not None:
            continue
        found = suggest_tax_type(chart, rate)
        if found is not None:
            tax_rates.append(TaxRateMapping(rate, found.tax_type))
            suggested.add(("tax", rate_key(rate)))

    methods = list(base.payment_methods)
    treatments: dict[str, str] = {}
    for instrument_type, last4 in payment_methods:
        key = payment_method_key(instrument_type, last4)
        treatments[key] = suggest_treatment(instrument_type, last4)
        if any(pm.key == key for pm in methods):
            continue
        entry = _payment_method_suggestion(chart, instrument_type, last4 or None)
        if entry is not None:
            methods.append(entry)
            suggested.add(("payment_method", key))

    mapping = replace(
        base,
        payment_methods=tuple(methods),
        expense_default_account_code=default,
        tax_rates=tuple(tax_rates),
        line_types=line_types,
    )
    return Suggestions(mapping, frozenset(suggested), treatments)
