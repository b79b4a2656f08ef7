"""Changing one purchase's coding in review: per Amazon line item, the account, tax rate and
tracking options the page offers (from Xero's chart: active expense accounts, active tax rates
usable on expenses, active options of active categories), what the mapping gives (the form's
starting point) and what is chosen now, and turning what was posted into a ``posting.Coding``
(a choice equal to the mapping's is not stored: the mapping keeps deciding it).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from plugin import ledger
from plugin import posting
from plugin.amazon.models import Transaction
from plugin.amazon.models import TransactionLineItem
from plugin.manage.review_list import Rules
from plugin.mapping.accounts import expense_accounts
from plugin.models import LedgerEntry
from plugin.posting.results import Unpostable

NO_OPTION: Final = ""


@dataclass(frozen=True)
class LineChoice:
    """An item's account, tax type and tracking ((category, option) pairs)."""

    account: str | None
    tax_type: str | None
    tracking: tuple[tuple[str, str], ...]

    def option_of(self, category: str) -> str:
        """The option chosen in ``category`` ("" for none)."""
        return next((o for c, o in self.tracking if c == category), NO_OPTION)


@dataclass(frozen=True)
class CodingLine:
    """One Amazon line item on the form."""

    index: int
    title: str
    amount: str
    mapped: LineChoice
    current: LineChoice


@dataclass(frozen=True)
class Choices:
    """What the selects offer: (value, label) pairs, and each category's options."""

    accounts: tuple[tuple[str, str], ...]
    tax_rates: tuple[tuple[str, str], ...]
    categories: tuple[tuple[str, tuple[str, ...]], ...]


def choices_of(chart: posting.Chart, lines: list[CodingLine] | None = None) -> Choices:
    """The accounts, tax rates and tracking options a purchase may be coded to: active expense
    accounts (as the mapping page offers them, plus the ones the lines have now), active tax
    rates usable on expenses, active options of active categories."""
    wanted = {code for line in lines or [] for code in (line.mapped.account, line.current.account)}
    accounts = tuple(
        (str(a.code), a.label)
        for a in chart.accounts
        if a.code
        and (
            a in expense_accounts(chart)
            or (a.code in wanted and a.status == "ACTIVE" and a.type != "BANK")
        )
    )
    rates = tuple(
        (t.tax_type, t.name if "%" in t.name else f"{t.name} ({t.effective_rate.normalize():f}%)")
        for t in chart.tax_rates
        if t.status == "ACTIVE" and t.can_apply_to_expenses
    )
    categories = tuple(
        (c.name, tuple(o.name for o in c.options if o.status == "ACTIVE"))
        for c in chart.tracking_categories
        if c.status == "ACTIVE"
    )[: posting.MAX_TRACKING_CATEGORIES]
    return Choices(accounts, rates, categories)


def _mapped(transaction: Transaction, item: TransactionLineItem | None, rules: Rules) -> LineChoice:
    assert rules.chart is not None
    mapping, chart = rules.mapping, rules.chart
    account: str | None = None
    tracking: tuple[tuple[str, str], ...] = ()
    try:
        if item is None:
            account = mapping.expense_default_account_code
        else:
            account = posting.expense_account_for(transaction, item, mapping, chart)
    except Unpostable:
        account = None
    try:
        tracking = tuple(
            (t.category, t.option) for t in posting.tracking_for(transaction, item, mapping, chart)
        )
    except Unpostable:
        tracking = ()
    tax_type = None
    if item is None:
        tax_type = posting.NO_TAX
    else:
        rate = item.tax_rate if item.tax_rate is not None else Decimal(0)
        tax_type = mapping.tax_type_for(rate)
    return LineChoice(account, tax_type, tracking)


def coding_lines(
    entry: LedgerEntry, rules: Rules, context: posting.PostingContext
) -> list[CodingLine]:
    """The entry's Amazon line items, each with what the mapping gives and what is chosen."""
    transaction = ledger.parsed(entry)
    if not isinstance(transaction, Transaction) or rules.chart is None:
        return []
    coding = context.codings.get(transaction.transaction_id)
    items: list[TransactionLineItem | None] = list(transaction.line_items) or [None]
    lines = []
    for index, item in enumerate(items):
        source = item
        if item is not None and transaction.transaction_type != "CHARGE":
            source = posting.with_original_details(item, context)
        mapped = _mapped(transaction, source, rules)
        chosen = coding.line(index) if coding else None
        current = LineChoice(
            (chosen.account_code if chosen else None) or mapped.account,
            (chosen.tax_type if chosen else None) or mapped.tax_type,
            chosen.tracking if chosen and chosen.tracking is not None else mapped.tracking,
        )
        title = (source.product_title if source else None) or "Amazon over-refund"
        amount = source.principal_amount.amount if source and source.principal_amount else None
        lines.append(
            CodingLine(index, title, posting.money_text(amount) if amount else "", mapped, current)
        )
    return lines


class CodingRefused(ValueError):
    """What was posted is not a coding the chart allows (a stale page, or a forged form)."""


def coding_from_choices(
    lines: list[CodingLine], posted: list[LineChoice], choices: Choices
) -> posting.Coding:
    """The coding of what was posted, line by line: a choice equal to the mapping's is left to
    the mapping (``None``). Raises ``CodingRefused`` for anything the page did not offer."""
    if len(posted) != len(lines):
        raise CodingRefused("The purchase's lines changed since the page was shown. Reload it.")
    accounts = {code for code, _ in choices.accounts}
    rates = {value for value, _ in choices.tax_rates}
    options = dict(choices.categories)
    coded: list[posting.LineCoding | None] = []
    for line, chosen in zip(lines, posted, strict=True):
        account_changed = chosen.account != line.mapped.account
        if chosen.account and account_changed and chosen.account not in accounts:
            raise CodingRefused(f"Account {chosen.account} cannot take this purchase.")
        tax_changed = chosen.tax_type != line.mapped.tax_type
        if chosen.tax_type and tax_changed and chosen.tax_type not in rates:
            raise CodingRefused(f"Tax rate {chosen.tax_type} cannot be used on expenses.")
        for category, option in chosen.tracking:
            if category not in options or option not in options[category]:
                raise CodingRefused(f"Tracking option {option!r} of {category!r} is not active.")
        account = chosen.account if chosen.account != line.mapped.account else None
        tax_type = chosen.tax_type if chosen.tax_type != line.mapped.tax_type else None
        tracking = chosen.tracking if chosen.tracking != line.mapped.tracking else None
        coded.append(posting.LineCoding(account or None, tax_type or None, tracking))
    return posting.Coding(tuple(coded))
