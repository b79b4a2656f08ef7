"""The entries list of Manage Integrations: held, failed and posted entries, filtered by state
and reason code, keyset-paginated (newest first, by id).

A page costs one index range scan per state whatever the size of the ledger; the only counts
are the per-reason counts of held and failed entries (``reason_groups``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import select as select_columns
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.infra.queues import get_redis
from plugin.manage.status import REDIS_ERRORS
from plugin.mapping.chart import cached_parts
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.xero.links import document_name
from plugin.xero.links import document_url

PAGE_SIZE = 50
ATTENTION = "attention"  # held and failed together: the default filter
STATE_FILTERS: dict[str, tuple[str, ...]] = {
    ATTENTION: (EntryState.HELD, EntryState.FAILED),
    "held": (EntryState.HELD,),
    "failed": (EntryState.FAILED,),
    "posted": (EntryState.POSTED,),
    "by_hand": (EntryState.BY_HAND,),
    "waiting": (EntryState.FETCHED, EntryState.READY, EntryState.POSTING),
    "all": tuple(EntryState),
}
STATE_LABELS = {
    ATTENTION: "Held and failed",
    "held": "Held",
    "failed": "Failed",
    "posted": "Posted",
    "by_hand": "Posted by hand",
    "waiting": "Waiting to post",
    "all": "All",
}

# Only the columns the list shows: never the raw Amazon payload.
_LIST_COLUMNS: tuple[Any, ...] = (
    col(LedgerEntry.id),
    col(LedgerEntry.amazon_transaction_id),
    col(LedgerEntry.transaction_type),
    col(LedgerEntry.transaction_date),
    col(LedgerEntry.amount),
    col(LedgerEntry.currency),
    col(LedgerEntry.payment_method_key),
    col(LedgerEntry.order_id),
    col(LedgerEntry.state),
    col(LedgerEntry.reason_code),
    col(LedgerEntry.reason),
    col(LedgerEntry.needs_review),
    col(LedgerEntry.xero_document_type),
    col(LedgerEntry.xero_document_id),
)


@dataclass(frozen=True)
class EntryFilter:
    """Which entries to list: a state filter, an optional reason code, and the page cursor.

    Read from the page's query string by ``plugin.manage.forms.EntryFilterForm``.
    """

    state: str = ATTENTION
    reason_code: str | None = None
    before: int | None = None  # keyset cursor: entries with a smaller id

    def query_args(self, **changes: Any) -> dict[str, Any]:
        """The query arguments for this filter with ``changes`` applied (for links)."""
        values = {"state": self.state, "reason": self.reason_code, "before": self.before}
        values.update(changes)
        return {key: value for key, value in values.items() if value not in (None, "")}


@dataclass(frozen=True)
class EntryRow:
    """One line of the entries list."""

    id: int
    amazon_transaction_id: str
    transaction_type: str
    transaction_date: datetime | None
    amount: Any
    currency: str
    payment_method_key: str | None
    order_id: str | None
    state: str
    reason_code: str | None
    reason: str | None
    needs_review: bool
    xero_document_type: str | None
    xero_document_id: str | None
    xero_url: str = ""
    xero_name: str = ""

    @property
    def retryable(self) -> bool:
        """Held and failed entries can be retried."""
        return self.state in (EntryState.HELD, EntryState.FAILED)


@dataclass(frozen=True)
class EntryPage:
    """One page of entries and the cursor of the next page (None on the last)."""

    rows: list[EntryRow]
    next_before: int | None


def entries_statements(
    org_id: int, wanted: EntryFilter, page_size: int = PAGE_SIZE
) -> list[Select[*tuple[Any, ...]]]:
    """The keyset queries of one page: one per state, each page_size + 1 rows at most.

    One query per state keeps each an index range scan on (organisation, state) read in id
    order, so no query ever sorts the organisation's entries, however many there are; the
    caller merges them (at most six small lists).
    """
    statements = []
    for state in STATE_FILTERS[wanted.state]:
        statement = select_columns(*_LIST_COLUMNS).where(
            col(LedgerEntry.organisation_id) == org_id, col(LedgerEntry.state) == state
        )
        if wanted.reason_code:
            statement = statement.where(col(LedgerEntry.reason_code) == wanted.reason_code)
        if wanted.before is not None:
            statement = statement.where(col(LedgerEntry.id) < wanted.before)
        statements.append(statement.order_by(col(LedgerEntry.id).desc()).limit(page_size + 1))
    return statements


def list_entries(
    session: Session,
    org_id: int,
    wanted: EntryFilter,
    short_code: str | None = None,
    page_size: int = PAGE_SIZE,
) -> EntryPage:
    """One page of the organisation's entries, newest first."""
    rows = [
        row
        for statement in entries_statements(org_id, wanted, page_size)
        for row in session.execute(statement)
    ]
    rows.sort(key=lambda row: row.id, reverse=True)
    more = len(rows) > page_size
    rows = rows[:page_size]
    entries = [
        EntryRow(
            **row._asdict(),
            xero_url=document_url(row.xero_document_type, row.xero_document_id, short_code),
            xero_name=document_name(row.xero_document_type),
        )
        for row in rows
    ]
    return EntryPage(entries, entries[-1].id if more and entries else None)


def has_entries(session: Session, org_id: int) -> bool:
    """Whether anything was ever imported for the organisation."""
    found = session.exec(
        select(LedgerEntry.id).where(LedgerEntry.organisation_id == org_id).limit(1)
    ).first()
    return found is not None


@dataclass(frozen=True)
class ReasonGroup:
    """Held or failed entries sharing one reason code."""

    reason_code: str
    reason: str
    count: int


def reason_groups(session: Session, org_id: int) -> list[ReasonGroup]:
    """Held and failed entries by reason code, biggest group first (with one example reason)."""
    rows = session.execute(
        select(LedgerEntry.reason_code, func.max(LedgerEntry.reason), func.count())
        .where(
            LedgerEntry.organisation_id == org_id,
            col(LedgerEntry.state).in_(STATE_FILTERS[ATTENTION]),
        )
        .group_by(LedgerEntry.reason_code)
    )
    groups = [
        ReasonGroup(str(code or "unknown"), str(reason or "No reason recorded."), int(count))
        for code, reason, count in rows
    ]
    return sorted(groups, key=lambda group: (-group.count, group.reason_code))


def xero_short_code(app: Flask, org_id: int) -> str | None:
    """The org's Xero short code from the cached chart, if cached (for the Xero deep links)."""
    try:
        parts = cached_parts(get_redis(app), org_id) or {}
    except REDIS_ERRORS:  # get_redis itself may fail when Redis is down
        return None
    organisation = parts.get("Organisation")
    code = organisation.get("ShortCode") if isinstance(organisation, dict) else None
    return str(code) if code else None
