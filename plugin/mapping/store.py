"""An organisation's mapping in the database, as a ``posting.Mapping`` and in the export format.

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
  ========================  ==============================================  ===================

  Rows of other kinds are left alone (not ours). A row of one of these kinds that cannot be read
  raises ``MappingStoreError``: posting with part of a mapping silently dropped could post to the
  wrong account.

``save_mapping`` replaces the whole mapping in one transaction: it locks the organisation row
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite serialises writers itself), updates rows in place
(so a delete and an insert of one key never meet the unique constraint in one flush), unmaps the
payment methods the new mapping leaves out (the rows stay: they record what was seen), creates
rows for payment methods not seen yet, marks mapped ones acknowledged, records an ``AuditEvent``
with the change and the mapping before and after, and commits. It returns a ``MappingChange`` so
the caller can re-evaluate held entries. Payment methods load in the order first seen (row id).

``record_payment_methods`` registers each payment method seen in Amazon data (new rows flagged
``acknowledged=False``); the suggested treatment is computed on the fly by
``suggestions.suggest_treatment``, never stored, so nothing is mapped until the user saves.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any
from typing import Final

from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.amazon.models import ParseFailure
from plugin.amazon.models import Transaction
from plugin.amazon.models import payment_method_key
from plugin.mapping.checks import LINE_TYPE_NAMES
from plugin.mapping.checks import MAX_INSTRUMENT_TYPE
from plugin.mapping.checks import MAX_KEY
from plugin.mapping.checks import MAX_LAST4
from plugin.mapping.checks import MappingProblem
from plugin.mapping.checks import expense_rule_key
from plugin.mapping.checks import rate_key
from plugin.mapping.checks import storable_problems
from plugin.mapping.checks import validate_mapping
from plugin.mapping.files import dump_mapping
from plugin.mapping.files import load_mapping as load_mapping_file
from plugin.mapping.suggestions import instrument_label
from plugin.models import AuditEvent
from plugin.models import Mapping as MappingRow
from plugin.models import Organisation
from plugin.models import PaymentMethod
from plugin.models import utcnow
from plugin.posting import SAME_AS_ITEM
from plugin.posting import Chart
from plugin.posting import ExpenseRule
from plugin.posting import LineTypeAccounts
from plugin.posting import Mapping
from plugin.posting import PaymentMethodMapping
from plugin.posting import TaxRateMapping

__all__ = [
    "MANAGED_KINDS",
    "MappingChange",
    "MappingProblem",
    "MappingRejected",
    "MappingStoreError",
    "diff_mappings",
    "export_mapping",
    "import_mapping",
    "load_mapping",
    "mapping_from_rows",
    "mapping_rows",
    "record_payment_methods",
    "save_mapping",
    "validate_mapping",
]

log = logging.getLogger(__name__)

MANAGED_KINDS: Final = ("expense_default", "expense_rule", "tax", "line_type", "setting")
SETTING_KEYS: Final = ("unreclaimable_tax", "bill_due_days")
MAX_ACTOR: Final = 255

RowKey = tuple[str, str]
"""(kind, key) of a ``Mapping`` row."""


class MappingStoreError(RuntimeError):
    """A stored mapping row cannot be read (the message names the row)."""


class MappingRejected(ValueError):
    """A mapping was refused; ``problems`` lists every reason, each with its path."""

    def __init__(self, problems: list[MappingProblem], source: str | None = None) -> None:
        self.problems = problems
        self.source = source
        where = f"{source}: " if source else ""
        count = f"{len(problems)} problem" + ("" if len(problems) == 1 else "s")
        super().__init__(f"{where}the mapping was not saved ({count})")

    def lines(self) -> list[str]:
        """Return the summary line and one line per problem (``source: path: message``)."""
        prefix = f"{self.source}: " if self.source else ""
        return [str(self), *(f"{prefix}{problem}" for problem in self.problems)]


# ---------------------------------------------------------------------------------------------
# What changed
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MappingChange:
    """What a save changed; held entries using any of it should be evaluated again."""

    before: Mapping
    after: Mapping
    payment_methods: frozenset[str]
    expense_default: bool
    expense_rules: bool
    tax_rates: frozenset[Decimal]
    line_types: frozenset[str]
    settings: frozenset[str]

    @property
    def changed(self) -> bool:
        """Return whether anything changed at all."""
        return bool(
            self.payment_methods
            or self.expense_default
            or self.expense_rules
            or self.tax_rates
            or self.line_types
            or self.settings
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the change as JSON-ready data (for the audit trail)."""
        return {
            "payment_methods": sorted(self.payment_methods),
            "expense_default": self.expense_default,
            "expense_rules": self.expense_rules,
            "tax_rates": sorted(rate_key(r) for r in self.tax_rates),
            "line_types": sorted(self.line_types),
            "settings": sorted(self.settings),
        }

    def describe(self) -> str:
        """Return one line saying what changed, for people."""
        parts = []
        if self.payment_methods:
            parts.append(f"payment methods {', '.join(sorted(self.payment_methods))}")
        if self.expense_default:
            parts.append("default expense account")
        if self.expense_rules:
            parts.append("expense rules")
        if self.tax_rates:
            parts.append(f"tax rates {', '.join(sorted(rate_key(r) for r in self.tax_rates))}")
        if self.line_types:
            parts.append(f"line types {', '.join(sorted(self.line_types))}")
        if self.settings:
            parts.append(f"settings {', '.join(sorted(self.settings))}")
        return "changed " + "; ".join(parts) if parts else "no changes"


