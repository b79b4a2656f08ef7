"""How a mapping is kept in the database, and the pure conversion between rows and Mapping.

Where each part lives (no schema of its own: ``PaymentMethod`` and ``Mapping`` rows):

- payment methods: ``PaymentMethod`` rows (``treatment``, ``account_code``,
  ``payment_account_code``); a row whose ``treatment`` is NULL is seen but not mapped. The row's
  ``key`` is ``payment_method_key(instrument_type, last4)``, as on ledger entries.
- ``Mapping`` rows, by ``kind``:

  ========================  ==============================================  ===================
  kind                      key                                             value
  ========================  ==============================================  ===================
  ``expense_default``       ``""``                                          account code
  ``expense_rule``          stable JSON of field/key/value                  account code
                            (``position`` = order; first match wins)
  ``tax``                   Amazon rate as its Decimal text (``"0.20"``),   Xero TaxType
                            compared as a Decimal
  ``line_type``             shipping/gift_wrap/regulatory_fee/discount/tax  account code (or
                                                                            ``same_as_item``)
  ``setting``               ``unreclaimable_tax``, ``bill_due_days``        the setting's text
  ``foreign_currency``      the payment method's key                        its choice, when
                                                                            not ``hold``
  ========================  ==============================================  ===================

  ``tracking``, ``tracking_default`` and ``tracking_value`` rows hold the tracking categories
  (``mapping.tracking_rows``).

  The foreign-currency choice of a payment method is a ``Mapping`` row rather than a
  ``PaymentMethod`` column: the rows are kind/key/value already, so it needs no schema change,
  and an unmapped payment method loses it with its other rows when the mapping is saved.

  Rows of other kinds are left alone (not ours). A row of one of these kinds that cannot be read
  raises ``MappingStoreError``: posting with part of a mapping silently dropped could post to the
  wrong account.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any
from typing import Final

from plugin.mapping.checks import LINE_TYPE_NAMES
from plugin.mapping.checks import expense_rule_key
from plugin.mapping.checks import rate_key
from plugin.mapping.tracking_rows import TRACKING_KINDS
from plugin.mapping.tracking_rows import tracking_from_rows
from plugin.mapping.tracking_rows import tracking_rows
from plugin.models import Mapping as MappingRow
from plugin.models import PaymentMethod
from plugin.posting import FOREIGN_CURRENCY_OPTIONS
from plugin.posting import HOLD
from plugin.posting import SAME_AS_ITEM
from plugin.posting import ExpenseRule
from plugin.posting import LineTypeAccounts
from plugin.posting import Mapping
from plugin.posting import PaymentMethodMapping
from plugin.posting import TaxRateMapping

__all__ = [
    "MANAGED_KINDS",
    "SETTING_KEYS",
    "MappingStoreError",
    "RowKey",
    "mapping_from_rows",
    "mapping_rows",
]

MANAGED_KINDS: Final = (
    "expense_default",
    "expense_rule",
    "tax",
    "line_type",
    "setting",
    "foreign_currency",
    *TRACKING_KINDS,
)
SETTING_KEYS: Final = ("unreclaimable_tax", "bill_due_days")

RowKey = tuple[str, str]
"""(kind, key) of a ``Mapping`` row."""


class MappingStoreError(RuntimeError):
    """A stored mapping row cannot be read (the message names the row)."""


def mapping_rows(mapping: Mapping) -> dict[RowKey, tuple[str, int]]:
    """Return the ``Mapping`` rows that store ``mapping``: (kind, key) -> (value, position)."""
    rows: dict[RowKey, tuple[str, int]] = {}
    if mapping.expense_default_account_code:
        rows[("expense_default", "")] = (mapping.expense_default_account_code, 0)
    for position, rule in enumerate(mapping.expense_rules):
        rows[("expense_rule", expense_rule_key(rule))] = (rule.account_code, position)
    for position, tax in enumerate(mapping.tax_rates):
        rows[("tax", rate_key(tax.rate))] = (tax.tax_type, position)
    for name in LINE_TYPE_NAMES:
        value = getattr(mapping.line_types, name)
        if value:
            rows[("line_type", name)] = (value, 0)
    rows[("setting", "unreclaimable_tax")] = (mapping.unreclaimable_tax, 0)
    rows[("setting", "bill_due_days")] = (str(mapping.bill_due_days), 0)
    for pm in mapping.payment_methods:
        if pm.foreign_currency != HOLD:
            rows[("foreign_currency", pm.key)] = (pm.foreign_currency, 0)
    rows.update(tracking_rows(mapping))
    return rows


def _row_error(row: MappingRow, problem: str) -> MappingStoreError:
    return MappingStoreError(
        f"stored mapping row {row.id} (kind {row.kind!r}, key {row.key!r}) {problem}; "
        "save the mapping again to repair it"
    )


def _rule_from_row(row: MappingRow) -> ExpenseRule:
    try:
        data = json.loads(row.key)
        rule = ExpenseRule(
            field=str(data["field"]),
            key=None if data.get("key") is None else str(data["key"]),
            value=str(data["value"]),
            account_code=row.value,
        )
    except (ValueError, KeyError, TypeError):
        raise _row_error(row, "is not an expense rule") from None
    return rule


def _rate_from_row(row: MappingRow) -> Decimal:
    try:
        rate = Decimal(row.key)
    except InvalidOperation:
        raise _row_error(row, "is not a tax rate") from None
    if not rate.is_finite():
        raise _row_error(row, "is not a tax rate")
    return rate


def _settings_from_rows(rows: list[MappingRow]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for row in rows:
        if row.key == "unreclaimable_tax":
            settings["unreclaimable_tax"] = row.value
        elif row.key == "bill_due_days":
            if not row.value.isdigit():
                raise _row_error(row, "is not a number of days")
            settings["bill_due_days"] = int(row.value)
        else:
            raise _row_error(row, "is not a setting we know")
    return settings


def _line_types_from_rows(rows: list[MappingRow]) -> LineTypeAccounts:
    values: dict[str, str] = {}
    for row in rows:
        if row.key not in LINE_TYPE_NAMES:
            raise _row_error(row, "is not a line type we know")
        values[row.key] = row.value
    values.setdefault("discount", SAME_AS_ITEM)
    return LineTypeAccounts(**values)


def mapping_from_rows(
    payment_methods: Iterable[PaymentMethod], rows: Iterable[MappingRow]
) -> Mapping:
    """Return the ``posting.Mapping`` stored in these rows (unmapped payment methods omitted)."""
    by_kind: dict[str, list[MappingRow]] = {kind: [] for kind in MANAGED_KINDS}
    for row in rows:
        if row.kind in by_kind:
            by_kind[row.kind].append(row)
    for kind_rows in by_kind.values():
        kind_rows.sort(key=lambda r: (r.position, r.id or 0))
    defaults = by_kind["expense_default"]
    foreign: dict[str, str] = {}
    for row in by_kind["foreign_currency"]:
        if row.value not in FOREIGN_CURRENCY_OPTIONS:
            raise _row_error(row, "is not a foreign-currency choice we know")
        foreign[row.key] = row.value
    return Mapping(
        payment_methods=tuple(
            PaymentMethodMapping(
                instrument_type=pm.instrument_type,
                last4=pm.last4 or None,
                treatment=pm.treatment,
                account_code=pm.account_code,
                payment_account_code=pm.payment_account_code,
                foreign_currency=foreign.get(pm.key, HOLD),
            )
            for pm in payment_methods
            if pm.treatment
        ),
        expense_default_account_code=defaults[0].value if defaults else None,
        expense_rules=tuple(_rule_from_row(r) for r in by_kind["expense_rule"]),
        tax_rates=tuple(TaxRateMapping(_rate_from_row(r), r.value) for r in by_kind["tax"]),
        line_types=_line_types_from_rows(by_kind["line_type"]),
        **_settings_from_rows(by_kind["setting"]),
        tracking=tracking_from_rows(
            [row for kind in TRACKING_KINDS for row in by_kind[kind]], MappingStoreError
        ),
    )
