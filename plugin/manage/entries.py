"""The entries list of Manage Integrations: held, failed and posted entries, filtered by state,
by cause (a reason code, or a reason code and its own key: ``plugin.manage.held_groups``), by
the buyer's purchase order number or name (part of it, any case), and by month (the
organisation's own) and payment method (the tie-out report's links), keyset-paginated by
purchase date, newest purchase first (then by id).

A page costs one index range scan per state (index ``organisation, state, transaction_date,
id``) whatever the size of the ledger; the only counts are the per-cause counts of held and
failed entries (``reason_groups``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select as select_columns
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.infra.queues import get_redis
from plugin.ledger.correction_advice import review_note
from plugin.ledger.counts import counts_by_state
from plugin.manage.corrections_view import latest_changes
from plugin.manage.held_groups import Cause
from plugin.manage.held_groups import HeldGroup
from plugin.manage.held_groups import Member
from plugin.manage.held_groups import group_members
from plugin.manage.status import REDIS_ERRORS
from plugin.manage.tie_out import NO_METHOD
from plugin.manage.tie_out import UNDATED
from plugin.manage.tie_out import month_bounds
from plugin.mapping.chart import cached_parts
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.posting.dates import xero_zone
from plugin.xero.links import document_name
from plugin.xero.links import document_url

PAGE_SIZE = 20
"""Rows per page: a screen's worth, as the review page (issue 17 point 2: the Manage page stays
under 40 KB whatever the ledger's size)."""
ATTENTION = "attention"  # held and failed together: the default filter
NOT_WAITING = (
    EntryState.HELD,
    EntryState.FAILED,
    EntryState.POSTED,
    EntryState.BY_HAND,
    EntryState.CANCELLED,
)
"""Every other state is not in Xero yet: ``waiting`` to post (fetched, ready, posting, and any
state added later), or in ``review``; ``pending`` is both, as the tie-out report counts them."""
STATE_FILTERS: dict[str, tuple[str, ...]] = {
    ATTENTION: (EntryState.HELD, EntryState.FAILED),
    "held": (EntryState.HELD,),
    "failed": (EntryState.FAILED,),
    "posted": (EntryState.POSTED,),
    "by_hand": (EntryState.BY_HAND,),
    "waiting": tuple(s for s in EntryState if s not in (*NOT_WAITING, EntryState.REVIEW)),
    "review": (EntryState.REVIEW,),
    "pending": tuple(s for s in EntryState if s not in NOT_WAITING),
    "cancelled": (EntryState.CANCELLED,),
    "in_xero": (EntryState.POSTED, EntryState.BY_HAND, EntryState.CANCELLED),
    "all": tuple(EntryState),
}
STATE_LABELS = {
    ATTENTION: "Held and failed",
    "held": "Held",
    "failed": "Failed",
    "posted": "Posted",
    "by_hand": "Posted by hand",
    "waiting": "Waiting to post",
    "review": "Waiting for your review",
    "pending": "Not in Xero yet (waiting to post or for your review)",
    "cancelled": "Cancelled by Amazon",
    "in_xero": "In Xero (posted, by hand, linked, cancelled)",
    "all": "All",
}
# Each entry's badge in the list, in the words of the filter that shows it.
BADGE_LABELS = {
    EntryState.FETCHED: STATE_LABELS["waiting"],
    EntryState.READY: STATE_LABELS["waiting"],
    EntryState.POSTING: STATE_LABELS["waiting"],
    EntryState.REVIEW: STATE_LABELS["review"],
    EntryState.HELD: STATE_LABELS["held"],
    EntryState.FAILED: STATE_LABELS["failed"],
    EntryState.POSTED: STATE_LABELS["posted"],
    EntryState.BY_HAND: STATE_LABELS["by_hand"],
    EntryState.CANCELLED: STATE_LABELS["cancelled"],
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
    col(LedgerEntry.purchase_orders),
    col(LedgerEntry.buyer_name),
    col(LedgerEntry.state),
    col(LedgerEntry.reason_code),
    col(LedgerEntry.reason),
    col(LedgerEntry.needs_review),
    col(LedgerEntry.xero_document_type),
    col(LedgerEntry.xero_document_id),
)


