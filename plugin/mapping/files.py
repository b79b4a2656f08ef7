"""The mapping file: the export format of design.md §7 ("Export mapping" downloads it, "Import
mapping" and ``flask mapping-import`` accept it, ``flask preview`` reads it). Version 2 adds
``tracking`` (``tracking_file``: tracking categories and their options); version 1 files are
still read (they have no tracking), and a version 1 file naming ``tracking`` is refused, so a
file is never half understood. Exports are version 2.

``load_mapping`` reads it through the pydantic models below and raises ``MappingFileError`` (one
line: source, JSON path, problem); ``dump_mapping`` writes it. One optional addition to §7:
``bill_due_days`` (integer 0-3650, default 30), the fallback payment terms of Pay-by-Invoice bills.

Decisions:

- Read strictly: unknown keys are errors (a typo such as ``expense_rule`` would otherwise silently
  map nothing); only ``version`` is required, every other key may be absent (an org may export a
  partial mapping; what it leaves unmapped is held when posting).
- ``last4`` ``null`` and ``""`` are the same payment method (key ``"Pay by Invoice:"``); two
  entries with the same key, or two tax rates equal as numbers (``"0.2"`` / ``"0.20"``), are
  errors. ``spend_money`` entries need ``account_code``; ``bill`` entries may carry
  ``payment_account_code`` (needed later, to pay the bill) and no ``account_code``.
- ``foreign_currency`` (optional, ``spend_money`` entries only): ``"hold"`` (the default, left
  out of exports) or ``"bill_paid_from_account"``: what a purchase in another currency than the
  account's becomes (``posting.card_bills``: a bill in the purchase's currency paid from the
  account at Xero's rate). A ``bill`` entry naming it is an error: it would mean nothing.
- A list holds at most ``MAX_ENTRIES`` (5,000) entries; the bytes are read by ``json_text``
  (the same rules for ``flask mapping-import``, ``flask preview`` and the page's upload).
- Tax rates are strings as Amazon writes them (``"0.20"``); numbers are refused so no float
  rounding creeps into a comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated
from typing import Any

from pydantic import BeforeValidator
from pydantic import Field
from pydantic import PlainValidator
from pydantic import ValidationInfo
from pydantic import field_validator

from plugin.amazon.values import parse_decimal
from plugin.mapping.json_files import Code
from plugin.mapping.json_files import FileModel
from plugin.mapping.json_files import InputFileError
from plugin.mapping.json_files import OptionalCode
from plugin.mapping.json_files import Text
from plugin.mapping.json_files import a_list_of_at_most
from plugin.mapping.json_files import choice
from plugin.mapping.json_files import code
from plugin.mapping.json_files import present
from plugin.mapping.json_files import problem
from plugin.mapping.json_files import read_model
from plugin.mapping.json_files import show
from plugin.mapping.json_files import text
from plugin.mapping.tracking_file import TrackingEntry
from plugin.mapping.tracking_file import check_tracking_entries
from plugin.mapping.tracking_file import dump_tracking
from plugin.posting import EXPENSE_RULE_FIELDS
from plugin.posting import FOREIGN_CURRENCY_OPTIONS
from plugin.posting import HOLD
from plugin.posting import SAME_AS_ITEM
from plugin.posting import TREATMENTS
from plugin.posting import UNRECLAIMABLE_TAX_OPTIONS
from plugin.posting import ExpenseRule
from plugin.posting import LineTypeAccounts
from plugin.posting import Mapping
from plugin.posting import PaymentMethodMapping
from plugin.posting import TaxRateMapping

__all__ = [
    "MAPPING_VERSION",
    "MAX_BILL_DUE_DAYS",
    "MAX_ENTRIES",
    "MappingFile",
    "MappingFileError",
    "dump_mapping",
    "load_mapping",
]

MAPPING_VERSION = 2
READ_VERSIONS = (1, 2)
MAX_BILL_DUE_DAYS = 3650
DEFAULT_BILL_DUE_DAYS = 30
MAX_ENTRIES = 5000
"""The most entries in one list (payment methods, expense rules, tax rates): far more than any
organisation maps, few enough that a 2 MiB file of empty entries is refused at once."""
ENTRIES = BeforeValidator(a_list_of_at_most(MAX_ENTRIES))


class MappingFileError(InputFileError):
    """The mapping file is malformed."""


def _version(value: object) -> int:
    present(value)
    # An integer, exactly: ``1.0`` equals 1 in Python but is not the format's version number.
    if isinstance(value, Decimal | float):  # JSON text is read with fractions as Decimal
        raise problem(
            f"should be the integer 1 or {MAPPING_VERSION}, got {show(value)} (written with a "
            "point or an exponent)"
        )
    if isinstance(value, bool) or not isinstance(value, int) or value not in READ_VERSIONS:
        raise problem(f"should be 1 or {MAPPING_VERSION}, got {show(value)}")
    return value


def _last4(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise problem(f"should be text or null, got {show(value)}")
    return value or None


def _rate(value: object) -> Decimal:
    present(value)
    if not isinstance(value, str):
        raise problem(f'should be a rate as text, like "0.20", got {show(value)}')
    try:
        rate = parse_decimal(value, "a tax rate")
    except ValueError as exc:
        raise problem(str(exc)) from None
    if not 0 <= rate < 1:
        raise problem(f'should be a fraction from 0 to 1 (20% is "0.20"), got {show(value)}')
    return rate


def _discount(value: object) -> str:
    return SAME_AS_ITEM if value in (None, SAME_AS_ITEM) else code(value)


def _bill_due_days(value: object) -> int:
    if value is None:
        return DEFAULT_BILL_DUE_DAYS
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_BILL_DUE_DAYS:
        raise problem(f"should be a whole number from 0 to {MAX_BILL_DUE_DAYS}, got {show(value)}")
    return value


UNRECLAIMABLE_TAX = choice(UNRECLAIMABLE_TAX_OPTIONS, null_is_missing=False)


def _unique(keys: Sequence[object], name: str, what: str) -> None:
    seen: dict[object, int] = {}
    for index, key in enumerate(keys):
        if key in seen:
            raise problem(f"repeats {what} of $.{name}[{seen[key]}]", at=index)
        seen[key] = index


class PaymentMethodEntry(FileModel, extra="forbid"):
    """One of ``payment_methods``."""

    instrument_type: Text = Field(alias="type")
    last4: Annotated[str | None, PlainValidator(_last4)] = None
    treatment: Annotated[str, choice(TREATMENTS)]
    account_code: OptionalCode = Field(default=None, validate_default=True)
    payment_account_code: OptionalCode = None
    foreign_currency: Annotated[str, choice(FOREIGN_CURRENCY_OPTIONS, null_is_missing=False)] = HOLD

    @field_validator("foreign_currency", mode="after")
    @classmethod
    def _foreign_currency_for_spend_money(cls, value: str, info: ValidationInfo) -> str:
        if value != HOLD and info.data.get("treatment") != "spend_money":
            raise problem("is only for spend_money payment methods (a bill is in its currency)")
        return value

    @field_validator("account_code", mode="after")
    @classmethod
    def _spend_money_needs_an_account(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("treatment") == "spend_money" and value is None:
            raise problem("is missing (spend_money needs a bank account)")
        return value

    def entry(self) -> PaymentMethodMapping:
        """Return the payment method's mapping."""
        return PaymentMethodMapping(
            instrument_type=self.instrument_type,
            last4=self.last4,
            treatment=self.treatment,
            account_code=self.account_code,
            payment_account_code=self.payment_account_code,
            foreign_currency=self.foreign_currency,
        )


