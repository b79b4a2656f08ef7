"""Check a mapping before it is saved or imported: every problem, each saying what to pick instead.

PURE: a ``posting.Mapping`` and a ``posting.Chart`` in, a list of ``MappingProblem`` out (empty
when the mapping is fit to post with). Paths are JSON paths into the mapping export format
(design.md §7), e.g. ``$.payment_methods[1].account_code``, so the UI and ``flask mapping-import``
can point at the field.

Two levels:

- ``storable_problems(mapping)``: what makes a mapping impossible or ambiguous to store, or
  impossible to export and import again (an unknown treatment or option, ``spend_money`` without
  an account, two entries for one payment method or one tax rate, a repeated expense rule, empty
  text, an account code longer than Xero's 10 characters, text longer than its column).
  ``save_mapping`` refuses these.
- ``validate_mapping(mapping, chart)``: the above plus everything the chart decides. Posting would
  hold every transaction that used such a choice, so imports refuse them:

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

Leaving something unmapped is not a problem: a partial mapping is allowed, and what it leaves
unmapped is held when posting, with a reason saying where to map it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from plugin.mapping.files import MAX_ACCOUNT_CODE
from plugin.posting import EXPENSE_RULE_FIELDS
from plugin.posting import NO_TAX
from plugin.posting import SAME_AS_ITEM
from plugin.posting import TREATMENTS
from plugin.posting import UNRECLAIMABLE_TAX_OPTIONS
from plugin.posting import Account
from plugin.posting import Chart
from plugin.posting import ExpenseRule
from plugin.posting import Mapping
from plugin.posting import PaymentMethodMapping
from plugin.posting import TaxRate
from plugin.posting import percent_text

__all__ = [
    "EXPENSE_REFUSED_TYPES",
    "LINE_TYPE_NAMES",
    "MappingProblem",
    "expense_rule_key",
    "purchase_named",
    "rate_key",
    "storable_problems",
    "unreclaimable_rank",
    "validate_mapping",
]

EXPENSE_REFUSED_TYPES: Final = frozenset({"BANK", "REVENUE", "SALES", "OTHERINCOME", "EQUITY"})
"""Account types that can never take a purchase line (besides system accounts)."""

TYPICAL_EXPENSE_TYPES: Final = ("EXPENSE", "OVERHEADS", "DIRECTCOSTS")
"""The types offered as alternatives in messages."""

LINE_TYPE_NAMES: Final = ("shipping", "gift_wrap", "regulatory_fee", "discount", "tax")

MAX_KEY: Final = 255  # Mapping.key, PaymentMethod.key
MAX_INSTRUMENT_TYPE: Final = 120  # PaymentMethod.instrument_type
MAX_LAST4: Final = 8  # PaymentMethod.last4
MAX_BILL_DUE_DAYS: Final = 3650
_SHOWN_CHOICES: Final = 4
_PURCHASE_NAME: Final = re.compile(r"purchas|expense", re.IGNORECASE)
_SUPPLY_CLAIM: Final = re.compile(r"zero|exempt", re.IGNORECASE)

_TYPE_WORDS: Final = {
    "BANK": "a bank account",
    "REVENUE": "a revenue account",
    "SALES": "a sales account",
    "OTHERINCOME": "an other-income account",
    "EQUITY": "an equity account",
}


@dataclass(frozen=True)
class MappingProblem:
    """One problem: where (a JSON path into the export format), what to do, a stable code."""

    path: str
    message: str
    code: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


# ---------------------------------------------------------------------------------------------
# Keys shared with the database layout
# ---------------------------------------------------------------------------------------------


def rate_key(rate: Decimal) -> str:
    """Return the stored text of an Amazon rate: the Decimal's own digits, never exponent form."""
    return format(rate, "f")