@dataclass(frozen=True)
class EntryFilter:
    """Which entries to list: a state filter, an optional cause, and the page cursor.

    ``reason_code`` is a reason code or a cause (``Cause.param``). Read from the page's query
    string by ``plugin.manage.forms.EntryFilterForm``.
    """

    state: str = ATTENTION
    reason_code: str | None = None
    before: int | None = None  # keyset cursor: the last entry shown (older ones come next)
    purchase_order: str | None = None  # part of a purchase order number, any case
    buyer: str | None = None  # part of the buyer's name, any case
    month: str | None = None  # "YYYY-MM" in the organisation's zone, or tie_out.UNDATED
    method: str | None = None  # a payment method key, or tie_out.NO_METHOD
    timezone: str = ""  # the organisation's Xero time zone (what a month means)

    @property
    def cause(self) -> Cause | None:
        """The cause to list (None: any)."""
        return Cause.from_param(self.reason_code) if self.reason_code else None

    def query_args(self, **changes: Any) -> dict[str, Any]:
        """The query arguments for this filter with ``changes`` applied (for links)."""
        values = {
            "state": self.state,
            "reason": self.reason_code,
            "po": self.purchase_order,
            "buyer": self.buyer,
            "month": self.month,
            "method": self.method,
            "before": self.before,
        }
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
    purchase_orders: str | None
    buyer_name: str | None
    state: str
    reason_code: str | None
    reason: str | None
    needs_review: bool
    xero_document_type: str | None
    xero_document_id: str | None
    xero_url: str = ""
    xero_name: str = ""
    review: str = ""  # what Amazon changed after posting, and what to do (``review_note``)

    @property
    def retryable(self) -> bool:
        """Held and failed entries can be retried."""
        return self.state in (EntryState.HELD, EntryState.FAILED)


@dataclass(frozen=True)
class EntryPage:
    """One page of entries and the cursor of the next page (None on the last)."""

    rows: list[EntryRow]
    next_before: int | None


def cause_conditions(cause: Cause) -> list[ColumnElement[bool]]:
    """The SQL conditions of the entries one cause holds."""
    conditions = [col(LedgerEntry.reason_code) == cause.code]
    if cause.kind == "method":
        conditions.append(col(LedgerEntry.payment_method_key) == cause.key)
    elif cause.kind == "text":
        conditions.append(col(LedgerEntry.reason) == cause.key)
    elif cause.kind == "rate":
        conditions.append(col(LedgerEntry.reason).contains(f": {cause.key} of ", autoescape=True))
    return conditions


def finder_conditions(wanted: EntryFilter) -> list[ColumnElement[bool]]:
    """The SQL conditions of the purchase order and buyer filters (part of the text, any case),
    and of the month and payment method filters."""
    found = []
    for column, term in (
        (col(LedgerEntry.purchase_orders), wanted.purchase_order),
        (col(LedgerEntry.buyer_name), wanted.buyer),
    ):
        if term:
            found.append(func.lower(column).contains(term.lower(), autoescape=True))
    date, method = col(LedgerEntry.transaction_date), col(LedgerEntry.payment_method_key)
    if wanted.month == UNDATED:
        found.append(date.is_(None))
    elif wanted.month:
        start, end = month_bounds(wanted.month, xero_zone(wanted.timezone))
        found += [date >= start, date < end]
    if wanted.method == NO_METHOD:
        found.append(method.is_(None))
    elif wanted.method:
        found.append(method == wanted.method)
    return found


Cursor = tuple[datetime | None, int]
"""Where a page ends: the purchase date and id of its last entry."""


def _newest_first(row: Any) -> tuple[bool, float, int]:
    when = row.transaction_date
    return when is not None, when.timestamp() if when else 0.0, row.id