class ExpenseRuleEntry(FileModel, extra="forbid"):
    """One of ``expense_rules``; ``key`` only (and always) for ``business_order_info``."""

    rule_field: Annotated[str, choice(EXPENSE_RULE_FIELDS)] = Field(alias="field")
    key: str | None = Field(default=None, validate_default=True)
    value: Text
    account_code: Code

    @field_validator("key", mode="plain")
    @classmethod
    def _key_for_business_order_info(cls, value: object, info: ValidationInfo) -> str | None:
        rule_field = info.data.get("rule_field")
        if rule_field == "business_order_info":
            return text(value)
        if value is not None and rule_field is not None:
            raise problem(f"is only used by business_order_info rules, not {rule_field}")
        return None

    def entry(self) -> ExpenseRule:
        """Return the expense rule."""
        return ExpenseRule(
            field=self.rule_field, key=self.key, value=self.value, account_code=self.account_code
        )


class TaxRateEntry(FileModel, extra="forbid"):
    """One of ``tax_rates``: an Amazon rate and its Xero tax type."""

    rate: Annotated[Decimal, PlainValidator(_rate)]
    tax_type: Text

    def entry(self) -> TaxRateMapping:
        """Return the tax rate's mapping."""
        return TaxRateMapping(rate=self.rate, tax_type=self.tax_type)


class LineTypesEntry(FileModel, extra="forbid"):
    """``line_types``: the account of each non-item line (``discount`` may be ``same_as_item``)."""

    shipping: OptionalCode = None
    gift_wrap: OptionalCode = None
    regulatory_fee: OptionalCode = None
    discount: Annotated[str, PlainValidator(_discount)] = SAME_AS_ITEM
    tax: OptionalCode = None

    def entry(self) -> LineTypeAccounts:
        """Return the line types' accounts."""
        return LineTypeAccounts(
            shipping=self.shipping,
            gift_wrap=self.gift_wrap,
            regulatory_fee=self.regulatory_fee,
            discount=self.discount,
            tax=self.tax,
        )


