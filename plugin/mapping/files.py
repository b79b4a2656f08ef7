"""Read and write the preview inputs: the mapping export format, CHART.json and TX.json.

``load_mapping`` / ``dump_mapping`` read and write the mapping export format of design.md §7,
version 1 (the file "Export mapping" downloads and "Import mapping" accepts), with one optional
addition: ``bill_due_days`` (integer 0-3650, default 30), the fallback payment terms for
Pay-by-Invoice bills. ``load_chart`` reads CHART.json (the org in Xero's own JSON shapes) and
``load_transactions_file`` reads TX.json (a ``getTransactions`` response body). ``preview`` runs
the posting rules on the three and returns design.md §7's output.

Every problem is raised as an ``InputFileError`` (``MappingFileError``, ``ChartFileError``,
``TransactionsFileError``) whose message is one line: the source, the JSON path of the bad value
and what is wrong, e.g. ``MAP.json: $.payment_methods[1].treatment: must be one of 'spend_money',
'bill', got 'card'``. The ``flask preview`` command prints that line and exits 2.

Decisions:

- The mapping is read strictly: unknown keys are errors (a typo such as ``expense_rule`` would
  otherwise silently map nothing); only ``version`` is required, every other key may be absent
  (an org may export a partial mapping; what it leaves unmapped is held when posting).
- ``last4`` ``null`` and ``""`` are the same payment method (key ``"Pay by Invoice:"``);
  two entries with the same key, or two tax rates equal as numbers (``"0.2"`` / ``"0.20"``), are
  errors. ``spend_money`` entries need ``account_code``; ``bill`` entries may carry
  ``payment_account_code`` (needed later, to pay the bill) and no ``account_code``.
- Tax rates in the mapping are strings as Amazon writes them (``"0.20"``); numbers are refused
  so no float rounding creeps into a comparison.
- CHART.json: ``Organisation.BaseCurrency`` is required; lock dates may be ISO
  (``"2026-01-31T00:00:00"``, ``"2026-01-31"``) or MS-JSON (``"/Date(1769817600000+0000)/"``).
  Accounts need ``Type`` and ``Status``; tax rates need ``TaxType``, ``Status``,
  ``EffectiveRate`` and ``CanApplyToExpenses``: guessing any of them could post to an archived
  account or a wrong rate. ``Currencies`` is optional (absent: only the base currency).
  ``Contact`` is optional (absent: every transaction is held as ``missing_contact``).
- ``preview`` accepts already-decoded JSON or JSON text / bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from typing import TypeVar

from plugin.amazon.models import MalformedPage
from plugin.amazon.models import ParseFailure
from plugin.amazon.models import Transaction
from plugin.amazon.models import parse_decimal
from plugin.amazon.models import parse_transactions_page
from plugin.posting import EXPENSE_RULE_FIELDS
from plugin.posting import SAME_AS_ITEM
from plugin.posting import TREATMENTS
from plugin.posting import UNRECLAIMABLE_TAX_OPTIONS
from plugin.posting import Account
from plugin.posting import Chart
from plugin.posting import ExpenseRule
from plugin.posting import LineTypeAccounts
from plugin.posting import Mapping
from plugin.posting import PaymentMethodMapping
from plugin.posting import PostingContext
from plugin.posting import TaxRate
from plugin.posting import TaxRateMapping
from plugin.posting import translate_all
from plugin.posting import xero_date

__all__ = [
    "ChartFileError",
    "InputFileError",
    "MappingFileError",
    "TransactionsFileError",
    "dump_mapping",
    "load_chart",
    "load_mapping",
    "load_transactions_file",
    "preview",
]

MAPPING_VERSION = 1
MAX_ACCOUNT_CODE = 10
MAX_BILL_DUE_DAYS = 3650
_MAX_SHOWN = 40

T = TypeVar("T")


class InputFileError(ValueError):
    """A preview input is malformed; the message is one line naming source, place and problem."""


class MappingFileError(InputFileError):
    """The mapping file is malformed."""


class ChartFileError(InputFileError):
    """CHART.json is malformed."""


class TransactionsFileError(InputFileError):
    """TX.json is malformed."""


def _show(value: object) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, Decimal) else str(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


class _Reader:
    """Walks decoded JSON, raising ``error`` with ``source: $.path: problem``."""

    def __init__(self, source: str, error: type[InputFileError]) -> None:
        self.source = source
        self.error = error

    def fail(self, path: str, problem: str) -> InputFileError:
        return self.error(f"{self.source}: {path}: {problem}")

    def obj(self, value: object, path: str, allowed: tuple[str, ...] | None = None) -> dict:
        if not isinstance(value, dict):
            raise self.fail(path, f"should be an object, got {_show(value)}")
        if allowed is not None:
            unknown = [k for k in value if k not in allowed]
            if unknown:
                raise self.fail(
                    f"{path}.{unknown[0]}",
                    f"unknown key (allowed: {', '.join(allowed)})",
                )
        return value

    def array(self, value: object, path: str) -> list:
        if not isinstance(value, list):
            raise self.fail(path, f"should be a list, got {_show(value)}")
        return value

    def text(self, value: object, path: str, *, max_length: int | None = None) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, f"should be non-empty text, got {_show(value)}")
        if max_length is not None and len(value) > max_length:
            raise self.fail(path, f"should be at most {max_length} characters, got {_show(value)}")
        return value

    def optional(
        self, data: dict, key: str, path: str, read: Callable[[object, str], T]
    ) -> T | None:
        value = data.get(key)
        # Xero sends "" for optional fields that are not set (e.g. BankAccountType).
        return None if value is None or value == "" else read(value, f"{path}.{key}")

    def required(self, data: dict, key: str, path: str) -> object:
        if key not in data or data[key] is None:
            raise self.fail(f"{path}.{key}", "is missing")
        return data[key]

    def choice(self, value: object, path: str, options: tuple[str, ...]) -> str:
        if value not in options:
            listed = ", ".join(repr(o) for o in options)
            raise self.fail(path, f"must be one of {listed}, got {_show(value)}")
        assert isinstance(value, str)
        return value

    def integer(self, value: object, path: str, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(
                path, f"should be a whole number from {low} to {high}, got {_show(value)}"
            )
        return value

    def boolean(self, value: object, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(path, f"should be true or false, got {_show(value)}")
        return value

    def code(self, value: object, path: str) -> str:
        return self.text(value, path, max_length=MAX_ACCOUNT_CODE)


# ---------------------------------------------------------------------------------------------
# Mapping
# ---------------------------------------------------------------------------------------------

_MAPPING_KEYS = (
    "version",
    "payment_methods",
    "expense_default_account_code",
    "expense_rules",
    "tax_rates",
    "unreclaimable_tax",
    "line_types",
    "bill_due_days",
)
_PAYMENT_METHOD_KEYS = ("type", "last4", "treatment", "account_code", "payment_account_code")
_RULE_KEYS = ("field", "key", "value", "account_code")
_TAX_RATE_KEYS = ("rate", "tax_type")
_LINE_TYPE_KEYS = ("shipping", "gift_wrap", "regulatory_fee", "discount", "tax")


def _payment_method(r: _Reader, value: object, path: str) -> PaymentMethodMapping:
    data = r.obj(value, path, _PAYMENT_METHOD_KEYS)
    treatment = r.choice(r.required(data, "treatment", path), f"{path}.treatment", TREATMENTS)
    last4 = data.get("last4")
    if last4 is not None and not isinstance(last4, str):
        raise r.fail(f"{path}.last4", f"should be text or null, got {_show(last4)}")
    account_code = r.optional(data, "account_code", path, r.code)
    if treatment == "spend_money" and account_code is None:
        raise r.fail(f"{path}.account_code", "is missing (spend_money needs a bank account)")
    return PaymentMethodMapping(
        instrument_type=r.text(r.required(data, "type", path), f"{path}.type"),
        last4=last4 or None,
        treatment=treatment,
        account_code=account_code,
        payment_account_code=r.optional(data, "payment_account_code", path, r.code),
    )


def _expense_rule(r: _Reader, value: object, path: str) -> ExpenseRule:
    data = r.obj(value, path, _RULE_KEYS)
    rule_field = r.choice(r.required(data, "field", path), f"{path}.field", EXPENSE_RULE_FIELDS)
    key = None
    if rule_field == "business_order_info":
        key = r.text(r.required(data, "key", path), f"{path}.key")
    elif data.get("key") is not None:
        raise r.fail(f"{path}.key", f"is only used by business_order_info rules, not {rule_field}")
    return ExpenseRule(
        field=rule_field,
        key=key,
        value=r.text(r.required(data, "value", path), f"{path}.value"),
        account_code=r.code(r.required(data, "account_code", path), f"{path}.account_code"),
    )


def _rate_text(r: _Reader, value: object, path: str) -> Decimal:
    if not isinstance(value, str):
        raise r.fail(path, f'should be a rate as text, like "0.20", got {_show(value)}')
    try:
        rate = parse_decimal(value, "a tax rate")
    except ValueError as exc:
        raise r.fail(path, str(exc)) from None
    if not 0 <= rate < 1:
        raise r.fail(path, f'should be a fraction from 0 to 1 (20% is "0.20"), got {_show(value)}')
    return rate


def _tax_rate(r: _Reader, value: object, path: str) -> TaxRateMapping:
    data = r.obj(value, path, _TAX_RATE_KEYS)
    return TaxRateMapping(
        rate=_rate_text(r, r.required(data, "rate", path), f"{path}.rate"),
        tax_type=r.text(r.required(data, "tax_type", path), f"{path}.tax_type"),
    )


def _line_types(r: _Reader, value: object, path: str) -> LineTypeAccounts:
    data = r.obj(value, path, _LINE_TYPE_KEYS)
    discount = data.get("discount")
    return LineTypeAccounts(
        shipping=r.optional(data, "shipping", path, r.code),
        gift_wrap=r.optional(data, "gift_wrap", path, r.code),
        regulatory_fee=r.optional(data, "regulatory_fee", path, r.code),
        discount=SAME_AS_ITEM
        if discount in (None, SAME_AS_ITEM)
        else r.code(discount, f"{path}.discount"),
        tax=r.optional(data, "tax", path, r.code),
    )


def _each(
    r: _Reader, data: dict, key: str, read: Callable[[_Reader, object, str], T]
) -> tuple[T, ...]:
    value = data.get(key)
    if value is None:
        return ()
    return tuple(
        read(r, item, f"$.{key}[{i}]") for i, item in enumerate(r.array(value, f"$.{key}"))
    )


def _check_unique(r: _Reader, keys: list[object], path: str, what: str) -> None:
    seen: dict[object, int] = {}
    for index, key in enumerate(keys):
        if key in seen:
            raise r.fail(f"$.{path}[{index}]", f"repeats {what} of $.{path}[{seen[key]}]")
        seen[key] = index


def load_mapping(data: object, source: str) -> Mapping:
    """Read a mapping in the export format (version 1); raise ``MappingFileError`` on any fault."""
    r = _Reader(source, MappingFileError)
    top = r.obj(data, "$", _MAPPING_KEYS)
    version = r.required(top, "version", "$")
    if version != MAPPING_VERSION or isinstance(version, bool):
        raise r.fail("$.version", f"should be {MAPPING_VERSION}, got {_show(version)}")
    payment_methods = _each(r, top, "payment_methods", _payment_method)
    _check_unique(r, [pm.key for pm in payment_methods], "payment_methods", "the type and last4")
    tax_rates = _each(r, top, "tax_rates", _tax_rate)
    _check_unique(r, [t.rate for t in tax_rates], "tax_rates", "the rate")
    unreclaimable = top.get("unreclaimable_tax", "separate_line")
    line_types = top.get("line_types")
    due_days = top.get("bill_due_days")
    return Mapping(
        payment_methods=payment_methods,
        expense_default_account_code=r.optional(top, "expense_default_account_code", "$", r.code),
        expense_rules=_each(r, top, "expense_rules", _expense_rule),
        tax_rates=tax_rates,
        unreclaimable_tax=r.choice(unreclaimable, "$.unreclaimable_tax", UNRECLAIMABLE_TAX_OPTIONS),
        line_types=LineTypeAccounts()
        if line_types is None
        else _line_types(r, line_types, "$.line_types"),
        bill_due_days=30
        if due_days is None
        else r.integer(due_days, "$.bill_due_days", 0, MAX_BILL_DUE_DAYS),
    )


def dump_mapping(mapping: Mapping) -> dict[str, Any]:
    """Write ``mapping`` in the export format (version 1); ``load_mapping`` reads it back."""
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
    return entry


def _dump_rule(rule: ExpenseRule) -> dict[str, Any]:
    entry: dict[str, Any] = {"field": rule.field}
    if rule.key is not None:
        entry["key"] = rule.key
    entry["value"] = rule.value
    entry["account_code"] = rule.account_code
    return entry


# ---------------------------------------------------------------------------------------------
# Chart
# ---------------------------------------------------------------------------------------------


def _xero_date(r: _Reader, value: object, path: str) -> Any:
    try:
        return xero_date(value)
    except ValueError:
        raise r.fail(
            path,
            f'should be a Xero date like "2026-01-31T00:00:00" or '
            f'"/Date(1769817600000+0000)/", got {_show(value)}',
        ) from None


def _currency(r: _Reader, value: object, path: str) -> str:
    if not isinstance(value, str) or len(value) != 3 or not value.isalpha() or not value.isupper():
        raise r.fail(path, f"should be a three-letter currency code, got {_show(value)}")
    return value


def _account(r: _Reader, value: object, path: str) -> Account:
    data = r.obj(value, path)
    return Account(
        code=r.optional(data, "Code", path, r.text),
        name=r.optional(data, "Name", path, r.text) or "",
        type=r.text(r.required(data, "Type", path), f"{path}.Type"),
        status=r.text(r.required(data, "Status", path), f"{path}.Status"),
        account_id=r.optional(data, "AccountID", path, r.text),
        bank_account_type=r.optional(data, "BankAccountType", path, r.text),
        currency_code=r.optional(data, "CurrencyCode", path, lambda v, p: _currency(r, v, p)),
        system_account=r.optional(data, "SystemAccount", path, r.text),
    )


def _effective_rate(r: _Reader, value: object, path: str) -> Decimal:
    try:
        rate = parse_decimal(value, "a percentage")
    except ValueError as exc:
        raise r.fail(path, str(exc)) from None
    if not 0 <= rate <= 100:
        raise r.fail(path, f"should be a percentage from 0 to 100, got {_show(value)}")
    return rate


def _tax_rate_entry(r: _Reader, value: object, path: str) -> TaxRate:
    data = r.obj(value, path)
    tax_type = r.text(r.required(data, "TaxType", path), f"{path}.TaxType")
    return TaxRate(
        tax_type=tax_type,
        name=r.optional(data, "Name", path, r.text) or tax_type,
        status=r.text(r.required(data, "Status", path), f"{path}.Status"),
        effective_rate=_effective_rate(
            r, r.required(data, "EffectiveRate", path), f"{path}.EffectiveRate"
        ),
        can_apply_to_expenses=r.boolean(
            r.required(data, "CanApplyToExpenses", path), f"{path}.CanApplyToExpenses"
        ),
    )


def _currency_entry(r: _Reader, value: object, path: str) -> str:
    data = r.obj(value, path)
    return _currency(r, r.required(data, "Code", path), f"{path}.Code")


def load_chart(data: object, source: str) -> Chart:
    """Read CHART.json (the org in Xero's JSON shapes); raise ``ChartFileError`` on any fault."""
    r = _Reader(source, ChartFileError)
    top = r.obj(data, "$")
    org = r.obj(r.required(top, "Organisation", "$"), "$.Organisation")
    base = _currency(
        r, r.required(org, "BaseCurrency", "$.Organisation"), "$.Organisation.BaseCurrency"
    )
    contact = top.get("Contact")
    contact_id = None
    if contact is not None:
        contact_data = r.obj(contact, "$.Contact")
        contact_id = r.text(
            r.required(contact_data, "ContactID", "$.Contact"), "$.Contact.ContactID"
        )
    accounts = _each(r, top, "Accounts", _account)
    return Chart(
        base_currency=base,
        accounts=accounts,
        tax_rates=_each(r, top, "TaxRates", _tax_rate_entry),
        currencies=frozenset(_each(r, top, "Currencies", _currency_entry)) | {base},
        contact_id=contact_id,
        period_lock_date=r.optional(
            org, "PeriodLockDate", "$.Organisation", lambda v, p: _xero_date(r, v, p)
        ),
        end_of_year_lock_date=r.optional(
            org, "EndOfYearLockDate", "$.Organisation", lambda v, p: _xero_date(r, v, p)
        ),
    )


# ---------------------------------------------------------------------------------------------
# Transactions and preview
# ---------------------------------------------------------------------------------------------


def load_transactions_file(data: object, source: str) -> tuple[Transaction | ParseFailure, ...]:
    """Read TX.json (a ``getTransactions`` body): every element, parsed or failed, in order.

    Raises ``TransactionsFileError`` when the body itself is not the documented shape; a bad
    transaction inside it is a ``ParseFailure`` (held as ``parse_error``), not an error.
    """
    try:
        page = parse_transactions_page(data, source)
    except MalformedPage as exc:
        message = str(exc).removeprefix(f"{source}: ")
        raise TransactionsFileError(f"{source}: $: {message}") from None
    return page.in_order


def _decoded(data: object, source: str, error: type[InputFileError]) -> object:
    if isinstance(data, bytes | bytearray):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise error(f"{source}: $: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if isinstance(data, str):
        try:
            return json.loads(data)
        except json.JSONDecodeError as exc:
            raise error(
                f"{source}: line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg})"
            ) from None
    return data


def preview(
    tx_json: object,
    map_json: object,
    chart_json: object,
    *,
    tx_source: str = "TX.json",
    map_source: str = "MAP.json",
    chart_source: str = "CHART.json",
    context: PostingContext | None = None,
) -> dict[str, Any]:
    """Return what posting would send (design.md §7 output); raise ``InputFileError`` if malformed.

    Every input transaction appears exactly once, in ``documents`` or in ``held`` (with its
    ``code`` as well as the ``reason``), each list in input order.
    """
    transactions = load_transactions_file(
        _decoded(tx_json, tx_source, TransactionsFileError), tx_source
    )
    mapping = load_mapping(_decoded(map_json, map_source, MappingFileError), map_source)
    chart = load_chart(_decoded(chart_json, chart_source, ChartFileError), chart_source)
    plan = translate_all(transactions, mapping, chart, context)
    return {
        "documents": [
            {
                "endpoint": d.endpoint,
                "amazon_transaction_id": d.amazon_transaction_id,
                "body": d.body,
            }
            for d in plan.documents
        ],
        "held": [
            {"amazon_transaction_id": h.amazon_transaction_id, "reason": h.reason, "code": h.code}
            for h in plan.held
        ],
    }
