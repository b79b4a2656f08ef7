"""Check a mapping before it is stored: what makes it impossible or ambiguous to store, or to
export and import again. Checks against the chart are in ``mapping.chart_checks``.

PURE: a ``posting.Mapping`` in, a list of ``MappingProblem`` out (empty when it can be stored).
Paths are JSON paths into the mapping export format (design.md §7), e.g.
``$.payment_methods[1].account_code``, so the UI and ``flask mapping-import`` can point at the
field. ``storable_problems`` finds an unknown treatment or option, ``spend_money`` without an
account, two entries for one payment method or one tax rate, a repeated expense rule, empty
text, an account code longer than Xero's 10 characters, text longer than its column;
``save_mapping`` refuses these. The keys the database rows use (``rate_key``,
``expense_rule_key``) are defined here, so a mapping that passes can be stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from plugin.mapping.accounts import bank_accounts
from plugin.mapping.accounts import pick_one_of
from plugin.mapping.files import MAX_BILL_DUE_DAYS
from plugin.mapping.json_files import MAX_ACCOUNT_CODE
from plugin.posting import EXPENSE_RULE_FIELDS
from plugin.posting import FOREIGN_CURRENCY_OPTIONS
from plugin.posting import HOLD
from plugin.posting import SAME_AS_ITEM
from plugin.posting import TREATMENTS
from plugin.posting import UNRECLAIMABLE_TAX_OPTIONS
from plugin.posting import Chart
from plugin.posting import ExpenseRule
from plugin.posting import Mapping
from plugin.posting import PaymentMethodMapping

__all__ = [
    "LINE_TYPE_NAMES",
    "MAX_INSTRUMENT_TYPE",
    "MAX_KEY",
    "MAX_LAST4",
    "MappingProblem",
    "expense_rule_key",
    "payment_method_label",
    "rate_key",
    "storable_problems",
]

LINE_TYPE_NAMES: Final = ("shipping", "gift_wrap", "regulatory_fee", "discount", "tax")

MAX_KEY: Final = 255  # Mapping.key, PaymentMethod.key
MAX_INSTRUMENT_TYPE: Final = 120  # PaymentMethod.instrument_type
MAX_LAST4: Final = 8  # PaymentMethod.last4


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


def payment_method_label(pm: PaymentMethodMapping) -> str:
    """Return how messages name a payment method: "Visa ending 4242", "Pay by Invoice"."""
    return f"{pm.instrument_type} ending {pm.last4}" if pm.last4 else pm.instrument_type


def _payment_method_storable(
    mapping: Mapping, chart: Chart | None
) -> Iterable[MappingProblem | None]:
    seen: dict[str, int] = {}
    for i, pm in enumerate(mapping.payment_methods):
        path = f"$.payment_methods[{i}]"
        if pm.treatment == "spend_money" and pm.account_code is None:
            pick = (
                pick_one_of(bank_accounts(chart), "bank or credit-card account")
                if chart is not None
                else "Pick a bank or credit-card account (Type BANK)."
            )
            yield MappingProblem(
                f"{path}.account_code",
                f"is missing: spend money for {payment_method_label(pm)} needs the account it is "
                f"paid from. {pick} Or leave the payment method out to keep it unmapped.",
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
        if pm.foreign_currency not in FOREIGN_CURRENCY_OPTIONS or (
            pm.foreign_currency != HOLD and pm.treatment != "spend_money"
        ):
            yield MappingProblem(
                f"{path}.foreign_currency",
                f"is {pm.foreign_currency!r}; pick 'hold' or, for spend_money only, "
                "'bill_paid_from_account'.",
                "invalid",
            )
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
    from plugin.mapping.tracking_rows import tracking_storable  # it imports this module

    return [p for p in found if p is not None] + tracking_storable(mapping)