def entries_statements(
    org_id: int, wanted: EntryFilter, page_size: int = PAGE_SIZE, cursor: Cursor | None = None
) -> list[Select[*tuple[Any, ...]]]:
    """The keyset queries of one page: per state, page_size + 1 rows at most of the dated
    entries (purchase date, then id, descending) and of the undated ones (id descending), which
    come last.

    Each is an index range scan on (organisation, state, transaction_date, id) read in the
    list's order, so no query ever sorts the organisation's entries, however many there are;
    the caller merges them (a few small lists). Undated entries have their own query because
    databases disagree on where NULL sorts.
    """
    cause = wanted.cause
    when, last_id = cursor if cursor is not None else (None, None)
    date, key = col(LedgerEntry.transaction_date), col(LedgerEntry.id)
    statements = []
    for state in STATE_FILTERS[wanted.state]:
        base = select_columns(*_LIST_COLUMNS).where(
            col(LedgerEntry.organisation_id) == org_id, col(LedgerEntry.state) == state
        )
        if cause is not None:
            base = base.where(*cause_conditions(cause))
        base = base.where(*finder_conditions(wanted))
        dated_month = wanted.month not in (None, UNDATED)  # a month: no undated entry in it
        if (cursor is None or when is not None) and wanted.month != UNDATED:
            dated = base.where(date.is_not(None))
            if when is not None:
                dated = dated.where(or_(date < when, and_(date == when, key < last_id)))
            statements.append(dated.order_by(date.desc(), key.desc()).limit(page_size + 1))
        if dated_month:
            continue
        undated = base.where(date.is_(None))
        if when is None and last_id is not None:
            undated = undated.where(key < last_id)
        statements.append(undated.order_by(key.desc()).limit(page_size + 1))
    return statements


def cursor_of(session: Session, org_id: int, before: int | None) -> Cursor | None:
    """The cursor a page's ``before`` (its last entry's id) stands for."""
    if before is None:
        return None
    entry = session.get(LedgerEntry, before)
    if entry is None or entry.organisation_id != org_id:
        return None  # no such entry (or another organisation's): from the newest again
    return (entry.transaction_date, before)


def list_entries(
    session: Session,
    org_id: int,
    wanted: EntryFilter,
    short_code: str | None = None,
    page_size: int = PAGE_SIZE,
) -> EntryPage:
    """One page of the organisation's entries, newest purchase first."""
    cursor = cursor_of(session, org_id, wanted.before)
    rows = [
        row
        for statement in entries_statements(org_id, wanted, page_size, cursor)
        for row in session.execute(statement)
    ]
    rows.sort(key=_newest_first, reverse=True)
    more = len(rows) > page_size
    rows = rows[:page_size]
    changes = latest_changes(session, (row.id for row in rows if row.needs_review))
    entries = [
        EntryRow(
            **row._asdict(),
            xero_url=document_url(row.xero_document_type, row.xero_document_id, short_code),
            xero_name=document_name(row.xero_document_type),
            review=review_note(row.state, row.reason_code, row.reason, changes.get(row.id))
            if row.needs_review
            else "",
        )
        for row in rows
    ]
    return EntryPage(entries, entries[-1].id if more and entries else None)


def in_review(session: Session, org_id: int) -> int:
    """How many entries wait for the bookkeeper's approval (from the ledger counts)."""
    return counts_by_state(session, org_id).get(EntryState.REVIEW, 0)


def has_entries(session: Session, org_id: int) -> bool:
    """Whether anything was ever imported for the organisation."""
    found = session.exec(
        select(LedgerEntry.id).where(LedgerEntry.organisation_id == org_id).limit(1)
    ).first()
    return found is not None


def reason_groups(session: Session, org_id: int) -> list[HeldGroup]:
    """Held and failed entries by real cause, biggest group first, each labelled from its own
    members (``plugin.manage.held_groups``)."""
    entry = LedgerEntry
    by = (col(entry.reason_code), col(entry.payment_method_key), col(entry.reason))
    rows = session.execute(
        select_columns(*by, func.count(), func.min(LedgerEntry.transaction_date))
        .where(
            col(LedgerEntry.organisation_id) == org_id,
            col(LedgerEntry.state).in_(STATE_FILTERS[ATTENTION]),
        )
        .group_by(*by)
    )
    return group_members(
        Member(code, key, reason, int(count), first) for code, key, reason, count, first in rows
    )


def xero_short_code(app: Flask, org: Organisation) -> str | None:
    """The org's Xero short code (for the Xero deep links): stored from Xero's Organisation at
    sign-up (``xero.organisations.apply_organisation_details``), else from the cached chart."""
    stored = (org.settings or {}).get("xero_short_code")
    if stored:
        return str(stored)
    try:
        parts = cached_parts(get_redis(app), int(org.id or 0)) or {}
    except REDIS_ERRORS:  # get_redis itself may fail when Redis is down
        return None
    organisation = parts.get("Organisation")
    code = organisation.get("ShortCode") if isinstance(organisation, dict) else None
    return str(code) if code else None
