"""The mapping page's forms: each posted section becomes a ``posting.Mapping``; and the
upload of a mapping file.

The page has five sections, each saved on its own: ``payment-methods``, ``expenses``, ``taxes``,
``line-types`` and ``tracking`` (two slots, one per Xero tracking category: ``tc-<n>-<part>``;
hand mappings are lines of ``Amazon value = Xero option`` in ``tc-<n>-values``). A section's
post replaces only its part of the stored mapping; the other parts stay as stored. The fields
depend on the page (one set per payment method row, per expense rule, per Amazon tax rate), so
each section's form class is built per post by ``section_form``. Field names
(``pm-<row id>-account``, ``rule-<n>-value``, ``tax-<rate>``, ``lt-shipping``...) come from the
``*_field`` helpers here, for reading the post and for placing problems alike
(``plugin.mapping.field_errors``; the section templates spell the same names).
"""

from __future__ import annotations

from abc import ABCMeta
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any
from typing import ClassVar
from typing import Final

from flask_wtf.file import FileField
from flask_wtf.file import FileRequired
from werkzeug.datastructures import MultiDict
from wtforms import Field
from wtforms import StringField
from wtforms.form import FormMeta

from plugin.infra.forms import PostForm
from plugin.mapping.checks import LINE_TYPE_NAMES
from plugin.mapping.checks import rate_key
from plugin.models import PaymentMethod
from plugin.posting import EXPENSE_RULE_FIELDS
from plugin.posting import HOLD
from plugin.posting import MAX_TRACKING_CATEGORIES
from plugin.posting import SAME_AS_ITEM
from plugin.posting import TRACKING_SOURCES
from plugin.posting import UNRECLAIMABLE_TAX_OPTIONS
from plugin.posting import ExpenseRule
from plugin.posting import LineTypeAccounts
from plugin.posting import Mapping
from plugin.posting import PaymentMethodMapping
from plugin.posting import TaxRateMapping
from plugin.posting import TrackingMapping
from plugin.posting import TrackingValue

SECTIONS: Final = ("payment-methods", "expenses", "taxes", "line-types", "tracking")
TRACKING_PARTS: Final = ("category", "source", "key", "default", "values", "match", "create")
METHOD_PARTS: Final = ("treatment", "account", "payment_account", "foreign_currency")
RULE_PARTS: Final = ("field", "key", "value", "account")
NO_FILE: Final = "Choose a mapping file (.json) exported from this app."


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


def tracking_field(n: int | str, part: str) -> str:
    """``tc-<n>-<part>``: a part of the ``n``-th tracking category slot."""
    return f"tc-{n}-{part}"


def line_type_field(name: str) -> str:
    """Return the name of a line type's account field."""
    return f"lt-{name}"


# --- Fields ----------------------------------------------------------------------------------


def _blank_to_none(value: Any) -> str | None:
    return str(value or "").strip() or None


def _text_field() -> StringField:
    """A text or select field: trimmed, None when blank."""
    return StringField(filters=[_blank_to_none])


