"""An organisation's mapping in the database: load, save, export, import, and the payment methods
seen. How each part is kept in rows is ``mapping.rows``.

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

import logging
from collections.abc import Collection
from collections.abc import Iterable
from typing import Any
from typing import Final

from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.amazon.models import ParseFailure
from plugin.amazon.models import Transaction
from plugin.amazon.models import payment_method_key
from plugin.mapping.changes import MappingChange
from plugin.mapping.changes import diff_mappings
from plugin.mapping.chart_checks import validate_mapping
from plugin.mapping.checks import MAX_INSTRUMENT_TYPE
from plugin.mapping.checks import MAX_KEY
from plugin.mapping.checks import MAX_LAST4
from plugin.mapping.checks import MappingProblem
from plugin.mapping.checks import storable_problems
from plugin.mapping.files import dump_mapping
from plugin.mapping.files import load_mapping as load_mapping_file
from plugin.mapping.rows import MANAGED_KINDS
from plugin.mapping.rows import MappingStoreError
from plugin.mapping.rows import RowKey
from plugin.mapping.rows import mapping_from_rows
from plugin.mapping.rows import mapping_rows
from plugin.mapping.suggestions import instrument_label
from plugin.models import AuditEvent
from plugin.models import Mapping as MappingRow
from plugin.models import Organisation
from plugin.models import PaymentMethod
from plugin.models import utcnow
from plugin.posting import Chart
from plugin.posting import Mapping
from plugin.posting import PaymentMethodMapping

__all__ = [
    "MappingRejected",
    "export_mapping",
    "import_mapping",
    "load_mapping",
    "payment_method_rows",
    "record_payment_methods",
    "save_mapping",
]

log = logging.getLogger(__name__)

MAX_ACTOR: Final = 255


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


def payment_method_rows(session: Session, org_id: int) -> list[PaymentMethod]:
    """Return the org's payment methods in the order first seen."""
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
    return mapping_from_rows(payment_method_rows(session, org_id), _mapping_rows(session, org_id))


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
    rows = {row.key: row for row in payment_method_rows(session, org_id)}
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
    ``checks.storable_problems``); checking it against the chart is the caller's job
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

    Raises ``files.MappingFileError`` (one line) when ``data`` is not the format, and
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
    known = {row.key for row in payment_method_rows(session, org_id)}
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
