"""Which accounts and tax rates of the chart fit which use, for the checks and the suggestions.

PURE: bank accounts (what spend money is paid from), expense accounts, the account types that
can never take a purchase, how 0% tax rates rank for tax that cannot be reclaimed, and the
"Pick an active ..., such as ..." sentence the checks end their messages with.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from plugin.posting import NO_TAX
from plugin.posting import Account
from plugin.posting import Chart
from plugin.posting import TaxRate

__all__ = [
    "EXPENSE_REFUSED_TYPES",
    "TYPICAL_EXPENSE_TYPES",
    "bank_accounts",
    "expense_accounts",
    "is_active",
    "pick_one_of",
    "purchase_named",
    "unreclaimable_rank",
]

EXPENSE_REFUSED_TYPES: Final = frozenset({"BANK", "REVENUE", "SALES", "OTHERINCOME", "EQUITY"})
"""Account types that can never take a purchase line (besides system accounts)."""

TYPICAL_EXPENSE_TYPES: Final = ("EXPENSE", "OVERHEADS", "DIRECTCOSTS")
"""The types offered as alternatives in messages."""

SHOWN_CHOICES: Final = 4
"""How many alternatives a message names."""

_PURCHASE_NAME: Final = re.compile(r"purchas|expense", re.IGNORECASE)
_SUPPLY_CLAIM: Final = re.compile(r"zero|exempt", re.IGNORECASE)


def is_active(account: Account) -> bool:
    """Return whether the account can be posted to (not archived or deleted)."""
    return account.status == "ACTIVE"


def bank_accounts(chart: Chart) -> list[Account]:
    """Return the ACTIVE accounts of Type BANK (bank, credit card, PayPal...), cards first."""
    banks = [a for a in chart.accounts if is_active(a) and a.type == "BANK"]
    return sorted(banks, key=lambda a: a.bank_account_type != "CREDITCARD")


def expense_accounts(chart: Chart) -> list[Account]:
    """Return the ACTIVE, non-system accounts of the usual expense types."""
    return [
        a
        for a in chart.accounts
        if is_active(a) and a.type in TYPICAL_EXPENSE_TYPES and not a.system_account
    ]


def pick_one_of(accounts: Iterable[Account], what: str) -> str:
    """Return the sentence naming a few of ``accounts`` to pick from (or saying there is none)."""
    labels = [a.label for a in accounts if a.code]
    if not labels:
        return f"There is no active {what} in Xero yet: add one in Xero, then pick it."
    shown = ", ".join(labels[:SHOWN_CHOICES])
    more = f" (or one of {len(labels) - SHOWN_CHOICES} more)" if len(labels) > SHOWN_CHOICES else ""
    return f"Pick an active {what}, such as {shown}{more}."


def purchase_named(tax_rate: TaxRate) -> bool:
    """Return whether a tax rate's name says it is for purchases or expenses."""
    return _PURCHASE_NAME.search(tax_rate.name) is not None


def unreclaimable_rank(tax_rate: TaxRate) -> int:
    """Rank a 0% expense rate for tax that cannot be reclaimed (lower is better).

    Best: named for purchases/expenses without claiming the purchase is zero-rated or exempt (US
    "Tax on Purchases"); then ``NONE`` (UK "No VAT"); then the others, those claims last.
    """
    claims_supply = _SUPPLY_CLAIM.search(tax_rate.name) is not None
    if purchase_named(tax_rate) and not claims_supply:
        return 0
    if tax_rate.tax_type == NO_TAX:
        return 1
    return 3 if claims_supply else 2