def expense_rule_key(rule: ExpenseRule) -> str:
    """Return the stable JSON text identifying an expense rule (its field, key and value)."""
    return json.dumps(
        {"field": rule.field, "key": rule.key, "value": rule.value},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


# ---------------------------------------------------------------------------------------------
# Storable
# ---------------------------------------------------------------------------------------------


def _too_long(text: str | None, limit: int, path: str) -> MappingProblem | None:
    if text is not None and len(text) > limit:
        return MappingProblem(
            path, f"is {len(text)} characters long; at most {limit} can be stored.", "too_long"
        )
    return None


def _code_problem(code: str | None, path: str) -> MappingProblem | None:
    """An account code is absent (None) or non-empty text of at most 10 characters (Xero's)."""
    if code is None:
        return None
    if not code.strip():
        return MappingProblem(path, "is empty; give an account code or leave it out.", "invalid")
    return _too_long(code, MAX_ACCOUNT_CODE, path)


def _text_problem(text: str | None, path: str, what: str) -> MappingProblem | None:
    if text is None or not text.strip():
        return MappingProblem(path, f"is empty; give {what}.", "invalid")
    return None


def _label(pm: PaymentMethodMapping) -> str:
    return f"{pm.instrument_type} ending {pm.last4}" if pm.last4 else pm.instrument_type


def _payment_method_storable(
    mapping: Mapping, chart: Chart | None
) -> Iterable[MappingProblem | None]:
    seen: dict[str, int] = {}
    for i, pm in enumerate(mapping.payment_methods):
        path = f"$.payment_methods[{i}]"
        if pm.treatment == "spend_money" and pm.account_code is None:
            pick = (
                _choices(bank_accounts(chart), "bank or credit-card account")
                if chart is not None
                else "Pick a bank or credit-card account (Type BANK)."
            )
            yield MappingProblem(
                f"{path}.account_code",
                f"is missing: spend money for {_label(pm)} needs the account it is paid from. "
                f"{pick} Or leave the payment method out to keep it unmapped.",
                "unmapped_account",
            )
        if not pm.instrument_type.strip():
            yield MappingProblem(
                f"{path}.type", "is empty; give the payment type as Amazon names it.", "invalid"
            )
        if pm.treatment not in TREATMENTS:
            yield MappingProblem(
                f"{path}.treatment",
                f"is {pm.treatment!r}; pick 'spend_money' (cards and balances) or 'bill' "
                "(Pay by Invoice).",
                "invalid",
            )
        if pm.key in seen:
            yield MappingProblem(
                path,
                f"maps the same payment method as $.payment_methods[{seen[pm.key]}]; keep one.",
                "duplicate",
            )
        seen.setdefault(pm.key, i)
        yield _too_long(pm.instrument_type, MAX_INSTRUMENT_TYPE, f"{path}.type")
        yield _too_long(pm.last4, MAX_LAST4, f"{path}.last4")
        yield _too_long(pm.key, MAX_KEY, path)
        yield _code_problem(pm.account_code, f"{path}.account_code")
        yield _code_problem(pm.payment_account_code, f"{path}.payment_account_code")


def _rules_storable(mapping: Mapping) -> Iterable[MappingProblem | None]:
    seen: dict[str, int] = {}
    for i, rule in enumerate(mapping.expense_rules):
        path = f"$.expense_rules[{i}]"
        if rule.field not in EXPENSE_RULE_FIELDS:
            yield MappingProblem(
                f"{path}.field",
                f"is {rule.field!r}; pick one of {', '.join(EXPENSE_RULE_FIELDS)}.",
                "invalid",
            )
        if rule.field == "business_order_info":
            yield _text_problem(
                rule.key, f"{path}.key", "the business order info entry to match, e.g. 'GL code'"
            )
        elif rule.key is not None:
            yield MappingProblem(
                f"{path}.key",
                f"is only used by business_order_info rules, not {rule.field}; leave it out.",
                "invalid",
            )
        yield _text_problem(rule.value, f"{path}.value", "the value to match")
        key = expense_rule_key(rule)
        if key in seen:
            yield MappingProblem(
                path,
                f"repeats $.expense_rules[{seen[key]}], which always matches first; remove this "
                "one.",
                "duplicate",
            )
        seen.setdefault(key, i)
        yield _too_long(key, MAX_KEY, path)
        yield _code_problem(rule.account_code, f"{path}.account_code")


def _taxes_storable(mapping: Mapping) -> Iterable[MappingProblem | None]:
    seen: dict[Decimal, int] = {}
    for i, tax in enumerate(mapping.tax_rates):
        path = f"$.tax_rates[{i}]"
        if not 0 <= tax.rate < 1:
            yield MappingProblem(
                f"{path}.rate",
                f'is {rate_key(tax.rate)}; give a fraction from 0 to 1 (20% is "0.20").',
                "invalid",
            )
        if tax.rate in seen:  # Decimal equality: "0.2" and "0.20" are one rate
            yield MappingProblem(
                path,
                f"maps the same Amazon rate as $.tax_rates[{seen[tax.rate]}]; keep one.",
                "duplicate",
            )
        seen.setdefault(tax.rate, i)
        yield _too_long(rate_key(tax.rate), MAX_KEY, f"{path}.rate")
        yield _text_problem(tax.tax_type, f"{path}.tax_type", "a Xero tax type")
        yield _too_long(tax.tax_type, MAX_KEY, f"{path}.tax_type")


def _settings_storable(mapping: Mapping) -> Iterable[MappingProblem | None]:
    if mapping.unreclaimable_tax not in UNRECLAIMABLE_TAX_OPTIONS:
        yield MappingProblem(
            "$.unreclaimable_tax",
            f"is {mapping.unreclaimable_tax!r}; pick 'separate_line' or 'fold_into_item'.",
            "invalid",
        )
    if not 0 <= mapping.bill_due_days <= MAX_BILL_DUE_DAYS:
        yield MappingProblem(
            "$.bill_due_days",
            f"is {mapping.bill_due_days}; give a number of days from 0 to {MAX_BILL_DUE_DAYS}.",
            "invalid",
        )
    yield _code_problem(mapping.expense_default_account_code, "$.expense_default_account_code")
    for name in LINE_TYPE_NAMES:
        code = getattr(mapping.line_types, name)
        if not (name == "discount" and code == SAME_AS_ITEM):
            yield _code_problem(code, f"$.line_types.{name}")


def storable_problems(mapping: Mapping, chart: Chart | None = None) -> list[MappingProblem]:
    """Return what makes ``mapping`` impossible or ambiguous to store (no chart needed).

    Everything that passes can be exported and imported again unchanged. ``chart``, when given,
    only names accounts to pick in the messages.
    """
    found = [
        *_payment_method_storable(mapping, chart),
        *_rules_storable(mapping),
        *_taxes_storable(mapping),
        *_settings_storable(mapping),
    ]
    return [p for p in found if p is not None]


# ---------------------------------------------------------------------------------------------
# Against the chart
# ---------------------------------------------------------------------------------------------


def _choices(accounts: Iterable[Account], what: str) -> str:
    labels = [a.label for a in accounts if a.code]
    if not labels:
        return f"There is no active {what} in Xero yet: add one in Xero, then pick it."
    shown = ", ".join(labels[:_SHOWN_CHOICES])
    more = (
        f" (or one of {len(labels) - _SHOWN_CHOICES} more)" if len(labels) > _SHOWN_CHOICES else ""
    )
    return f"Pick an active {what}, such as {shown}{more}."


def _is_active(account: Account) -> bool:
    return account.status == "ACTIVE"


def bank_accounts(chart: Chart) -> list[Account]:
    """Return the ACTIVE accounts of Type BANK (bank, credit card, PayPal...), cards first."""
    banks = [a for a in chart.accounts if _is_active(a) and a.type == "BANK"]
    return sorted(banks, key=lambda a: a.bank_account_type != "CREDITCARD")


def expense_accounts(chart: Chart) -> list[Account]:
    """Return the ACTIVE, non-system accounts of the usual expense types."""
    return [
        a
        for a in chart.accounts
        if _is_active(a) and a.type in TYPICAL_EXPENSE_TYPES and not a.system_account
    ]


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
    if not _is_active(account):
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
        return _choices(bank_accounts(chart), "bank or credit-card account")

    def payable() -> list[Account]:
        found = [
            a
            for a in chart.accounts
            if _is_active(a) and (a.type == "BANK" or a.code in payments_enabled)
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
        label = _label(pm)
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
                lambda: _choices(payable(), "bank account"),
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
            lambda: _choices(expense_accounts(chart), "expense account"),
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


def _tax_choices(chart: Chart, rate: Decimal) -> str:
    usable = [t for t in chart.tax_rates if t.status == "ACTIVE" and t.can_apply_to_expenses]
    equal = [t for t in usable if t.fraction == rate]
    zero = [t for t in usable if t.effective_rate == 0]
    names = [f"{t.tax_type} {t.name}" for t in equal][:_SHOWN_CHOICES]
    if names:
        text = f"Pick a {percent_text(rate)} tax rate for expenses, such as {', '.join(names)}"
        if rate > 0 and zero:
            best = min(zero, key=unreclaimable_rank)
            text += f", or a 0% rate such as {best.tax_type} if the tax cannot be reclaimed"
        return text + "."
    if zero:
        ranked = sorted(zero, key=unreclaimable_rank)
        zero_names = ", ".join(f"{t.tax_type} {t.name}" for t in ranked[:_SHOWN_CHOICES])
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
            f"own line to this account. {_choices(expense_accounts(chart), 'expense account')} "
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
    ]
    return [p for p in found if p is not None]
