"""The choices of the mapping page's selects: the chart's accounts and tax rates that fit each
use, grouped as ``<optgroup>``s (usual types first), with the current value kept visible even when
it cannot be used.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from plugin.mapping.accounts import EXPENSE_REFUSED_TYPES
from plugin.posting import Account
from plugin.posting import Chart
from plugin.posting import percent_text

__all__ = [
    "Option",
    "OptionGroup",
    "bank_choices",
    "expense_choices",
    "payable_choices",
    "tax_choices",
    "with_current",
]

TYPE_GROUPS: Final = {
    "EXPENSE": "Expenses",
    "OVERHEADS": "Overheads",
    "DIRECTCOSTS": "Direct costs",
    "FIXED": "Fixed assets",
    "CURRENT": "Current assets",
    "INVENTORY": "Inventory",
    "PREPAYMENT": "Prepayments",
    "NONCURRENT": "Non-current assets",
    "CURRLIAB": "Current liabilities",
    "LIABILITY": "Liabilities",
    "TERMLIAB": "Non-current liabilities",
}
BANK_GROUPS: Final = {"CREDITCARD": "Credit cards", "BANK": "Bank accounts"}


@dataclass(frozen=True)
class Option:
    """One choice of a select."""

    value: str
    label: str


@dataclass(frozen=True)
class OptionGroup:
    """An <optgroup>."""

    label: str
    options: tuple[Option, ...]


def _usable(account: Account) -> bool:
    return account.status == "ACTIVE" and bool(account.code)


def _account_option(account: Account, chart: Chart) -> Option:
    currency = (
        f" ({account.currency_code})"
        if account.currency_code and account.currency_code != chart.base_currency
        else ""
    )
    return Option(str(account.code), f"{account.code} · {account.name}{currency}")


def _grouped(
    accounts: Iterable[Account], chart: Chart, group_of: dict[str, str]
) -> list[OptionGroup]:
    groups: dict[str, list[Option]] = {label: [] for label in group_of.values()}
    other: list[Option] = []
    for account in accounts:
        key = account.bank_account_type if account.type == "BANK" else account.type
        label = group_of.get(key or "")
        (groups[label] if label else other).append(_account_option(account, chart))
    found = [OptionGroup(label, tuple(options)) for label, options in groups.items() if options]
    if other:
        found.append(OptionGroup("Other", tuple(other)))
    return found


def bank_choices(chart: Chart) -> list[OptionGroup]:
    """Active bank, credit-card and other money accounts (Type BANK), cards first."""
    banks = [a for a in chart.accounts if _usable(a) and a.type == "BANK"]
    return _grouped(banks, chart, BANK_GROUPS)


def payable_choices(chart: Chart, payments_enabled: frozenset[str]) -> list[OptionGroup]:
    """Accounts bills may be paid from: bank accounts, then those with payments enabled."""
    groups = _grouped(
        [a for a in chart.accounts if _usable(a) and a.type == "BANK"],
        chart,
        {"BANK": "Bank accounts", "CREDITCARD": "Credit cards"},
    )
    enabled = [
        _account_option(a, chart)
        for a in chart.accounts
        if _usable(a) and a.type != "BANK" and a.code in payments_enabled
    ]
    if enabled:
        groups.append(OptionGroup("Payments enabled", tuple(enabled)))
    return groups


def expense_choices(chart: Chart) -> list[OptionGroup]:
    """Active accounts that can take a purchase, grouped by type (usual expense types first)."""
    fitting = [
        a
        for a in chart.accounts
        if _usable(a) and not a.system_account and a.type not in EXPENSE_REFUSED_TYPES
    ]
    return _grouped(fitting, chart, TYPE_GROUPS)


def tax_choices(chart: Chart, rate: Decimal) -> list[OptionGroup]:
    """Active expense tax rates fit for Amazon ``rate``: the same rate, or 0% when above 0."""
    usable = [t for t in chart.tax_rates if t.status == "ACTIVE" and t.can_apply_to_expenses]
    same = tuple(
        Option(t.tax_type, f"{t.name} ({t.tax_type})") for t in usable if t.fraction == rate
    )
    groups = [OptionGroup(f"{percent_text(rate)}, like Amazon", same)] if same else []
    if rate > 0:
        zero = tuple(
            Option(t.tax_type, f"{t.name} ({t.tax_type})") for t in usable if t.effective_rate == 0
        )
        if zero:
            groups.append(OptionGroup("0%: the tax cannot be reclaimed", zero))
    return groups


def with_current(groups: list[OptionGroup], value: str | None, why: str) -> list[OptionGroup]:
    """Add the current value as its own group when it is not among the choices (so it shows)."""
    if not value or any(o.value == value for g in groups for o in g.options):
        return groups
    return [
        *groups,
        OptionGroup("Current choice (cannot be used)", (Option(value, f"{value}: {why}"),)),
    ]