class MappingFile(FileModel, extra="forbid"):
    """The whole file (design.md §7, version 1 or 2)."""

    version: Annotated[int, PlainValidator(_version)]
    payment_methods: Annotated[tuple[PaymentMethodEntry, ...], ENTRIES] = ()
    expense_default_account_code: OptionalCode = None
    expense_rules: Annotated[tuple[ExpenseRuleEntry, ...], ENTRIES] = ()
    tax_rates: Annotated[tuple[TaxRateEntry, ...], ENTRIES] = ()
    unreclaimable_tax: Annotated[str, choice(UNRECLAIMABLE_TAX_OPTIONS, null_is_missing=False)] = (
        "separate_line"
    )
    line_types: LineTypesEntry | None = None
    bill_due_days: Annotated[int, PlainValidator(_bill_due_days)] = DEFAULT_BILL_DUE_DAYS
    tracking: Annotated[tuple[TrackingEntry, ...], ENTRIES] = ()

    @field_validator("tracking", mode="after")
    @classmethod
    def _tracking(
        cls, value: tuple[TrackingEntry, ...], info: ValidationInfo
    ) -> tuple[TrackingEntry, ...]:
        if value and info.data.get("version") == 1:
            raise problem(f"needs version {MAPPING_VERSION} (version 1 has no tracking)")
        return check_tracking_entries(value)

    @field_validator("payment_methods", mode="after")
    @classmethod
    def _one_entry_per_payment_method(
        cls, value: tuple[PaymentMethodEntry, ...]
    ) -> tuple[PaymentMethodEntry, ...]:
        keys = [entry.entry().key for entry in value]
        _unique(keys, "payment_methods", "the type and last4")
        return value

    @field_validator("tax_rates", mode="after")
    @classmethod
    def _one_entry_per_rate(cls, value: tuple[TaxRateEntry, ...]) -> tuple[TaxRateEntry, ...]:
        _unique([entry.rate for entry in value], "tax_rates", "the rate")
        return value

    def mapping(self) -> Mapping:
        """Return the ``posting.Mapping`` the file holds."""
        return Mapping(
            payment_methods=tuple(entry.entry() for entry in self.payment_methods),
            expense_default_account_code=self.expense_default_account_code,
            expense_rules=tuple(entry.entry() for entry in self.expense_rules),
            tax_rates=tuple(entry.entry() for entry in self.tax_rates),
            unreclaimable_tax=self.unreclaimable_tax,
            line_types=LineTypeAccounts() if self.line_types is None else self.line_types.entry(),
            bill_due_days=self.bill_due_days,
            tracking=tuple(entry.entry() for entry in self.tracking),
        )


def load_mapping(data: object, source: str) -> Mapping:
    """Read a mapping in the export format (version 1 or 2); raise ``MappingFileError`` on any
    fault."""
    return read_model(MappingFile, data, source, MappingFileError).mapping()


def dump_mapping(mapping: Mapping) -> dict[str, Any]:
    """Write ``mapping`` in the export format (version 2); ``load_mapping`` reads it back."""
    return {
        "version": MAPPING_VERSION,
        "payment_methods": [_dump_payment_method(pm) for pm in mapping.payment_methods],
        "expense_default_account_code": mapping.expense_default_account_code,
        "expense_rules": [_dump_rule(rule) for rule in mapping.expense_rules],
        "tax_rates": [
            {"rate": format(t.rate, "f"), "tax_type": t.tax_type} for t in mapping.tax_rates
        ],
        "unreclaimable_tax": mapping.unreclaimable_tax,
        "line_types": {
            "shipping": mapping.line_types.shipping,
            "gift_wrap": mapping.line_types.gift_wrap,
            "regulatory_fee": mapping.line_types.regulatory_fee,
            "discount": mapping.line_types.discount,
            "tax": mapping.line_types.tax,
        },
        "bill_due_days": mapping.bill_due_days,
        "tracking": [dump_tracking(entry) for entry in mapping.tracking],
    }


def _dump_payment_method(pm: PaymentMethodMapping) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": pm.instrument_type,
        "last4": pm.last4,
        "treatment": pm.treatment,
    }
    if pm.account_code is not None:
        entry["account_code"] = pm.account_code
    if pm.payment_account_code is not None:
        entry["payment_account_code"] = pm.payment_account_code
    if pm.foreign_currency != HOLD:
        entry["foreign_currency"] = pm.foreign_currency
    return entry


def _dump_rule(rule: ExpenseRule) -> dict[str, Any]:
    entry: dict[str, Any] = {"field": rule.field}
    if rule.key is not None:
        entry["key"] = rule.key
    entry["value"] = rule.value
    entry["account_code"] = rule.account_code
    return entry
