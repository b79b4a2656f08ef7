"""Recording what Amazon sent: each transaction once per organisation, idempotently.

Re-importing adds nothing already known; a changed payload of a not-yet-posted entry is updated
(and evaluated again); of one this app posted (``CORRECTABLE``) it becomes a pending correction
(``ledger.corrections``: applied in Xero by the posting run, or held if the document is
reconciled or paid); of one posted by hand it is only flagged for review. A transaction we
cannot read is kept, ``held`` with ``PARSE_ERROR``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from typing import TypedDict

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.amazon.models import ParseFailure
from plugin.amazon.models import Transaction
from plugin.amazon.models import TransactionsPage
from plugin.amazon.models import parse_transaction
from plugin.amazon.signs import documented_amount
from plugin.ledger.transitions import move
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import utcnow

PARSE_ERROR = "parse_error"


@dataclass
class RecordCounts:
    """What one page (or one import) added to the ledger."""

    fetched: int = 0
    new: int = 0
    already_known: int = 0
    updated: int = 0
    flagged: int = 0
    unreadable: int = 0

    def add(self, other: RecordCounts) -> None:
        for name in ("fetched", "new", "already_known", "updated", "flagged", "unreadable"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class Descriptors(TypedDict, total=False):
    """The columns of an entry copied from its transaction (to filter and sort without JSON)."""

    transaction_type: str
    transaction_date: datetime | None
    feed_date: datetime | None
    amount: Decimal
    currency: str
    payment_method_key: str | None
    order_id: str | None
    purchase_orders: str | None
    buyer_name: str | None
    invoice_number: str | None
    charge_identifier: str | None


def payload_of(item: Transaction | ParseFailure) -> dict[str, Any]:
    """The JSON we keep of a transaction (Amazon's own field names; unknown fields kept)."""
    if isinstance(item, ParseFailure):
        return item.raw if isinstance(item.raw, dict) else {"unreadable": repr(item.raw)[:2000]}
    return item.model_dump(by_alias=True, mode="json", exclude_none=True)


def payload_hash(payload: dict[str, Any]) -> str:
    """A stable fingerprint of a payload (to notice Amazon changing a transaction)."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _entry_id(item: Transaction | ParseFailure, payload: dict[str, Any]) -> str:
    if isinstance(item, Transaction):
        return item.transaction_id
    if item.transaction_id:
        return item.transaction_id
    return "unreadable-" + payload_hash(payload)[:24]


def descriptors_of(item: Transaction | ParseFailure) -> Descriptors:
    """The entry's columns copied from a transaction."""
    return _descriptors(item)


def purchase_orders_of(item: Transaction) -> str | None:
    """The buyer's purchase order numbers of the lines, distinct, space separated (the entries
    list filters by them), at most 255 characters (whole numbers only)."""
    numbers = dict.fromkeys((line.purchase_order_number or "").strip() for line in item.line_items)
    text = ""
    for number in (n for n in numbers if n):
        candidate = f"{text} {number}".strip()
        if len(candidate) > 255:
            break
        text = candidate
    return text or None


def _descriptors(item: Transaction | ParseFailure) -> Descriptors:
    if isinstance(item, ParseFailure):
        return {}
    first = item.line_items[0] if item.line_items else None
    return {
        "transaction_type": item.transaction_type or "",
        "transaction_date": item.transaction_date,
        "feed_date": item.feed_date,
        "amount": (
            documented_amount(item.transaction_type, item.amount.amount)
            if item.amount
            else Decimal(0)
        ),
        "currency": item.amount.currency_code if item.amount else "",
        "payment_method_key": item.payment_method_key,
        "order_id": first.order_id if first else None,
        "purchase_orders": purchase_orders_of(item),
        "buyer_name": (item.buyer.name or "").strip()[:255] or None if item.buyer else None,
        "invoice_number": item.invoice_number,
        "charge_identifier": item.charge_identifier,
    }


def record_page(
    session: Session, org_id: int, connection_id: int | None, page: TransactionsPage
) -> RecordCounts:
    """Add a page of Amazon transactions to the ledger (idempotently); commits."""
    items: list[Transaction | ParseFailure] = list(page.in_order) or [
        *page.transactions,
        *page.failures,
    ]
    try:
        counts = _record(session, org_id, connection_id, items)
        session.commit()
    except IntegrityError:
        # Another process recorded some of these at the same moment: once more, now known.
        session.rollback()
        counts = _record(session, org_id, connection_id, items)
        session.commit()
    return counts


FINAL_IN_XERO = (EntryState.POSTED, EntryState.POSTING, EntryState.BY_HAND)
"""States whose document is (or may be) in Xero: a changed payload is never simply stored."""
CORRECTABLE = (EntryState.POSTED, EntryState.POSTING)
"""Of those, the ones whose document this app posted: a change becomes a correction
(``ledger.corrections``), applied in Xero or held for the bookkeeper; one posted by hand is
only flagged for review."""


def _record(
    session: Session,
    org_id: int,
    connection_id: int | None,
    items: list[Transaction | ParseFailure],
) -> RecordCounts:
    from plugin.ledger.corrections import note_change  # corrections reads records

    counts = RecordCounts()
    prepared: list[tuple[Transaction | ParseFailure, dict[str, Any], str]] = []
    for item in items:
        payload = payload_of(item)
        prepared.append((item, payload, _entry_id(item, payload)))
    ids = [entry_id for _, _, entry_id in prepared]
    existing = {
        entry.amazon_transaction_id: entry
        for entry in session.exec(
            select(LedgerEntry)
            .where(
                LedgerEntry.organisation_id == org_id,
                col(LedgerEntry.amazon_transaction_id).in_(ids),
            )
            .execution_options(populate_existing=True)
        )
    }
    now = utcnow()
    for item, payload, entry_id in prepared:
        counts.fetched += 1
        digest = payload_hash(payload)
        entry = existing.get(entry_id)
        if entry is None:
            entry = LedgerEntry(
                organisation_id=org_id,
                amazon_connection_id=connection_id,
                amazon_transaction_id=entry_id,
                raw_payload=payload,
                payload_hash=digest,
                state=EntryState.FETCHED,
                **_descriptors(item),
            )
            if isinstance(item, ParseFailure):
                entry.state = EntryState.HELD
                entry.reason_code = PARSE_ERROR
                entry.reason = f"Amazon sent a transaction we cannot read: {item.reason}"
                counts.unreadable += 1
            session.add(entry)
            existing[entry_id] = entry
            counts.new += 1
            continue
        if entry.payload_hash == digest:
            counts.already_known += 1
            continue
        if _replace_payload(
            session,
            entry,
            {
                "raw_payload": payload,
                "payload_hash": digest,
                **_descriptors(item),
                "state": EntryState.FETCHED,
                "reason_code": None,
                "reason": None,
            },
        ):
            counts.updated += 1
        elif entry.state in CORRECTABLE:  # our document: corrected in Xero, or held
            if note_change(session, entry, payload, digest):
                counts.flagged += 1
            else:
                counts.already_known += 1
        else:
            entry.needs_review = True  # never re-posted: a person decides
            entry.updated_at = now
            session.add(entry)
            counts.flagged += 1
    session.flush()
    return counts


def _replace_payload(session: Session, entry: LedgerEntry, values: dict[str, object]) -> bool:
    """Store Amazon's changed payload on an entry not (yet) in Xero; False when its document is
    or may be in Xero (``FINAL_IN_XERO``), found now or after it changed meanwhile."""
    for _look in range(2):
        if entry.state in FINAL_IN_XERO:
            return False
        if move(session, entry, values):
            return True
        session.refresh(entry)  # it changed meanwhile (marked posted by hand, say): look again
    return False


def parsed(entry: LedgerEntry) -> Transaction | ParseFailure:
    """The entry's transaction, read again from its stored payload."""
    return parse_transaction(entry.raw_payload or {})
