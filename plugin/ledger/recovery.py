"""Settling the batches whose outcome is unknown (still ``sent`` after a crash, a lost
connection, a 500), before anything else is posted.

Nothing of such a batch is ever sent again with its key: Xero's memory of keys is not relied
on (it is undocumented; a replay that Xero no longer recognised once created every document a
second time). Instead, once the request can no longer be in Xero's hands, the batch's members
are looked up in Xero by their tags, one query per batch: the ones found are recorded as
posted, and only the ones missing go back to ``ready``, to be sent in a new batch with a new
key. A batch that was answered (a 500: Xero has finished with it) is looked up at once; one
without an answer (dropped connection, read time-out, killed worker) only after the client's
in-flight horizon (``plugin.xero.timing``) has passed since it was sent. A batch committed but
never sent is released.
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
from plugin.ledger.batches import settlement_after_posting
from plugin.models import BatchState
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import PostingBatch
from plugin.models import utcnow
from plugin.xero.models import XeroLineItem

REMOVED = ("DELETED", "VOIDED")  # a document taken out of the books is never "the one posted"


def open_batches(session: Session, org_id: int) -> list[PostingBatch]:
    """The organisation's batches committed or sent whose outcome is not yet recorded."""
    return list(
        session.exec(
            select(PostingBatch)
            .where(
                PostingBatch.organisation_id == org_id,
                col(PostingBatch.state).in_([BatchState.PENDING, BatchState.SENT]),
            )
            .order_by(col(PostingBatch.id))
        )
    )


def lookup_from(batch: PostingBatch, in_flight: timedelta) -> datetime:
    """From when a look-up in Xero tells for certain what became of a sent batch: at once when
    Xero answered (it has finished with the request), else once it can no longer be in flight."""
    sent_at = batch.sent_at or batch.created_at
    if (batch.response_summary or {}).get("answered"):
        return sent_at
    return sent_at + in_flight


def next_lookup_at(session: Session, org_id: int, in_flight: timedelta) -> datetime | None:
    """When the earliest batch still in doubt can be looked up (None: none is in doubt)."""
    times = [
        lookup_from(batch, in_flight)
        for batch in open_batches(session, org_id)
        if batch.state == BatchState.SENT
    ]
    return min(times) if times else None


def recover(session: Session, org_id: int, xero: XeroWriter, now: datetime | None = None) -> int:
    """Settle every batch of the org whose outcome can now be known; returns entries resolved.

    A batch that may still be in flight is left as it is (its entries stay ``posting``, so no
    other run sends them): ``next_lookup_at`` says when to come back.
    """
    now = now or utcnow()
    resolved = 0
    for batch in open_batches(session, org_id):
        if batch.state == BatchState.PENDING:
            release_batch(session, batch)  # committed but never sent: nothing reached Xero
            continue
        if now < lookup_from(batch, xero.in_flight):
            continue  # Xero may still be working on it: neither look up nor send again
        resolved += _resolve_by_lookup(session, batch, batch_members(session, batch), xero)
    return resolved


def _resolve_by_lookup(
    session: Session, batch: PostingBatch, members: list[LedgerEntry], xero: XeroWriter
) -> int:
    """Find each member in Xero by its tag; the ones not there go back to ``ready`` (a new batch,
    a new key)."""
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
            if document.status in REMOVED:  # deleted by a correction or a rollback: not ours now
                continue
            transaction_id = by_reference.get(str(document.reference))
            if transaction_id:
                found[transaction_id] = document.bank_transaction_id
        return found
    candidates: list[tuple[str, tuple[XeroLineItem, ...]]]
    if endpoint == "Invoices":
        numbers = sorted({str(b.get("InvoiceNumber")) for b in bodies if b.get("InvoiceNumber")})
        invoices = xero.find_invoices_by_numbers(numbers)
        candidates = [(d.invoice_id, d.line_items) for d in invoices if d.status not in REMOVED]
    else:
        numbers = sorted(
            {str(b.get("CreditNoteNumber")) for b in bodies if b.get("CreditNoteNumber")}
        )
        where = " OR ".join(f'CreditNoteNumber=="{n}"' for n in numbers) or 'CreditNoteNumber==""'
        notes = xero.find_credit_notes(where)
        candidates = [(d.credit_note_id, d.line_items) for d in notes if d.status not in REMOVED]
    for transaction_id in transaction_ids:
        for xero_id, lines in candidates:
            text = " ".join(line.description or "" for line in lines[:1])
            if transaction_id in text and xero_id:
                found[transaction_id] = xero_id
                break
    return found