class ValueListField(Field):
    """Every value posted under one name, trimmed (the hidden ``pm``, ``rule`` and ``rate``
    inputs, one per row of the section)."""

    data: list[str]

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Keep them all, in order."""
        self.data = [str(value).strip() for value in valuelist]


def _rate(text: str) -> Decimal | None:
    try:
        rate = Decimal(text.strip())
    except InvalidOperation:
        return None
    return rate if rate.is_finite() else None


# --- The sections ----------------------------------------------------------------------------


class _SectionFormMeta(FormMeta, ABCMeta):
    """WTForms' form metaclass with ABC's, so ``read`` is abstract for every section form."""


class SectionForm(PostForm, metaclass=_SectionFormMeta):
    """One section of the mapping page, as posted (each section's subclass reads its fields)."""

    rows: ClassVar[tuple[PaymentMethod, ...]] = ()  # the organisation's payment methods

    @abstractmethod
    def read(self, stored: Mapping) -> SectionPost:
        """The stored mapping with this section replaced by the post, and the form's problems."""

    def acknowledged(self) -> list[int]:
        """The payment-method rows a person has now seen (only the payment methods' section)."""
        return []

    def text(self, name: str) -> str | None:
        """The trimmed value of a text field (None when blank or not posted)."""
        value = self[name].data
        return str(value) if value else None


class PaymentMethodsForm(SectionForm):
    """``pm`` (the ids of the rows the post carries) and ``pm-<id>-<part>`` per row."""

    pm = ValueListField(default=list)

    def posted_rows(self) -> list[PaymentMethod]:
        """The organisation's payment-method rows that the form carries."""
        wanted = set(self.pm.data)
        return [row for row in self.rows if str(row.id) in wanted]

    def acknowledged(self) -> list[int]:
        """The rows the form carries: a person has seen them."""
        return [int(row.id or 0) for row in self.posted_rows()]

    def _method(self, row: PaymentMethod) -> PaymentMethodMapping | None:
        treatment = self.text(method_field(row.id, "treatment"))
        if treatment is None:
            return None
        spend = treatment == "spend_money"
        account = self.text(method_field(row.id, "account")) if spend else None
        bill = treatment == "bill"
        paid_from = self.text(method_field(row.id, "payment_account")) if bill else None
        foreign = self.text(method_field(row.id, "foreign_currency")) if spend else None
        return PaymentMethodMapping(
            instrument_type=row.instrument_type,
            last4=row.last4 or None,
            treatment=treatment,
            account_code=account,
            payment_account_code=paid_from,
            foreign_currency=foreign or HOLD,
        )

    def read(self, stored: Mapping) -> SectionPost:
        """Replace the payment methods the form carries; keep the others as stored."""
        by_key = {pm.key: pm for pm in stored.payment_methods}
        errors: dict[str, str] = {}
        for row in self.posted_rows():
            entry = self._method(row)
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
        order = [row.key for row in self.rows if row.key in by_key]
        order += [key for key in by_key if key not in order]
        methods = tuple(by_key[key] for key in order)
        return SectionPost(replace(stored, payment_methods=methods), errors)


class ExpensesForm(SectionForm):
    """``expense_default``, ``rule`` (the rules' numbers) and ``rule-<n>-<part>`` per rule."""

    expense_default = _text_field()
    rule = ValueListField(default=list)

    def _rule(self, n: str) -> ExpenseRule | None:
        if self[rule_field(n, "remove")].data:
            return None
        kind = self.text(rule_field(n, "field")) or ""
        key = self.text(rule_field(n, "key"))
        value = self.text(rule_field(n, "value"))
        account = self.text(rule_field(n, "account"))
        if value is None and account is None and key is None:
            return None  # the blank "add a rule" row
        return ExpenseRule(
            field=kind,
            value=value or "",
            account_code=account or "",
            key=key if kind == "business_order_info" else None,
        )

    def read(self, stored: Mapping) -> SectionPost:
        """Replace the default expense account and the expense rules."""
        rules: list[ExpenseRule] = []
        errors: dict[str, str] = {}
        for n in self.rule.data:
            rule = self._rule(n)
            if rule is None:
                continue
            index = len(rules)  # problems point at the rule as the page shows it next
            if rule.field not in EXPENSE_RULE_FIELDS:
                errors[rule_field(index, "field")] = "Pick what this rule matches on."
            if not rule.account_code:
                errors[rule_field(index, "account")] = "Pick the account this rule posts to."
            rules.append(rule)
        mapping = replace(
            stored,
            expense_default_account_code=self.expense_default.data,
            expense_rules=tuple(rules),
        )
        return SectionPost(mapping, errors)


class TaxesForm(SectionForm):
    """``rate`` (the Amazon rates shown), ``tax-<rate>`` per rate and ``unreclaimable_tax``."""

    rate = ValueListField(default=list)
    unreclaimable_tax = _text_field()

    def read(self, stored: Mapping) -> SectionPost:
        """Replace the tax types of the rates the form carries, and the unreclaimable-tax
        setting."""
        by_rate = {tax.rate: tax for tax in stored.tax_rates}
        for rate in _rates(self.rate.data):
            tax_type = self.text(tax_field(rate))
            if tax_type is None:
                by_rate.pop(rate, None)
            else:
                by_rate[rate] = TaxRateMapping(rate, tax_type)
        choice = self.unreclaimable_tax.data or stored.unreclaimable_tax
        errors: dict[str, str] = {}
        if choice not in UNRECLAIMABLE_TAX_OPTIONS:
            errors["unreclaimable_tax"] = "Pick how tax that cannot be reclaimed is posted."
            choice = stored.unreclaimable_tax
        rates = tuple(sorted(by_rate.values(), key=lambda t: t.rate, reverse=True))
        return SectionPost(replace(stored, tax_rates=rates, unreclaimable_tax=choice), errors)


class LineTypesForm(SectionForm):
    """``lt-<name>``: the account of shipping, gift wrap, fees, discounts, unreclaimable tax."""

    def read(self, stored: Mapping) -> SectionPost:
        """Replace the accounts of shipping, gift wrap, fees, discounts and unreclaimable tax."""
        values = {name: self.text(line_type_field(name)) for name in LINE_TYPE_NAMES}
        discount = values.pop("discount") or SAME_AS_ITEM
        line_types = LineTypeAccounts(discount=discount, **values)
        return SectionPost(replace(stored, line_types=line_types))


class TrackingForm(SectionForm):
    """``tc-<n>-<part>`` for the two tracking category slots (an empty category: not used)."""

    def _values(self, n: int) -> tuple[tuple[TrackingValue, ...], int | None]:
        values: list[TrackingValue] = []
        for number, line in enumerate(
            str(self[tracking_field(n, "values")].data or "").splitlines()
        ):
            if not line.strip():
                continue
            value, equals, option = line.rpartition("=")
            if not equals or not value.strip() or not option.strip():
                return tuple(values), number + 1
            values.append(TrackingValue(value.strip(), option.strip()))
        return tuple(values), None

    def read(self, stored: Mapping) -> SectionPost:
        """Replace the tracking categories."""
        entries: list[TrackingMapping] = []
        errors: dict[str, str] = {}
        for n in range(MAX_TRACKING_CATEGORIES):
            category = self.text(tracking_field(n, "category"))
            if category is None:
                continue
            index = len(entries)  # problems point at the slot as the page shows it next
            source = self.text(tracking_field(n, "source")) or ""
            key = self.text(tracking_field(n, "key")) if source == "business_order_info" else None
            values, bad_line = self._values(n)
            if source not in TRACKING_SOURCES:
                errors[tracking_field(index, "source")] = "Pick the Amazon field feeding it."
            elif source == "business_order_info" and key is None:
                errors[tracking_field(index, "key")] = "Name the checkout field, e.g. Cost center."
            if bad_line is not None:
                errors[tracking_field(index, "values")] = (
                    f"Line {bad_line}: write one “Amazon value = Xero option” per line."
                )
            entries.append(
                TrackingMapping(
                    category=category,
                    source=source,
                    key=key,
                    values=values,
                    match_by_name=bool(self[tracking_field(n, "match")].data),
                    create_missing=bool(self[tracking_field(n, "create")].data),
                    default_option=self.text(tracking_field(n, "default")),
                )
            )
        return SectionPost(replace(stored, tracking=tuple(entries)), errors)


def _rates(texts: Sequence[str]) -> list[Decimal]:
    """The Amazon rates among posted texts (anything that is not a number is skipped)."""
    return [rate for rate in map(_rate, texts) if rate is not None]


def _fields(
    section: str, rows: Sequence[PaymentMethod], formdata: MultiDict[str, str]
) -> dict[str, Any]:
    """The section's per-row fields, for this page's rows and this post's rules and rates."""
    if section == "payment-methods":
        return {method_field(row.id, part): _text_field() for row in rows for part in METHOD_PARTS}
    if section == "expenses":
        numbers = [n.strip() for n in formdata.getlist("rule")]
        fields: dict[str, Any] = {rule_field(n, "remove"): StringField() for n in numbers}
        fields.update({rule_field(n, part): _text_field() for n in numbers for part in RULE_PARTS})
        return fields
    if section == "taxes":
        return {tax_field(rate): _text_field() for rate in _rates(formdata.getlist("rate"))}
    if section == "tracking":
        return {
            tracking_field(n, part): _text_field()
            for n in range(MAX_TRACKING_CATEGORIES)
            for part in TRACKING_PARTS
        }
    return {line_type_field(name): _text_field() for name in LINE_TYPE_NAMES}


FORMS: Final[dict[str, type[SectionForm]]] = {
    "payment-methods": PaymentMethodsForm,
    "expenses": ExpensesForm,
    "taxes": TaxesForm,
    "line-types": LineTypesForm,
    "tracking": TrackingForm,
}


def section_form(
    section: str, rows: Sequence[PaymentMethod], formdata: MultiDict[str, str]
) -> SectionForm:
    """The posted form of ``section`` (one of ``SECTIONS``), read from ``formdata``."""
    base = FORMS[section]
    attributes = {"rows": tuple(rows), **_fields(section, rows, formdata)}
    form_class = type(base.__name__, (base,), attributes)
    form: SectionForm = form_class(formdata=formdata)
    return form


class MappingFileForm(PostForm):
    """The mapping import: ``mapping_file``, a file exported from this app (design §7)."""

    mapping_file = FileField(validators=[FileRequired(message=NO_FILE)])
