"""Settling the batches whose outcome is unknown (still ``sent`` after a crash, a lost
connection, a 500), before anything else is posted.

Within ``REPLAY_WINDOW`` a batch is re-sent with the same key (Xero replays the first answer
instead of creating twice); later, each member is looked up in Xero by its reference and only
the ones not found are posted again. A batch committed but never sent is released.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.ledger.batches import XeroWriter
from plugin.ledger.batches import batch_members
from plugin.ledger.batches import reference_of
from plugin.ledger.batches import release_batch
from plugin.ledger.batches import send_batch
from plugin.ledger.batches import settlement_after_posting
from plugin.models import BatchState
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import PostingBatch
from plugin.models import utcnow
from plugin.xero.models import XeroLineItem

REPLAY_WINDOW = timedelta(minutes=5)  # Xero remembers an Idempotency-Key for about 6


def recover(session: Session, org_id: int, xero: XeroWriter, now: datetime | None = None) -> int:
    """Settle every batch of the org whose outcome is unknown; returns entries resolved."""
    now = now or utcnow()
    resolved = 0
    open_batches = session.exec(
        select(PostingBatch)
        .where(
            PostingBatch.organisation_id == org_id,
            col(PostingBatch.state).in_([BatchState.PENDING, BatchState.SENT]),
        )
        .order_by(col(PostingBatch.id))
    )
    for batch in list(open_batches):
        members = batch_members(session, batch)
        if batch.state == BatchState.PENDING:
            release_batch(session, batch)  # committed but never sent: nothing reached Xero
            continue
        sent_at = batch.sent_at or batch.created_at
        if now - sent_at < REPLAY_WINDOW:
            # Xero still remembers the key: the same request gets the first answer back (or is
            # processed now if it never arrived). Unknown again: leave it for the next run.
            batch.attempts += 1
            session.add(batch)
            session.commit()
            outcome = send_batch(session, batch, xero, first_attempt=False)
            if outcome is not None:
                resolved += sum(outcome)
            continue
        # The key is forgotten and any request still in flight has long finished: look up.
        resolved += _resolve_by_lookup(session, batch, members, xero)
    return resolved


def _resolve_by_lookup(
    session: Session, batch: PostingBatch, members: list[LedgerEntry], xero: XeroWriter
) -> int:
    """After the replay window: find each member in Xero by reference; re-queue the rest."""
    bodies = list((batch.request_summary or {}).get("bodies") or [])
    transaction_ids = list((batch.request_summary or {}).get("transaction_ids") or [])
    found = _find_in_xero(batch.endpoint, bodies, transaction_ids, xero)
    now = utcnow()
    for entry, body in zip(members, bodies, strict=False):
        if entry.state != EntryState.POSTING or entry.batch_id != batch.id:
            continue
        xero_id = found.get(entry.amazon_transaction_id)
        if xero_id:
            entry.state = EntryState.POSTED
            entry.xero_document_type = batch.endpoint
            entry.xero_document_id = xero_id
            entry.xero_reference = reference_of(batch.endpoint, body)[:255]
            entry.posted_at = now
            entry.settlement_state = settlement_after_posting(batch, entry)
        else:
            entry.state = EntryState.READY  # never reached Xero: post it again
            entry.batch_id = None
        entry.updated_at = now
        session.add(entry)
    batch.state = BatchState.ABANDONED
    batch.recorded_at = now
    batch.response_summary = {"recovered_by_lookup": len(found)}
    session.add(batch)
    session.commit()
    return len(members)


def _find_in_xero(
    endpoint: str, bodies: list[dict[str, Any]], transaction_ids: list[str], xero: XeroWriter
) -> dict[str, str]:
    """Amazon transaction id → Xero id of the documents of this batch that exist in Xero."""
    found: dict[str, str] = {}
    if endpoint == "BankTransactions":
        by_reference = {
            str(b.get("Reference")): t for b, t in zip(bodies, transaction_ids, strict=False)
        }
        for document in xero.find_bank_transactions_by_reference(list(by_reference)):
            transaction_id = by_reference.get(str(document.reference))
            if transaction_id:
                found[transaction_id] = document.bank_transaction_id
        return found
    candidates: list[tuple[str, tuple[XeroLineItem, ...]]]
    if endpoint == "Invoices":
        numbers = sorted({str(b.get("InvoiceNumber")) for b in bodies if b.get("InvoiceNumber")})
        invoices = xero.find_invoices_by_numbers(numbers)
        candidates = [(d.invoice_id, d.line_items) for d in invoices]
    else:
        numbers = sorted(
            {str(b.get("CreditNoteNumber")) for b in bodies if b.get("CreditNoteNumber")}
        )
        where = " OR ".join(f'CreditNoteNumber=="{n}"' for n in numbers) or 'CreditNoteNumber==""'
        notes = xero.find_credit_notes(where)
        candidates = [(d.credit_note_id, d.line_items) for d in notes]
    for transaction_id in transaction_ids:
        for xero_id, lines in candidates:
            text = " ".join(line.description or "" for line in lines[:1])
            if transaction_id in text and xero_id:
                found[transaction_id] = xero_id
                break
    return found