def diff_mappings(before: Mapping, after: Mapping) -> MappingChange:
    """Return what differs between two mappings (order of payment methods does not count)."""
    keys = {pm.key for pm in before.payment_methods} | {pm.key for pm in after.payment_methods}
    rates = {t.rate for t in before.tax_rates} | {t.rate for t in after.tax_rates}
    return MappingChange(
        before=before,
        after=after,
        payment_methods=frozenset(
            k for k in keys if before.payment_method(k) != after.payment_method(k)
        ),
        expense_default=before.expense_default_account_code != after.expense_default_account_code,
        expense_rules=before.expense_rules != after.expense_rules,
        tax_rates=frozenset(r for r in rates if before.tax_type_for(r) != after.tax_type_for(r)),
        line_types=frozenset(
            n
            for n in LINE_TYPE_NAMES
            if getattr(before.line_types, n) != getattr(after.line_types, n)
        ),
        settings=frozenset(s for s in SETTING_KEYS if getattr(before, s) != getattr(after, s)),
    )


# ---------------------------------------------------------------------------------------------
# Rows <-> Mapping (pure)
# ---------------------------------------------------------------------------------------------


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
    return Mapping(
        payment_methods=tuple(
            PaymentMethodMapping(
                instrument_type=pm.instrument_type,
                last4=pm.last4 or None,
                treatment=pm.treatment,
                account_code=pm.account_code,
                payment_account_code=pm.payment_account_code,
            )
            for pm in payment_methods
            if pm.treatment
        ),
        expense_default_account_code=defaults[0].value if defaults else None,
        expense_rules=tuple(_rule_from_row(r) for r in by_kind["expense_rule"]),
        tax_rates=tuple(TaxRateMapping(_rate_from_row(r), r.value) for r in by_kind["tax"]),
        line_types=_line_types_from_rows(by_kind["line_type"]),
        **_settings_from_rows(by_kind["setting"]),
    )


# ---------------------------------------------------------------------------------------------
# Database
# ---------------------------------------------------------------------------------------------


def _payment_method_rows(session: Session, org_id: int) -> list[PaymentMethod]:
    query = (
        select(PaymentMethod)
        .where(PaymentMethod.organisation_id == org_id)
        .order_by(col(PaymentMethod.id))
    )
    return list(session.exec(query))


def _mapping_rows(session: Session, org_id: int) -> list[MappingRow]:
    query = (
        select(MappingRow)
        .where(MappingRow.organisation_id == org_id)
        .where(col(MappingRow.kind).in_(MANAGED_KINDS))
        .order_by(col(MappingRow.id))
    )
    return list(session.exec(query))


def _lock_org(session: Session, org_id: int) -> Organisation:
    org = session.exec(
        select(Organisation).where(Organisation.id == org_id).with_for_update()
    ).first()
    if org is None:
        raise LookupError(f"no organisation with id {org_id}")
    return org


def load_mapping(session: Session, org_id: int) -> Mapping:
    """Return the organisation's mapping as stored."""
    return mapping_from_rows(_payment_method_rows(session, org_id), _mapping_rows(session, org_id))


def _write_rows(session: Session, org_id: int, wanted: dict[RowKey, tuple[str, int]]) -> None:
    """Make the org's rows of our kinds exactly ``wanted``, updating in place where possible."""
    now = utcnow()
    existing = {(r.kind, r.key): r for r in _mapping_rows(session, org_id)}
    for row_key, row in existing.items():
        if row_key not in wanted:
            session.delete(row)
        elif (row.value, row.position) != wanted[row_key]:
            row.value, row.position = wanted[row_key]
            row.updated_at = now
            session.add(row)
    for (kind, key), (value, position) in wanted.items():
        if (kind, key) not in existing:
            session.add(
                MappingRow(
                    organisation_id=org_id,
                    kind=kind,
                    key=key,
                    value=value,
                    position=position,
                    updated_at=now,
                )
            )


