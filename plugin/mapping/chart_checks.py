"""Check a mapping against the organisation's chart: every problem, each saying what to pick.

PURE: a ``posting.Mapping`` and a ``posting.Chart`` in, a list of ``MappingProblem`` out (empty
when the mapping is fit to post with). ``validate_mapping`` finds the storable problems
(``mapping.checks``) plus everything the chart decides. Posting would hold every transaction that
used such a choice, so imports refuse them:

- A payment method with ``spend_money`` posts to its ``account_code``, which must exist, be
  ACTIVE and have ``Type`` ``BANK`` (bank, credit card, PayPal...).
- A ``bill`` payment method's ``payment_account_code``, when given, must exist, be ACTIVE and be
  a ``BANK`` account or one with "Enable payments to this account" (``EnablePaymentsToAccount``;
  ``posting.Account`` does not carry it, so the caller passes those codes as
  ``payments_enabled``). It may be absent: bills post without it, and only paying them waits.
- Expense accounts (default, rules, line types other than ``discount: same_as_item``) must exist
  and be ACTIVE, and must not be of a type that cannot take a purchase: ``BANK`` (money, not
  cost), ``REVENUE`` / ``SALES`` / ``OTHERINCOME`` (income), ``EQUITY``, or a Xero system
  account (accounts payable, VAT/GST, retained earnings...: ``SystemAccount`` set). Every other
  type is accepted (``EXPENSE``, ``OVERHEADS``, ``DIRECTCOSTS``, ``FIXED`` for equipment,
  ``CURRENT`` / ``INVENTORY`` / ``PREPAYMENT`` for stock and prepaid items, liabilities for
  pass-through purchases): those are legitimate bookkeeping choices, not errors.
- A tax type must exist, be ACTIVE and ``CanApplyToExpenses``, and its ``EffectiveRate`` must be
  Amazon's rate or 0% (tax that cannot be reclaimed); any other rate would hold every entry
  (``tax_rate_mismatch``).
- When some Amazon rate above 0 maps to a 0% type and ``unreclaimable_tax`` is
  ``separate_line``, the ``tax`` line type must be mapped and Xero's ``NONE`` tax type must be
  usable on expenses (posting puts that tax on its own ``NONE`` line).

- A tracking category must exist in Xero and be ACTIVE; the options it is mapped to by hand
  and its default option must exist in it and be ACTIVE (``_tracking_checked``).

Leaving something unmapped is not a problem: a partial mapping is allowed, and what it leaves
unmapped is held when posting, with a reason saying where to map it.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Iterable
from decimal import Decimal
from typing import Final

from plugin.mapping.accounts import EXPENSE_REFUSED_TYPES
from plugin.mapping.accounts import SHOWN_CHOICES
from plugin.mapping.accounts import bank_accounts
from plugin.mapping.accounts import expense_accounts
from plugin.mapping.accounts import is_active
from plugin.mapping.accounts import pick_one_of
from plugin.mapping.accounts import unreclaimable_rank
from plugin.mapping.checks import LINE_TYPE_NAMES
from plugin.mapping.checks import MappingProblem
from plugin.mapping.checks import payment_method_label
from plugin.mapping.checks import storable_problems
from plugin.posting import NO_TAX
from plugin.posting import SAME_AS_ITEM
from plugin.posting import Account
from plugin.posting import Chart
from plugin.posting import Mapping
from plugin.posting import TaxRate
from plugin.posting import percent_text

__all__ = ["validate_mapping"]

_TYPE_WORDS: Final = {
    "BANK": "a bank account",
    "REVENUE": "a revenue account",
    "SALES": "a sales account",
    "OTHERINCOME": "an other-income account",
    "EQUITY": "an equity account",
}


def _account_problem(
    code: str,
    chart: Chart,
    path: str,
    purpose: str,
    fits: Callable[[Account], str | None],
    choices: Callable[[], str],
) -> MappingProblem | None:
    """Check that ``code`` exists, is ACTIVE and ``fits`` (None, or why it does not)."""
    account = chart.account(code)
    if account is None:
        return MappingProblem(
            path,
            f"Account {code} ({purpose}) is not in the Xero chart of accounts. {choices()}",
            "unknown_account",
        )
    if not is_active(account):
        return MappingProblem(
            path,
            f"Account {account.label} ({purpose}) is {account.status.lower()} in Xero. "
            f"{choices()} Or restore it in Xero.",
            "archived_account",
        )
    why_not = fits(account)
    if why_not is not None:
        return MappingProblem(
            path,
            f"Account {account.label} ({purpose}) is {why_not}. {choices()}",
            "wrong_account_type",
        )
    return None


def _expense_fit(account: Account) -> str | None:
    if account.system_account:
        return f"a Xero system account ({account.system_account}) and cannot take purchases"
    if account.type in EXPENSE_REFUSED_TYPES:
        return f"{_TYPE_WORDS[account.type]} and cannot take purchases"
    return None


def _bank_fit(account: Account) -> str | None:
    if account.type != "BANK":
        return (
            f"of Type {account.type}; spend money needs a bank or credit-card account (Type BANK)"
        )
    return None


def _payment_methods_checked(
    mapping: Mapping, chart: Chart, payments_enabled: Collection[str]
) -> Iterable[MappingProblem | None]:
    def bank_choices() -> str:
        return pick_one_of(bank_accounts(chart), "bank or credit-card account")

    def payable() -> list[Account]:
        found = [
            a
            for a in chart.accounts
            if is_active(a) and (a.type == "BANK" or a.code in payments_enabled)
        ]
        return sorted(found, key=lambda a: a.bank_account_type != "BANK")

    def payment_fit(account: Account) -> str | None:
        if account.type == "BANK" or account.code in payments_enabled:
            return None
        return (
            f'of Type {account.type} without "Enable payments to this account" in Xero, so '
            "bills cannot be paid from it"
        )

    for i, pm in enumerate(mapping.payment_methods):
        path = f"$.payment_methods[{i}]"
        label = payment_method_label(pm)
        if pm.treatment == "spend_money" and pm.account_code:
            yield _account_problem(
                pm.account_code,
                chart,
                f"{path}.account_code",
                f"payment method {label}",
                _bank_fit,
                bank_choices,
            )
        elif pm.treatment == "bill" and pm.payment_account_code:
            yield _account_problem(
                pm.payment_account_code,
                chart,
                f"{path}.payment_account_code",
                f"paying the bills of {label}",
                payment_fit,
                lambda: pick_one_of(payable(), "bank account"),
            )


def _expense_checked(mapping: Mapping, chart: Chart) -> Iterable[MappingProblem | None]:
    def check(code: str | None, path: str, purpose: str) -> MappingProblem | None:
        if not code:
            return None
        return _account_problem(
            code,
            chart,
            path,
            purpose,
            _expense_fit,
            lambda: pick_one_of(expense_accounts(chart), "expense account"),
        )

    yield check(
        mapping.expense_default_account_code,
        "$.expense_default_account_code",
        "the default expense account",
    )
    for i, rule in enumerate(mapping.expense_rules):
        yield check(rule.account_code, f"$.expense_rules[{i}].account_code", "an expense rule")
    for name in LINE_TYPE_NAMES:
        code = getattr(mapping.line_types, name)
        if name == "discount" and code == SAME_AS_ITEM:
            continue
        yield check(code, f"$.line_types.{name}", f"{name.replace('_', ' ')} lines")


def _tax_choices(chart: Chart, rate: Decimal) -> str:
    usable = [t for t in chart.tax_rates if t.status == "ACTIVE" and t.can_apply_to_expenses]
    equal = [t for t in usable if t.fraction == rate]
    zero = [t for t in usable if t.effective_rate == 0]
    names = [f"{t.tax_type} {t.name}" for t in equal][:SHOWN_CHOICES]
    if names:
        text = f"Pick a {percent_text(rate)} tax rate for expenses, such as {', '.join(names)}"
        if rate > 0 and zero:
            best = min(zero, key=unreclaimable_rank)
            text += f", or a 0% rate such as {best.tax_type} if the tax cannot be reclaimed"
        return text + "."
    if zero:
        ranked = sorted(zero, key=unreclaimable_rank)
        zero_names = ", ".join(f"{t.tax_type} {t.name}" for t in ranked[:SHOWN_CHOICES])
        return (
            f"Xero has no active {percent_text(rate)} tax rate for expenses: pick a 0% rate "
            f"such as {zero_names} (the tax is then posted as a cost), or add the rate in Xero."
        )
    return "Xero has no active tax rate for expenses that fits: add one in Xero, then pick it."


def _tax_rate_problem(
    rate: Decimal, tax_type: str, chart: Chart, path: str
) -> MappingProblem | None:
    found = chart.tax_rate(tax_type)
    amazon = f"Amazon tax at {percent_text(rate)}"
    if found is None:
        return MappingProblem(
            path,
            f"Tax type {tax_type} ({amazon}) is not among the Xero tax rates. "
            f"{_tax_choices(chart, rate)}",
            "unknown_tax_type",
        )
    if found.status != "ACTIVE":
        return MappingProblem(
            path,
            f"Xero tax rate {found.name} ({tax_type}, for {amazon}) is {found.status.lower()}. "
            f"{_tax_choices(chart, rate)}",
            "archived_tax_rate",
        )
    if not found.can_apply_to_expenses:
        return MappingProblem(
            path,
            f"Xero tax rate {found.name} ({tax_type}, for {amazon}) cannot be used on expenses. "
            f"{_tax_choices(chart, rate)}",
            "tax_type_not_for_expenses",
        )
    if found.fraction != rate and found.effective_rate != 0:
        return MappingProblem(
            path,
            f"Xero tax rate {found.name} ({tax_type}) is {percent_text(found.fraction)}, but "
            f"it is mapped for {amazon}. {_tax_choices(chart, rate)}",
            "tax_rate_mismatch",
        )
    return None


def _unreclaimable(rate: Decimal, found: TaxRate | None) -> bool:
    return (
        found is not None
        and found.status == "ACTIVE"
        and found.can_apply_to_expenses
        and found.effective_rate == 0
        and rate > 0
    )


def _taxes_checked(mapping: Mapping, chart: Chart) -> Iterable[MappingProblem | None]:
    unreclaimable: list[Decimal] = []
    for i, tax in enumerate(mapping.tax_rates):
        yield _tax_rate_problem(tax.rate, tax.tax_type, chart, f"$.tax_rates[{i}].tax_type")
        if _unreclaimable(tax.rate, chart.tax_rate(tax.tax_type)):
            unreclaimable.append(tax.rate)
    if not unreclaimable or mapping.unreclaimable_tax != "separate_line":
        return
    rates = ", ".join(percent_text(r) for r in unreclaimable)
    if not mapping.line_types.tax:
        yield MappingProblem(
            "$.line_types.tax",
            f"is not mapped, but Amazon tax at {rates} maps to a 0% rate and is posted as its "
            f"own line to this account. {pick_one_of(expense_accounts(chart), 'expense account')} "
            "Or set unreclaimable_tax to fold_into_item.",
            "unmapped_account",
        )
    none = chart.tax_rate(NO_TAX)
    if none is None or none.status != "ACTIVE" or not none.can_apply_to_expenses:
        yield MappingProblem(
            "$.unreclaimable_tax",
            f"is separate_line, which posts the tax at {rates} on lines with Xero tax type "
            "NONE, but NONE is not usable on expenses in this organisation. Set it to "
            "fold_into_item, or reconnect Xero to refresh its tax rates.",
            "unknown_tax_type",
        )


def _tracking_checked(mapping: Mapping, chart: Chart) -> Iterable[MappingProblem | None]:
    for index, entry in enumerate(mapping.tracking):
        path = f"$.tracking[{index}]"
        category = chart.tracking_category(entry.category)
        if category is None:
            names = ", ".join(
                repr(c.name) for c in chart.tracking_categories if c.status == "ACTIVE"
            )
            yield MappingProblem(
                f"{path}.category",
                f"Xero has no tracking category {entry.category!r}"
                + (f"; pick one of {names}" if names else ""),
                "unknown_tracking_category",
            )
            continue
        if category.status != "ACTIVE":
            yield MappingProblem(
                f"{path}.category",
                f"tracking category {category.name!r} is archived in Xero",
                "archived_tracking_category",
            )
            continue
        wanted = [(f"{path}.default_option", entry.default_option)] + [
            (f"{path}.values[{n}].option", v.option) for n, v in enumerate(entry.values)
        ]
        for where, name in wanted:
            if name is None:
                continue
            option = category.option(name)
            if option is None:
                yield MappingProblem(
                    where,
                    f"{category.name!r} has no option {name!r} in Xero",
                    "unknown_tracking_option",
                )
            elif option.status != "ACTIVE":
                yield MappingProblem(
                    where,
                    f"option {option.name!r} of {category.name!r} is archived in Xero",
                    "archived_tracking_option",
                )


def validate_mapping(
    mapping: Mapping, chart: Chart, *, payments_enabled: Collection[str] = frozenset()
) -> list[MappingProblem]:
    """Return every problem of ``mapping`` against ``chart`` (empty when it is fit to post).

    ``payments_enabled`` names the accounts with ``EnablePaymentsToAccount`` (see
    ``plugin.mapping.chart.payments_enabled_codes``): they may pay bills although not of Type BANK.
    """
    found = [
        *storable_problems(mapping, chart),
        *_payment_methods_checked(mapping, chart, payments_enabled),
        *_expense_checked(mapping, chart),
        *_taxes_checked(mapping, chart),
        *_tracking_checked(mapping, chart),
    ]
    return [p for p in found if p is not None]
