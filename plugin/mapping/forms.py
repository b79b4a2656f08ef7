"""Turn a posted section of the mapping page into a ``posting.Mapping``, and point problems
(JSON paths from the checks) at the form fields they are about.

The page has four sections, each saved on its own: ``payment-methods``, ``expenses``, ``taxes``
and ``line-types``. A section's post replaces only its part of the stored mapping; the other
parts stay as stored. Field names (``pm-<row id>-account``, ``rule-<n>-value``,
``tax-<rate>``, ``lt-shipping``...) are built by the ``*_field`` helpers here, for reading the
post and for placing problems alike (the section templates spell the same names).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from decimal import Decimal
from decimal import InvalidOperation
from typing import Final
from typing import Protocol

from plugin.mapping.checks import LINE_TYPE_NAMES
from plugin.mapping.checks import MappingProblem
from plugin.mapping.checks import rate_key
from plugin.models import PaymentMethod
from plugin.posting import EXPENSE_RULE_FIELDS
from plugin.posting import SAME_AS_ITEM
from plugin.posting import UNRECLAIMABLE_TAX_OPTIONS
from plugin.posting import ExpenseRule
from plugin.posting import LineTypeAccounts
from plugin.posting import Mapping
from plugin.posting import PaymentMethodMapping
from plugin.posting import TaxRateMapping

SECTIONS: Final = ("payment-methods", "expenses", "taxes", "line-types")
SECTION_PATHS: Final = {
    "payment-methods": ("$.payment_methods", "$.bill_due_days"),
    "expenses": ("$.expense_default_account_code", "$.expense_rules"),
    "taxes": ("$.tax_rates", "$.unreclaimable_tax"),
    "line-types": ("$.line_types",),
}
_PATH: Final = re.compile(r"^\$\.(\w+)(?:\[(\d+)\])?(?:\.(\w+))?")
_METHOD_PARTS: Final = {"account_code": "account", "payment_account_code": "payment_account"}
"""The part of a payment method's field for each key of the export format (else: treatment)."""
_RULE_PARTS: Final = {"field": "field", "key": "key", "value": "value", "account_code": "account"}
"""The part of an expense rule's field for each key of the export format (else: value)."""


class FormData(Protocol):
    """What we read from ``request.form`` (a werkzeug MultiDict)."""

    def get(self, key: str, default: str | None = None) -> str | None: ...

    def getlist(self, key: str) -> list[str]: ...


@dataclass
class SectionPost:
    """A posted section: the mapping to save and problems found in the form itself."""

    mapping: Mapping
    errors: dict[str, str] = field(default_factory=dict)  # field id -> message


# --- Field names -----------------------------------------------------------------------------


def rate_slug(rate: Decimal) -> str:
    """Return an id-safe spelling of an Amazon rate: ``0.20`` -> ``0-20``."""
    return rate_key(rate).replace(".", "-")


def tax_field(rate: Decimal) -> str:
    """Return the field name of the tax type for Amazon ``rate``."""
    return f"tax-{rate_slug(rate)}"


def method_field(row_id: int | None, part: str) -> str:
    """Return the name of a payment method's field: treatment, account or payment_account."""
    return f"pm-{row_id}-{part}"


def rule_field(n: int | str, part: str) -> str:
    """Return the name of the n-th expense rule's field: field, key, value, account, remove."""
    return f"rule-{n}-{part}"


def line_type_field(name: str) -> str:
    """Return the name of a line type's account field."""
    return f"lt-{name}"


def _text(form: FormData, name: str) -> str | None:
    value = (form.get(name) or "").strip()
    return value or None


# --- Payment methods -------------------------------------------------------------------------


def _posted_method(form: FormData, row: PaymentMethod) -> PaymentMethodMapping | None:
    treatment = _text(form, method_field(row.id, "treatment"))
    if treatment is None:
        return None
    account = _text(form, method_field(row.id, "account")) if treatment == "spend_money" else None
    paid_from = (
        _text(form, method_field(row.id, "payment_account")) if treatment == "bill" else None
    )
    return PaymentMethodMapping(
        instrument_type=row.instrument_type,
        last4=row.last4 or None,
        treatment=treatment,
        account_code=account,
        payment_account_code=paid_from,
    )


def posted_method_ids(form: FormData, rows: Sequence[PaymentMethod]) -> list[int]:
    """Return the ids of the org's payment-method rows that the form carries."""
    wanted = {value.strip() for value in form.getlist("pm")}
    return [int(row.id or 0) for row in rows if str(row.id) in wanted]


def read_payment_methods(
    form: FormData, stored: Mapping, rows: Sequence[PaymentMethod]
) -> SectionPost:
    """Replace the payment methods the form carries; keep the others as stored."""
    posted = set(posted_method_ids(form, rows))
    by_key = {pm.key: pm for pm in stored.payment_methods}
    errors: dict[str, str] = {}
    for row in rows:
        if row.id not in posted:
            continue
        entry = _posted_method(form, row)
        if entry is None:
            by_key.pop(row.key, None)
            continue
        by_key[row.key] = entry
        if entry.treatment == "bill" and not entry.payment_account_code:
            errors[method_field(row.id, "payment_account")] = (
                "Pick the account Pay by Invoice bills are paid from."
            )
        if entry.treatment == "spend_money" and not entry.account_code:
            errors[method_field(row.id, "account")] = (
                "Pick the bank or credit-card account this is paid from, or choose "
                "“Not mapped yet”."
            )
    order = [row.key for row in rows if row.key in by_key]
    order += [key for key in by_key if key not in order]
    methods = tuple(by_key[key] for key in order)
    return SectionPost(replace(stored, payment_methods=methods), errors)