def _write_payment_methods(
    session: Session, org_id: int, entries: tuple[PaymentMethodMapping, ...]
) -> None:
    """Map the payment methods in ``entries``, unmap the others, create the ones never seen."""
    rows = {row.key: row for row in _payment_method_rows(session, org_id)}
    wanted = {entry.key: entry for entry in entries}
    for key, row in rows.items():
        entry = wanted.get(key)
        if entry is None:
            if row.treatment or row.account_code or row.payment_account_code:
                row.treatment = row.account_code = row.payment_account_code = None
                session.add(row)
            continue
        row.treatment = entry.treatment
        row.account_code = entry.account_code
        row.payment_account_code = entry.payment_account_code
        row.acknowledged = True
        session.add(row)
    for key, entry in wanted.items():
        if key not in rows:
            session.add(
                PaymentMethod(
                    organisation_id=org_id,
                    key=key,
                    instrument_type=entry.instrument_type,
                    last4=entry.last4,
                    label=instrument_label(entry.instrument_type, entry.last4),
                    treatment=entry.treatment,
                    account_code=entry.account_code,
                    payment_account_code=entry.payment_account_code,
                    acknowledged=True,
                )
            )


def save_mapping(
    session: Session,
    org_id: int,
    mapping: Mapping,
    actor: str,
    *,
    action: str = "mapping_saved",
    detail: dict[str, Any] | None = None,
) -> MappingChange:
    """Replace the organisation's mapping with ``mapping`` in one transaction; return the change.

    Raises ``MappingRejected`` (nothing written) when the mapping cannot be stored as it is (see
    ``mapping_checks.storable_problems``); checking it against the chart is the caller's job
    (``validate_mapping``). Commits; rolls back on any error.
    """
    problems = storable_problems(mapping)
    if problems:
        raise MappingRejected(problems)
    try:
        _lock_org(session, org_id)
        try:
            before = load_mapping(session, org_id)
            unreadable = False
        except MappingStoreError:
            before, unreadable = Mapping(), True
        _write_rows(session, org_id, mapping_rows(mapping))
        _write_payment_methods(session, org_id, mapping.payment_methods)
        session.flush()
        after = load_mapping(session, org_id)
        change = diff_mappings(before, after)
        if change.changed or unreadable:
            session.add(
                AuditEvent(
                    organisation_id=org_id,
                    actor=actor[:MAX_ACTOR],
                    action=action,
                    detail={
                        **(detail or {}),
                        "changes": change.as_dict(),
                        "previous_unreadable": unreadable,
                        "before": dump_mapping(before),
                        "after": dump_mapping(after),
                    },
                )
            )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return change


def export_mapping(session: Session, org_id: int) -> dict[str, Any]:
    """Return the organisation's mapping in the export format (design.md §7, version 1)."""
    return dump_mapping(load_mapping(session, org_id))


def import_mapping(
    session: Session,
    org_id: int,
    data: object,
    source: str,
    chart: Chart,
    *,
    actor: str = "import",
    payments_enabled: Collection[str] = frozenset(),
) -> MappingChange:
    """Read, check against ``chart`` and save a mapping in the export format.

    Raises ``mapping_file.MappingFileError`` (one line) when ``data`` is not the format, and
    ``MappingRejected`` listing every problem when the chart refuses it; nothing is saved then.
    """
    mapping = load_mapping_file(data, source)
    problems = validate_mapping(mapping, chart, payments_enabled=payments_enabled)
    if problems:
        raise MappingRejected(problems, source)
    return save_mapping(
        session, org_id, mapping, actor, action="mapping_imported", detail={"source": source}
    )


def record_payment_methods(
    session: Session, org_id: int, transactions: Iterable[Transaction | ParseFailure]
) -> list[PaymentMethod]:
    """Register each payment method seen; return the rows created, in order first seen.

    New rows are unmapped and flagged (``acknowledged=False``); existing rows are not touched.
    Transactions Amazon sent without a ``paymentInstrumentType`` are skipped: there is nothing to
    name or map (posting holds them). Flushes, does not commit: the caller commits with the
    import it belongs to.
    """
    seen: dict[str, tuple[str, str | None]] = {}
    for transaction in transactions:
        if not isinstance(transaction, Transaction):
            continue
        instrument = transaction.payment_instrument_type
        if not instrument or not instrument.strip():
            continue
        last4 = transaction.payment_instrument_last4_digits or None
        key = payment_method_key(instrument, last4)
        if (
            len(key) > MAX_KEY
            or len(instrument) > MAX_INSTRUMENT_TYPE
            or len(last4 or "") > MAX_LAST4
        ):
            log.warning("payment method %.80r is too long to store; not registered", key)
            continue
        seen.setdefault(key, (instrument, last4))
    if not seen:
        return []
    _lock_org(session, org_id)
    known = {row.key for row in _payment_method_rows(session, org_id)}
    created = [
        PaymentMethod(
            organisation_id=org_id,
            key=key,
            instrument_type=instrument,
            last4=last4,
            label=instrument_label(instrument, last4),
            acknowledged=False,
        )
        for key, (instrument, last4) in seen.items()
        if key not in known
    ]
    session.add_all(created)
    session.flush()
    return created
