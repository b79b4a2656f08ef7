"""One batch of up to 50 documents and its one Xero call: open, send, record the answer.

The batch row — its members, the exact bodies and a fresh ``Idempotency-Key`` — is committed and
its entries claimed *before* the call, and marked ``sent``; the Xero ids are committed after it.
A batch still ``sent`` afterwards (crash, lost connection, 500) has an unknown outcome: see
``recovery``, which looks it up and never sends it again. A batch Xero did not process (rate
limit, outage) is released: its entries wait.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any
from typing import Protocol

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin import posting
from plugin.infra import metrics
from plugin.ledger.transitions import rows_changed
from plugin.models import BatchState
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import PostingBatch
from plugin.models import utcnow
from plugin.xero.errors import XeroConnectionLost
from plugin.xero.errors import XeroConnectionRevoked
from plugin.xero.errors import XeroMalformedResponse
from plugin.xero.errors import XeroNeedsReconnect
from plugin.xero.errors import XeroRateLimited
from plugin.xero.errors import XeroServerError
from plugin.xero.errors import XeroUnavailable
from plugin.xero.errors import XeroValidationError
from plugin.xero.models import ElementResult
from plugin.xero.models import XeroBankTransaction
from plugin.xero.models import XeroCreditNote
from plugin.xero.models import XeroInvoice

log = logging.getLogger(__name__)

XERO_REJECTED = "xero_rejected"


class XeroWriter(Protocol):
    """What the ledger needs from the Xero client."""

    @property
    def in_flight(self) -> timedelta:
        """How long after sending a write it may still be in Xero's hands."""
        ...

    def create_documents(
        self, endpoint: str, elements: Sequence[dict[str, Any]], idempotency_key: str
    ) -> list[ElementResult]: ...

    def find_bank_transactions_by_reference(
        self, references: Sequence[str]
    ) -> list[XeroBankTransaction]: ...

    def find_invoices_by_numbers(self, numbers: Sequence[str]) -> list[XeroInvoice]: ...

    def find_credit_notes(self, where: str) -> list[XeroCreditNote]: ...

    def find_bank_transactions_in(
        self, account: str, start: date, end: date, modified_since: datetime | None = None
    ) -> list[XeroBankTransaction]: ...


class ClaimLost(Exception):
    """Another posting run took some of these ``ready`` entries first."""

    def __init__(self, org_id: int, taken: int) -> None:
        super().__init__(
            f"Another posting run took {taken} of the entries for organisation {org_id} first."
        )


def reference_of(endpoint: str, body: dict[str, Any]) -> str:
    """The reference a document is found by in Xero (its Reference or number)."""
    if endpoint == "BankTransactions":
        return str(body.get("Reference", ""))
    if endpoint == "Invoices":
        return str(body.get("InvoiceNumber", ""))
    return str(body.get("CreditNoteNumber", ""))


CARD_PAYMENT = "card_payment"  # a card bill or credit note waiting for its payment


def card_payment_intents(members: list[tuple[LedgerEntry, posting.Document]]) -> dict[str, Any]:
    """``{"card_payments": {transaction id: intent}}`` for the members that need a payment after
    posting (``posting.card_bills``); recorded with the batch, before the call."""
    intents = {
        document.amazon_transaction_id: document.payment.as_json()
        for _, document in members
        if document.payment is not None
    }
    return {"card_payments": intents} if intents else {}


def settlement_after_posting(batch: PostingBatch, entry: LedgerEntry) -> str | None:
    """What a just-posted document waits for: its card payment (``plugin.work.card_bill_payments``)
    when the batch recorded one, a Pay by Invoice settlement for any other bill, else nothing."""
    if entry.amazon_transaction_id in ((batch.request_summary or {}).get("card_payments") or {}):
        return CARD_PAYMENT
    return "awaiting_payment" if batch.endpoint == "Invoices" else None


def open_batch(
    session: Session,
    org_id: int,
    endpoint: str,
    members: list[tuple[LedgerEntry, posting.Document]],
    posting_run: int | None = None,
) -> PostingBatch:
    """Commit the batch (members, bodies, key) and mark it sent, before any call to Xero;
    ``posting_run`` names the posting run it belongs to (``plugin.ledger.posting_run_model``)."""
    batch = PostingBatch(
        organisation_id=org_id,
        idempotency_key=uuid.uuid4().hex,
        endpoint=endpoint,
        state=BatchState.PENDING,
        member_entry_ids=[int(entry.id or 0) for entry, _ in members],
        request_summary={
            "bodies": [document.body for _, document in members],
            "transaction_ids": [document.amazon_transaction_id for _, document in members],
            **card_payment_intents(members),
            **({"posting_run": posting_run} if posting_run is not None else {}),
        },
    )
    session.add(batch)
    session.flush()
    # Claim the entries only if they are still ``ready``: the organisation's Redis lock keeps a
    # second posting run away, but a Redis that restarted empty has forgotten the lock, and
    # then this conditional update is what keeps two runs from sending the same entry.
    ids = [int(entry.id or 0) for entry, _ in members]
    attempts = [entry.attempts + 1 for entry, _ in members]
    now = utcnow()
    claimed = rows_changed(
        session,
        update(LedgerEntry)
        .where(col(LedgerEntry.id).in_(ids), col(LedgerEntry.state) == EntryState.READY)
        .values(
            state=EntryState.POSTING,
            batch_id=batch.id,
            attempts=LedgerEntry.attempts + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False),
    )
    if claimed != len(ids):
        session.rollback()
        raise ClaimLost(org_id, len(ids) - claimed)
    session.commit()
    for (entry, _document), count in zip(members, attempts, strict=True):
        # What the update wrote, without reading it back.
        set_committed_value(entry, "state", EntryState.POSTING)
        set_committed_value(entry, "batch_id", batch.id)
        set_committed_value(entry, "attempts", count)
        set_committed_value(entry, "updated_at", now)
    batch.state = BatchState.SENT
    batch.sent_at = utcnow()
    batch.attempts += 1
    session.add(batch)
    session.commit()
    return batch


