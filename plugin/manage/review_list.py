"""The review list (issue 16 point 4): the purchases waiting for the bookkeeper's approval, a
page at a time (newest purchase first, as the entries list), each with the Xero document it
would become: its contact, date, reference and lines with account, tax rate, tracking and
amounts.

The document is the posting rules' own (``posting.translate`` with the entry's coding chosen in
review, through ``ledger.context_for``), so what the page shows is what approving posts, as long
as the mapping and Xero's chart stay as they are. The chart comes from the cache, or Xero when
it is not cached (as the mapping page reads it); when Xero cannot answer, the page lists the
purchases with Amazon's amounts and says why the documents are missing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from typing import Any
from typing import Final

from flask import Flask
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin import ledger
from plugin import posting
from plugin.ledger import review
from plugin.manage.entries import EntryFilter
from plugin.manage.entries import EntryRow
from plugin.manage.entries import list_entries
from plugin.manage.entry_lines import XeroLine
from plugin.manage.entry_lines import lines_of
from plugin.manage.entry_names import day_text
from plugin.manage.status import REDIS_ERRORS
from plugin.mapping.page import PAGE_XERO_WAIT
from plugin.mapping.rows import MappingStoreError
from plugin.mapping.store import load_mapping
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.work.posting_run import load_rules
from plugin.work.posting_run import posting_context
from plugin.xero.errors import XeroError

log = logging.getLogger(__name__)

PAGE_SIZE: Final = 20
CONTACT: Final = "Amazon Business"  # the one supplier contact every document goes to
KIND_LABELS: Final = {
    "spend_money": "Spend money",
    "receive_money": "Receive money",
    "bill": "Bill",
    "credit_note": "Credit note",
}
REFERENCE_FIELDS: Final = {
    "BankTransactions": "Reference",
    "Invoices": "InvoiceNumber",
    "CreditNotes": "CreditNoteNumber",
}


@dataclass(frozen=True)
class Rules:
    """What the documents are computed from (chart None: Xero could not be read, and why)."""

    mapping: posting.Mapping
    chart: posting.Chart | None
    context: posting.PostingContext
    problem: str | None = None


@dataclass(frozen=True)
class WouldBe:
    """The document a purchase would become in Xero, in words."""

    kind: str
    contact: str
    date: str
    reference: str
    total: str
    currency: str
    lines: tuple[XeroLine, ...]


@dataclass(frozen=True)
class ReviewItem:
    """One purchase in review: the list's row, its document (or why it cannot post now)."""

    row: EntryRow
    document: WouldBe | None
    held: str | None
    coded: bool


@dataclass(frozen=True)
class ReviewPage:
    """One page of the review list."""

    items: list[ReviewItem]
    next_before: int | None
    waiting: int
    as_of: datetime | None  # what "approve all" approves up to (``ledger.review.approve``)
    problem: str | None


def rules_for(app: Flask, session: Session, org: Organisation) -> Rules:
    """The mapping, chart and context the page computes documents with."""
    context = posting_context(app, org)
    try:
        _client, mapping, chart = load_rules(app, session, org, max_wait=PAGE_XERO_WAIT)
    except (XeroError, *REDIS_ERRORS) as exc:
        log.warning("review page of org %s without the chart: %s", org.id, exc)
        message = getattr(exc, "message", type(exc).__name__)
        try:
            mapping = load_mapping(session, int(org.id or 0))
        except MappingStoreError:
            mapping = posting.Mapping()
        problem = f"Xero could not be read just now ({message}), so the documents are not shown."
        return Rules(mapping, None, context, problem)
    return Rules(mapping, chart, context)


def _day(value: Any) -> str:
    try:
        return day_text(date.fromisoformat(str(value)[:10]))
    except ValueError:
        return str(value or "")


def would_be(
    entry: LedgerEntry, rules: Rules, context: posting.PostingContext
) -> tuple[WouldBe | None, str | None]:
    """(The document the entry would become now, None) or (None, why it cannot post now)."""
    if rules.chart is None:
        return None, None
    outcome = posting.translate(ledger.parsed(entry), rules.mapping, rules.chart, context)
    if not isinstance(outcome, posting.Document):
        return None, outcome.reason
    body = outcome.body
    return (
        WouldBe(
            kind=KIND_LABELS.get(outcome.kind, outcome.kind),
            contact=CONTACT,
            date=_day(body.get("Date")),
            reference=str(body.get(REFERENCE_FIELDS.get(outcome.endpoint, "Reference")) or ""),
            total=posting.money_text(outcome.total),
            currency=outcome.currency,
            lines=lines_of(body, rules.chart),
        ),
        None,
    )


def entries_by_id(session: Session, org_id: int, ids: list[int]) -> dict[int, LedgerEntry]:
    """The organisation's entries with these ids."""
    if not ids:
        return {}
    found = session.exec(
        select(LedgerEntry).where(
            LedgerEntry.organisation_id == org_id, col(LedgerEntry.id).in_(ids)
        )
    )
    return {int(e.id or 0): e for e in found}


def review_items(
    session: Session, org_id: int, rows: list[EntryRow], rules: Rules
) -> list[ReviewItem]:
    """The rows with their documents."""
    entries = entries_by_id(session, org_id, [row.id for row in rows])
    context = ledger.context_for(session, org_id, list(entries.values()), rules.context)
    items = []
    for row in rows:
        entry = entries.get(row.id)
        if entry is None:
            continue
        document, held = would_be(entry, rules, context)
        coded = entry.amazon_transaction_id in context.codings
        items.append(ReviewItem(row, document, held, coded))
    return items


def review_page(
    session: Session, org: Organisation, rules: Rules, before: int | None = None
) -> ReviewPage:
    """One page of the organisation's purchases waiting for review."""
    org_id = int(org.id or 0)
    wanted = EntryFilter(state="review", before=before)
    page = list_entries(session, org_id, wanted, page_size=PAGE_SIZE)
    return ReviewPage(
        items=review_items(session, org_id, page.rows, rules),
        next_before=page.next_before,
        waiting=ledger.counts_by_state(session, org_id).get("review", 0),
        as_of=review.newest_in_review(session, org_id),
        problem=rules.problem,
    )


def review_item(session: Session, org: Organisation, entry_id: int, rules: Rules) -> ReviewItem:
    """One purchase of the list (in review or not: the page says what became of it)."""
    org_id = int(org.id or 0)
    entry = session.get(LedgerEntry, entry_id)
    if entry is None or entry.organisation_id != org_id:
        raise LookupError(entry_id)
    return review_items(session, org_id, [row_of(entry)], rules)[0]


def row_of(entry: LedgerEntry) -> EntryRow:
    """The list row of one entry."""
    return EntryRow(
        id=int(entry.id or 0),
        amazon_transaction_id=entry.amazon_transaction_id,
        transaction_type=entry.transaction_type,
        transaction_date=entry.transaction_date,
        amount=entry.amount,
        currency=entry.currency,
        payment_method_key=entry.payment_method_key,
        order_id=entry.order_id,
        purchase_orders=entry.purchase_orders,
        buyer_name=entry.buyer_name,
        state=str(entry.state),
        reason_code=entry.reason_code,
        reason=entry.reason,
        needs_review=entry.needs_review,
        xero_document_type=entry.xero_document_type,
        xero_document_id=entry.xero_document_id,
    )
