"""The SQL of the tie-out report (``plugin.manage.tie_out``): one GROUP BY over the
organisation's entries, whatever their number, plus the few posted entries Amazon changed since.

Months are the organisation's own (its Xero time zone): the UTC instants its months start at
are computed here and the database sorts each entry into its month with one CASE over them, so
SQLite and PostgreSQL count the same way without time-zone support in SQL. Amounts are summed
in whole cents (integers), so no database sums money in floating point.
"""

from __future__ import annotations

from datetime import tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy import case
from sqlalchemy import cast
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import select
from sqlmodel import Session
from sqlmodel import col

from plugin.amazon.models import Transaction
from plugin.amazon.models import parse_transaction
from plugin.amazon.signs import documented_amount
from plugin.ledger.correction_model import Correction
from plugin.ledger.correction_model import CorrectionCause
from plugin.ledger.correction_model import CorrectionState
from plugin.manage.tie_out import UNDATED
from plugin.manage.tie_out import Change
from plugin.manage.tie_out import GroupRow
from plugin.manage.tie_out import Report
from plugin.manage.tie_out import build_report
from plugin.manage.tie_out import month_of
from plugin.manage.tie_out import month_start
from plugin.manage.tie_out import months_between
from plugin.manage.tie_out import next_month
from plugin.models import LedgerEntry
from plugin.posting.dates import xero_zone

HUNDRED = Decimal(100)
OPEN = (CorrectionState.PENDING, CorrectionState.SENT, CorrectionState.HELD)
FROM_AMAZON = (CorrectionCause.AMAZON_CHANGED, CorrectionCause.AMAZON_CANCELLED)


def month_expression(session: Session, org_id: int, zone: tzinfo | None) -> Any:
    """CASE sorting an entry's purchase date into the organisation's month ("YYYY-MM")."""
    date = col(LedgerEntry.transaction_date)
    oldest, newest = session.execute(
        select(func.min(date), func.max(date)).where(col(LedgerEntry.organisation_id) == org_id)
    ).one()
    if oldest is None:
        return literal(UNDATED)
    months = months_between(month_of(oldest, zone), month_of(newest, zone))
    whens: list[tuple[Any, Any]] = [(date.is_(None), literal(UNDATED))]
    whens += [(date < month_start(next_month(m), zone), literal(m)) for m in months]
    return case(*whens, else_=literal(months[-1]))


def group_rows(session: Session, org_id: int, zone: tzinfo | None) -> list[GroupRow]:
    """The organisation's entries summed per month, method, currency, state and reason code."""
    entry = LedgerEntry
    inner = (
        select(
            month_expression(session, org_id, zone).label("month"),
            col(entry.payment_method_key).label("method"),
            col(entry.currency).label("currency"),
            col(entry.state).label("state"),
            col(entry.reason_code).label("reason_code"),
            cast(func.round(col(entry.amount) * 100), BigInteger).label("cents"),
        )
        .where(col(entry.organisation_id) == org_id)
        .subquery()
    )
    keys = (inner.c.month, inner.c.method, inner.c.currency, inner.c.state, inner.c.reason_code)
    statement = select(*keys, func.count(), func.sum(inner.c.cents)).group_by(*keys)
    return [
        GroupRow(
            month=str(month),
            method=method,
            currency=str(currency or ""),
            state=str(state),
            reason_code=reason_code,
            count=int(count),
            amount=Decimal(int(cents or 0)) / HUNDRED,
        )
        for month, method, currency, state, reason_code, count, cents in session.execute(statement)
    ]


def open_changes(session: Session, org_id: int, zone: tzinfo | None) -> list[Change]:
    """Posted entries with a newer version from Amazon that Xero does not show yet (their
    correction pending, on its way, or held): the newest such version of each."""
    entry = LedgerEntry
    rows = session.execute(
        select(
            col(Correction.id),
            col(Correction.state),
            col(Correction.after_payload),
            col(entry.amazon_transaction_id),
            col(entry.transaction_date),
            col(entry.payment_method_key),
            col(entry.currency),
            col(entry.amount),
        )
        .join(entry, col(entry.id) == col(Correction.ledger_entry_id))
        .where(
            col(Correction.organisation_id) == org_id,
            col(entry.organisation_id) == org_id,
            col(Correction.state).in_(OPEN),
            col(Correction.cause).in_(FROM_AMAZON),
        )
        .order_by(col(Correction.id))
    )
    newest: dict[str, Change] = {}
    for _id, state, payload, tid, when, method, currency, recorded in rows:
        item = parse_transaction(payload or {})
        if not isinstance(item, Transaction):
            continue  # unreadable: the entry keeps what it recorded
        amazon = (
            documented_amount(item.transaction_type, item.amount.amount)
            if item.amount
            else Decimal("0.00")
        )
        newest[str(tid)] = Change(
            month=month_of(when, zone),
            method=method,
            currency=str(currency or ""),
            transaction_id=str(tid),
            recorded=Decimal(recorded),
            amazon=amazon,
            correction_state=str(state),
        )
    return [change for change in newest.values() if change.delta != 0]


def tie_out_report(session: Session, org_id: int, timezone: str | None) -> Report:
    """The organisation's tie-out report (months in its Xero time zone ``timezone``)."""
    zone = xero_zone(timezone)
    return build_report(group_rows(session, org_id, zone), open_changes(session, org_id, zone))