def batch_members(session: Session, batch: PostingBatch) -> list[LedgerEntry]:
    """The batch's entries, in the order of its bodies."""
    ids = list(batch.member_entry_ids or [])
    entries = {
        e.id: e for e in session.exec(select(LedgerEntry).where(col(LedgerEntry.id).in_(ids)))
    }
    return [entries[i] for i in ids if i in entries]


def send_batch(session: Session, batch: PostingBatch, xero: XeroWriter) -> tuple[int, int] | None:
    """Send a batch with its key, once; record the outcome. None when the outcome is unknown:
    the batch stays ``sent``, noting whether Xero answered (a 500: Xero has finished with it,
    so it can be looked up at once) or not (it may still be in flight)."""
    bodies = list((batch.request_summary or {}).get("bodies") or [])
    try:
        results = xero.create_documents(batch.endpoint, bodies, batch.idempotency_key)
    except (XeroConnectionLost, XeroServerError) as exc:
        log.warning("Batch %s outcome unknown: %s", batch.id, exc.message)
        batch.response_summary = {
            "unknown": exc.message,
            "answered": answered(exc),
            "timed_out": bool(getattr(exc, "timed_out", False)),
        }
        session.add(batch)
        session.commit()
        return None
    except (XeroRateLimited, XeroUnavailable, XeroNeedsReconnect, XeroConnectionRevoked):
        release_batch(session, batch)  # Xero did not process it: the entries simply wait
        raise
    except XeroValidationError as exc:
        _record_rejection(session, batch, exc.messages)
        return 0, len(bodies)
    return _record_results(session, batch, results)


def answered(error: XeroConnectionLost | XeroServerError) -> bool:
    """Whether Xero itself answered (and so has finished with the request): its own 500, or an
    answer we could not read. A lost connection or a gateway's 502/504 says nothing of that."""
    if isinstance(error, XeroMalformedResponse):
        return True
    return isinstance(error, XeroServerError) and error.status == 500


def release_batch(session: Session, batch: PostingBatch) -> None:
    """The batch was not processed by Xero: its entries go back to ``ready``."""
    for entry in batch_members(session, batch):
        if entry.state == EntryState.POSTING and entry.batch_id == batch.id:
            entry.state = EntryState.READY
            entry.batch_id = None
            session.add(entry)
    batch.state = BatchState.ABANDONED
    batch.recorded_at = utcnow()
    batch.response_summary = {"released": "Xero did not process this batch"}
    session.add(batch)
    session.commit()


def _record_rejection(session: Session, batch: PostingBatch, messages: list[str]) -> None:
    reason = "Xero refused the documents: " + "; ".join(messages)[:1000]
    for entry in batch_members(session, batch):
        entry.state = EntryState.FAILED
        entry.reason_code, entry.reason = XERO_REJECTED, reason
        session.add(entry)
    batch.state = BatchState.RECORDED
    batch.recorded_at = utcnow()
    batch.response_summary = {"rejected": messages[:20]}
    session.add(batch)
    session.commit()


def _record_results(
    session: Session, batch: PostingBatch, results: list[ElementResult]
) -> tuple[int, int]:
    members = batch_members(session, batch)
    bodies = list((batch.request_summary or {}).get("bodies") or [])
    posted = failed = 0
    now = utcnow()
    waited = []  # seconds from the ledger to Xero, per posted entry (posting latency)
    for entry, result, body in zip(members, results, bodies, strict=False):
        if result.ok and result.xero_id:
            entry.state = EntryState.POSTED
            entry.xero_document_type = batch.endpoint
            entry.xero_document_id = result.xero_id
            entry.xero_reference = reference_of(batch.endpoint, body)[:255]
            entry.posted_at = now
            waited.append((now - entry.created_at).total_seconds())
            entry.reason_code = entry.reason = None
            entry.settlement_state = settlement_after_posting(batch, entry)
            posted += 1
        else:
            entry.state = EntryState.FAILED
            entry.reason_code = XERO_REJECTED
            entry.reason = "Xero refused this document: " + "; ".join(result.messages)[:1000]
            failed += 1
        entry.updated_at = now
        session.add(entry)
    batch.state = BatchState.RECORDED
    batch.recorded_at = now
    batch.response_summary = {"posted": posted, "failed": failed}
    session.add(batch)
    session.commit()
    metrics.entries_posted(waited)
    return posted, failed