# --- Expenses --------------------------------------------------------------------------------


def _posted_rule(form: FormData, n: str) -> ExpenseRule | None:
    if form.get(rule_field(n, "remove")):
        return None
    kind = _text(form, rule_field(n, "field")) or ""
    key = _text(form, rule_field(n, "key"))
    value = _text(form, rule_field(n, "value"))
    account = _text(form, rule_field(n, "account"))
    if value is None and account is None and key is None:
        return None  # the blank "add a rule" row
    return ExpenseRule(
        field=kind,
        value=value or "",
        account_code=account or "",
        key=key if kind == "business_order_info" else None,
    )


def read_expenses(form: FormData, stored: Mapping) -> SectionPost:
    """Replace the default expense account and the expense rules."""
    rules: list[ExpenseRule] = []
    errors: dict[str, str] = {}
    for n in form.getlist("rule"):
        rule = _posted_rule(form, n.strip())
        if rule is None:
            continue
        index = len(rules)
        if rule.field not in EXPENSE_RULE_FIELDS:
            errors[rule_field(index, "field")] = "Pick what this rule matches on."
        if not rule.account_code:
            errors[rule_field(index, "account")] = "Pick the account this rule posts to."
        rules.append(rule)
    mapping = replace(
        stored,
        expense_default_account_code=_text(form, "expense_default"),
        expense_rules=tuple(rules),
    )
    return SectionPost(mapping, errors)


# --- Taxes -----------------------------------------------------------------------------------


def _rate(text: str) -> Decimal | None:
    try:
        rate = Decimal(text.strip())
    except InvalidOperation:
        return None
    return rate if rate.is_finite() else None


def read_taxes(form: FormData, stored: Mapping) -> SectionPost:
    """Replace the tax types of the rates the form carries, and the unreclaimable-tax setting."""
    by_rate = {tax.rate: tax for tax in stored.tax_rates}
    for text in form.getlist("rate"):
        rate = _rate(text)
        if rate is None:
            continue
        tax_type = _text(form, tax_field(rate))
        if tax_type is None:
            by_rate.pop(rate, None)
        else:
            by_rate[rate] = TaxRateMapping(rate, tax_type)
    choice = _text(form, "unreclaimable_tax") or stored.unreclaimable_tax
    errors: dict[str, str] = {}
    if choice not in UNRECLAIMABLE_TAX_OPTIONS:
        errors["unreclaimable_tax"] = "Pick how tax that cannot be reclaimed is posted."
        choice = stored.unreclaimable_tax
    rates = tuple(sorted(by_rate.values(), key=lambda t: t.rate, reverse=True))
    return SectionPost(replace(stored, tax_rates=rates, unreclaimable_tax=choice), errors)


# --- Line types ------------------------------------------------------------------------------


def read_line_types(form: FormData, stored: Mapping) -> SectionPost:
    """Replace the accounts of shipping, gift wrap, fees, discounts and unreclaimable tax."""
    values = {name: _text(form, line_type_field(name)) for name in LINE_TYPE_NAMES}
    discount = values.pop("discount") or SAME_AS_ITEM
    line_types = LineTypeAccounts(discount=discount, **values)
    return SectionPost(replace(stored, line_types=line_types))


# --- Problems -> fields ----------------------------------------------------------------------


def in_section(problem: MappingProblem, section: str) -> bool:
    """Return whether a problem is about a field of ``section``."""
    return problem.path.startswith(SECTION_PATHS[section])


def field_for(path: str, mapping: Mapping, rows: Sequence[PaymentMethod]) -> str | None:
    """Return the id of the form field a problem's JSON path points at (None: the section)."""
    match = _PATH.match(path)
    if match is None:
        return None
    part, index, leaf = match.group(1), match.group(2), match.group(3)
    if part == "payment_methods" and index is not None:
        return _payment_method_field(int(index), leaf, mapping, rows)
    if part == "expense_rules" and index is not None:
        return rule_field(index, _RULE_PARTS.get(leaf or "", "value"))
    if part == "tax_rates" and index is not None and int(index) < len(mapping.tax_rates):
        return tax_field(mapping.tax_rates[int(index)].rate)
    if part == "line_types" and leaf:
        return line_type_field(leaf)
    simple = {"expense_default_account_code": "expense_default"}
    return simple.get(part, part if part == "unreclaimable_tax" else None)


def _payment_method_field(
    index: int, leaf: str | None, mapping: Mapping, rows: Sequence[PaymentMethod]
) -> str | None:
    if index >= len(mapping.payment_methods):
        return None
    key = mapping.payment_methods[index].key
    row = next((r for r in rows if r.key == key), None)
    if row is None:
        return None
    return method_field(row.id, _METHOD_PARTS.get(leaf or "", "treatment"))


def errors_for(
    problems: Sequence[MappingProblem],
    section: str,
    mapping: Mapping,
    rows: Sequence[PaymentMethod],
) -> tuple[dict[str, str], list[str]]:
    """Return (field id -> message, messages about the section as a whole) for ``section``."""
    fields: dict[str, str] = {}
    general: list[str] = []
    for problem in problems:
        if not in_section(problem, section):
            continue
        where = field_for(problem.path, mapping, rows)
        if where is None:
            general.append(problem.message)
        else:
            fields[where] = (
                f"{fields[where]} {problem.message}" if where in fields else (problem.message)
            )
    return fields, general
