"""The ledger: every Amazon Business transaction of an organisation, and its way into Xero.

Exactly once, whatever happens:

- An entry is unique per (organisation, Amazon ``transactionId``) in the database. Re-importing
  adds nothing already known; a changed payload of a not-yet-posted entry is updated (and
  evaluated again), of a posted one only flagged for review.
- States (design §3): ``fetched`` → ``held`` | ``ready`` → ``posting`` → ``posted`` | ``failed``.
  ``held`` entries are evaluated again whenever the mapping or chart changes; ``failed`` ones
  (Xero refused them) on a mapping change or an explicit retry. A ``held`` or ``failed`` entry
  the user posted in Xero by hand is marked ``by_hand`` (``mark_posted_by_hand``): final, so a
  later mapping fix cannot post it a second time. Every change of state that can race a user's
  mark is a conditional update on the state it was read in.
- Posting goes in batches of up to 50 documents per Xero call. The batch row — its members, the
  exact bodies and a fresh ``Idempotency-Key`` — is committed *before* the call and marked
  ``sent``; the Xero ids are committed after it. A batch still ``sent`` afterwards (crash, lost
  connection, 500) has an unknown outcome and is recovered before anything else is posted:
  within 5 minutes it is re-sent with the same key (Xero replays the first answer instead of
  creating twice); later, each member is looked up in Xero by its reference and only the ones
  not found are posted again.

The functions take a session and plain objects (a Xero client, the mapping, the chart); jobs
call them. Nothing here talks HTTP except through the client passed in.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from typing import Any
from typing import Protocol

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin import posting
from plugin.amazon.models import ParseFailure
from plugin.amazon.models import Transaction
from plugin.amazon.models import TransactionsPage
from plugin.amazon.models import parse_transaction
from plugin.models import BatchState
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import PostingBatch
from plugin.models import utcnow
from plugin.xero.client import ElementResult
from plugin.xero.errors import XeroConnectionLost
from plugin.xero.errors import XeroConnectionRevoked
from plugin.xero.errors import XeroNeedsReconnect
from plugin.xero.errors import XeroRateLimited
from plugin.xero.errors import XeroServerError
from plugin.xero.errors import XeroUnavailable
from plugin.xero.errors import XeroValidationError

log = logging.getLogger(__name__)

BATCH_SIZE = 50
REPLAY_WINDOW = timedelta(minutes=5)  # Xero remembers an Idempotency-Key for about 6
REPLAY_PAUSES = (0.0, 1.0, 3.0)  # re-sends of an unknown batch within one run
# After a read time-out Xero may still be working on the request: a replay racing it could
# arrive before Xero has stored the answer to its key, so the first re-send waits longer.
REPLAY_PAUSES_AFTER_TIMEOUT = (10.0, 3.0, 5.0)
EVALUATE_CHUNK = 500
PARSE_ERROR = "parse_error"
XERO_REJECTED = "xero_rejected"


class XeroWriter(Protocol):
    """What the ledger needs from the Xero client."""

    def create_documents(
        self, endpoint: str, elements: Sequence[dict[str, Any]], idempotency_key: str
    ) -> list[ElementResult]: ...

    def find_bank_transactions_by_reference(self, references: Sequence[str]) -> list[dict]: ...

    def find_invoices_by_numbers(self, numbers: Sequence[str]) -> list[dict[str, Any]]: ...

    def find_credit_notes(self, where: str) -> list[dict[str, Any]]: ...


# --- Recording what Amazon sent ------------------------------------------------------------


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


def _descriptors(item: Transaction | ParseFailure) -> dict[str, Any]:
    if isinstance(item, ParseFailure):
        return {}
    first = item.line_items[0] if item.line_items else None
    return {
        "transaction_type": item.transaction_type or "",
        "transaction_date": item.transaction_date,
        "feed_date": item.feed_date,
        "amount": item.amount.amount if item.amount else 0,
        "currency": item.amount.currency_code if item.amount else "",
        "payment_method_key": item.payment_method_key,
        "order_id": first.order_id if first else None,
        "invoice_number": item.invoice_number,
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
"""States whose document is (or may be) in Xero: a changed payload only flags them for review."""


def _record(
    session: Session,
    org_id: int,
    connection_id: int | None,
    items: list[Transaction | ParseFailure],
) -> RecordCounts:
    counts = RecordCounts()
    prepared = []
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
        else:
            entry.needs_review = True  # never re-posted: a person decides
            entry.updated_at = now
            session.add(entry)
            counts.flagged += 1
    session.flush()
    return counts


def _replace_payload(session: Session, entry: LedgerEntry, values: dict[str, Any]) -> bool:
    """Store Amazon's changed payload on an entry not (yet) in Xero; False when its document is
    or may be in Xero (``FINAL_IN_XERO``), found now or after it changed meanwhile."""
    for _look in range(2):
        if entry.state in FINAL_IN_XERO:
            return False
        if _move(session, entry, values):
            return True
        session.refresh(entry)  # it changed meanwhile (marked posted by hand, say): look again
    return False


def parsed(entry: LedgerEntry) -> Transaction | ParseFailure:
    """The entry's transaction, read again from its stored payload."""
    return parse_transaction(entry.raw_payload or {})


# --- Deciding what can post ------------------------------------------------------------------


@dataclass
class EvaluateCounts:
    """How many entries became ready, how many are held, and how many changed state while they
    were being evaluated (marked posted by hand, say) and were left as they now are."""

    ready: int = 0
    held: int = 0
    changed_meanwhile: int = 0


def context_for(
    session: Session, org_id: int, entries: Sequence[LedgerEntry], base: posting.PostingContext
) -> posting.PostingContext:
    """The posting context with what the ledger knows: charge lines for refunds, due dates."""
    order_ids = {e.order_id for e in entries if e.order_id and e.transaction_type != "CHARGE"}
    originals = dict(base.original_line_items)
    if order_ids:
        charges = session.exec(
            select(LedgerEntry).where(
                LedgerEntry.organisation_id == org_id,
                LedgerEntry.transaction_type == "CHARGE",
                col(LedgerEntry.order_id).in_(order_ids),
            )
        )
        for key, item in posting.charge_line_index(parsed(c) for c in charges).items():
            originals.setdefault(key, item)
    due_dates = dict(base.bill_due_dates)
    for entry in entries:
        if entry.invoice_number and entry.bill_due_date:
            due_dates.setdefault(entry.invoice_number, entry.bill_due_date)
    return dataclasses.replace(base, original_line_items=originals, bill_due_dates=due_dates)


def evaluate(
    session: Session,
    org_id: int,
    mapping: posting.Mapping,
    chart: posting.Chart,
    context: posting.PostingContext,
    states: Iterable[str] = (EntryState.FETCHED, EntryState.HELD),
) -> EvaluateCounts:
    """Decide, for entries in ``states``, whether they can post now (``ready``) or why not."""
    counts = EvaluateCounts()
    last_id = 0
    wanted = list(states)
    while True:
        chunk = list(
            session.exec(
                select(LedgerEntry)
                .where(
                    LedgerEntry.organisation_id == org_id,
                    col(LedgerEntry.state).in_(wanted),
                    col(LedgerEntry.id) > last_id,
                )
                .order_by(col(LedgerEntry.id))
                .limit(EVALUATE_CHUNK)
                .execution_options(populate_existing=True)  # the states as they are now
            )
        )
        if not chunk:
            return counts
        last_id = int(chunk[-1].id or 0)
        chunk_context = context_for(session, org_id, chunk, context)
        for entry in chunk:
            outcome = posting.translate(parsed(entry), mapping, chart, chunk_context)
            if isinstance(outcome, posting.Document):
                values = {"state": EntryState.READY, "reason_code": None, "reason": None}
            else:
                values = {
                    "state": EntryState.HELD,
                    "reason_code": outcome.code,
                    "reason": outcome.reason,
                }
            if not _move(session, entry, values):
                counts.changed_meanwhile += 1
            elif values["state"] == EntryState.READY:
                counts.ready += 1
            else:
                counts.held += 1
        session.commit()


def _move(session: Session, entry: LedgerEntry, values: dict[str, Any]) -> bool:
    """Write ``values`` to the entry only if it is still in the state it was read in (the user
    may have marked it posted by hand meanwhile); False when it was not."""
    values = {**values, "updated_at": utcnow()}
    changed = session.execute(
        update(LedgerEntry)
        .where(col(LedgerEntry.id) == entry.id, col(LedgerEntry.state) == entry.state)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        session.expire(entry)
        return False
    for name, value in values.items():
        set_committed_value(entry, name, value)
    return True


# --- Posting ---------------------------------------------------------------------------------


@dataclass
class PostCounts:
    """What a posting run did."""

    posted: int = 0
    failed: int = 0
    held: int = 0
    recovered: int = 0
    batches: int = 0
    unknown_batches: list[int] = field(default_factory=list)
    stopped: str | None = None  # why the run stopped early (another run took its entries)


def _reference_of(endpoint: str, body: dict[str, Any]) -> str:
    if endpoint == "BankTransactions":
        return str(body.get("Reference", ""))
    if endpoint == "Invoices":
        return str(body.get("InvoiceNumber", ""))
    return str(body.get("CreditNoteNumber", ""))


def post_ready(
    session: Session,
    org_id: int,
    xero: XeroWriter,
    mapping: posting.Mapping,
    chart: posting.Chart,
    context: posting.PostingContext,
    now: datetime | None = None,
    max_batches: int | None = None,
    on_batch: Callable[[], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> PostCounts:
    """Post every ``ready`` entry, after recovering any batch whose outcome is unknown.

    ``on_batch`` is called after each batch (the job keeps its organisation lock alive).

    Raises the Xero errors that mean "stop for now" (rate limited, unavailable, reconnect) after
    putting the batch's entries back to ``ready``; the caller re-queues the job.
    """
    counts = PostCounts()
    counts.recovered = recover(session, org_id, xero, now=now)
    while max_batches is None or counts.batches < max_batches:
        entries = list(
            session.exec(
                select(LedgerEntry)
                .where(LedgerEntry.organisation_id == org_id, LedgerEntry.state == EntryState.READY)
                .order_by(col(LedgerEntry.transaction_date), col(LedgerEntry.id))
                .limit(BATCH_SIZE * 4)
            )
        )
        if not entries:
            break
        batch_context = context_for(session, org_id, entries, context)
        by_endpoint: dict[str, list[tuple[LedgerEntry, posting.Document]]] = {}
        for entry in entries:
            outcome = posting.translate(parsed(entry), mapping, chart, batch_context)
            if isinstance(outcome, posting.Held):
                entry.state = EntryState.HELD
                entry.reason_code, entry.reason = outcome.code, outcome.reason
                session.add(entry)
                counts.held += 1
                continue
            by_endpoint.setdefault(outcome.endpoint, []).append((entry, outcome))
        session.commit()
        for endpoint, members in by_endpoint.items():
            for start in range(0, len(members), BATCH_SIZE):
                if max_batches is not None and counts.batches >= max_batches:
                    return counts
                chunk = members[start : start + BATCH_SIZE]
                try:
                    batch = _open_batch(session, org_id, endpoint, chunk)
                except ClaimLost as lost:  # someone else is posting this organisation
                    log.warning("Posting stopped: %s", lost)
                    counts.stopped = str(lost)
                    return counts
                counts.batches += 1
                outcome = _send(session, batch, xero)
                if outcome is None:
                    counts.unknown_batches.append(int(batch.id or 0))
                    # Resolve it now (same key: Xero replays its first answer), a few times
                    # with a short pause, rather than leave the entries waiting for a later run.
                    timed_out = bool((batch.response_summary or {}).get("timed_out"))
                    for pause in REPLAY_PAUSES_AFTER_TIMEOUT if timed_out else REPLAY_PAUSES:
                        sleep(pause)
                        counts.recovered += recover(session, org_id, xero, now=now)
                        session.refresh(batch)
                        if batch.state not in (BatchState.PENDING, BatchState.SENT):
                            break
                    continue
                counts.posted += outcome[0]
                counts.failed += outcome[1]
                if on_batch is not None:
                    on_batch()
    return counts


class ClaimLost(Exception):
    """Another posting run took some of these ``ready`` entries first."""

    def __init__(self, org_id: int, taken: int) -> None:
        super().__init__(
            f"Another posting run took {taken} of the entries for organisation {org_id} first."
        )


def _open_batch(
    session: Session,
    org_id: int,
    endpoint: str,
    members: list[tuple[LedgerEntry, posting.Document]],
) -> PostingBatch:
    """Commit the batch (members, bodies, key) and mark it sent, before any call to Xero."""
    batch = PostingBatch(
        organisation_id=org_id,
        idempotency_key=uuid.uuid4().hex,
        endpoint=endpoint,
        state=BatchState.PENDING,
        member_entry_ids=[int(entry.id or 0) for entry, _ in members],
        request_summary={
            "bodies": [document.body for _, document in members],
            "transaction_ids": [document.amazon_transaction_id for _, document in members],
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
    claimed = session.execute(
        update(LedgerEntry)
        .where(col(LedgerEntry.id).in_(ids), col(LedgerEntry.state) == EntryState.READY)
        .values(
            state=EntryState.POSTING,
            batch_id=batch.id,
            attempts=LedgerEntry.attempts + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
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


def _members(session: Session, batch: PostingBatch) -> list[LedgerEntry]:
    ids = list(batch.member_entry_ids or [])
    entries = {
        e.id: e for e in session.exec(select(LedgerEntry).where(col(LedgerEntry.id).in_(ids)))
    }
    return [entries[i] for i in ids if i in entries]


def _send(
    session: Session, batch: PostingBatch, xero: XeroWriter, first_attempt: bool = True
) -> tuple[int, int] | None:
    """Send a batch with its key; record the outcome. None when the outcome is unknown.

    A refusal before processing (rate limit, outage, auth) releases the entries only on the
    first attempt: on a re-send the first attempt may still have been processed.
    """
    bodies = list((batch.request_summary or {}).get("bodies") or [])
    try:
        results = xero.create_documents(batch.endpoint, bodies, batch.idempotency_key)
    except (XeroConnectionLost, XeroServerError) as exc:
        log.warning("Batch %s outcome unknown: %s", batch.id, exc.message)
        batch.response_summary = {
            "unknown": exc.message,
            "timed_out": bool(getattr(exc, "timed_out", False)),
        }
        session.add(batch)
        session.commit()
        return None
    except (XeroRateLimited, XeroUnavailable, XeroNeedsReconnect, XeroConnectionRevoked):
        if first_attempt:
            _release(session, batch)  # Xero did not process it: the entries simply wait
        raise
    except XeroValidationError as exc:
        _record_rejection(session, batch, exc.messages)
        return 0, len(bodies)
    return _record_results(session, batch, results)


def _release(session: Session, batch: PostingBatch) -> None:
    """The batch was not processed by Xero: its entries go back to ``ready``."""
    for entry in _members(session, batch):
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
    for entry in _members(session, batch):
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
    members = _members(session, batch)
    bodies = list((batch.request_summary or {}).get("bodies") or [])
    posted = failed = 0
    now = utcnow()
    for entry, result, body in zip(members, results, bodies, strict=False):
        if result.ok and result.xero_id:
            entry.state = EntryState.POSTED
            entry.xero_document_type = batch.endpoint
            entry.xero_document_id = result.xero_id
            entry.xero_reference = _reference_of(batch.endpoint, body)[:255]
            entry.posted_at = now
            entry.reason_code = entry.reason = None
            if batch.endpoint == "Invoices":
                entry.settlement_state = "awaiting_payment"
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
    return posted, failed


# --- Recovery --------------------------------------------------------------------------------


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
        members = _members(session, batch)
        if batch.state == BatchState.PENDING:
            _release(session, batch)  # committed but never sent: nothing reached Xero
            continue
        sent_at = batch.sent_at or batch.created_at
        if now - sent_at < REPLAY_WINDOW:
            # Xero still remembers the key: the same request gets the first answer back (or is
            # processed now if it never arrived). Unknown again: leave it for the next run.
            batch.attempts += 1
            session.add(batch)
            session.commit()
            outcome = _send(session, batch, xero, first_attempt=False)
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
            entry.xero_reference = _reference_of(batch.endpoint, body)[:255]
            entry.posted_at = now
            if batch.endpoint == "Invoices":
                entry.settlement_state = "awaiting_payment"
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
            transaction_id = by_reference.get(str(document.get("Reference")))
            if transaction_id and document.get("BankTransactionID"):
                found[transaction_id] = str(document["BankTransactionID"])
        return found
    if endpoint == "Invoices":
        numbers = sorted({str(b.get("InvoiceNumber")) for b in bodies if b.get("InvoiceNumber")})
        candidates = xero.find_invoices_by_numbers(numbers)
        id_field = "InvoiceID"
    else:
        numbers = sorted(
            {str(b.get("CreditNoteNumber")) for b in bodies if b.get("CreditNoteNumber")}
        )
        where = " OR ".join(f'CreditNoteNumber=="{n}"' for n in numbers) or 'CreditNoteNumber==""'
        candidates = xero.find_credit_notes(where)
        id_field = "CreditNoteID"
    for transaction_id in transaction_ids:
        for document in candidates:
            lines = document.get("LineItems") or []
            text = " ".join(str(line.get("Description", "")) for line in lines[:1])
            if transaction_id in text and document.get(id_field):
                found[transaction_id] = str(document[id_field])
                break
    return found


# --- Reading the ledger ------------------------------------------------------------------------


def counts_by_state(session: Session, org_id: int) -> dict[str, int]:
    """How many entries the org has in each state."""
    from sqlalchemy import func

    rows = session.exec(
        select(LedgerEntry.state, func.count())
        .where(LedgerEntry.organisation_id == org_id)
        .group_by(LedgerEntry.state)
    )
    return {str(state): int(count) for state, count in rows}


def retry(session: Session, org_id: int, entry_ids: Sequence[int] | None = None) -> int:
    """Put failed (or given held/failed) entries back to ``fetched`` for a fresh evaluation."""
    statement = update(LedgerEntry).where(col(LedgerEntry.organisation_id) == org_id)
    if entry_ids is not None:
        statement = statement.where(col(LedgerEntry.id).in_(list(entry_ids)))
    statement = statement.where(
        col(LedgerEntry.state).in_([EntryState.FAILED, EntryState.HELD])
    ).values(state=EntryState.FETCHED, updated_at=utcnow())
    result = session.exec(statement)  # type: ignore[call-overload]
    session.commit()
    return int(result.rowcount or 0)


# --- Posted by hand --------------------------------------------------------------------------

BY_HAND = "posted_by_hand"


def mark_posted_by_hand(session: Session, org_id: int, entry_id: int, actor: str) -> bool:
    """The user posted this held or failed entry in Xero themselves: make it final, so that a
    later fix (a mapping, a lock date) can never post it a second time. The reason it was held
    is kept in the new reason. False when the entry is no longer held or failed (it moved on
    meanwhile, or belongs to another organisation)."""
    entry = session.exec(
        select(LedgerEntry)
        .where(LedgerEntry.id == entry_id, LedgerEntry.organisation_id == org_id)
        .execution_options(populate_existing=True)
    ).first()
    if entry is None or entry.state not in (EntryState.HELD, EntryState.FAILED):
        return False
    was = f" It had been {'held' if entry.state == EntryState.HELD else 'refused by Xero'}"
    reason = f"Posted in Xero by hand (marked by {actor} on {utcnow():%d %b %Y})." + (
        f"{was}: {entry.reason}" if entry.reason else ""
    )
    moved = _move(
        session, entry, {"state": EntryState.BY_HAND, "reason_code": BY_HAND, "reason": reason}
    )
    session.commit()
    return moved


def unmark_posted_by_hand(session: Session, org_id: int, entry_id: int) -> bool:
    """Take the mark back: the entry is evaluated again and posts if it can (the user says it
    is not in Xero after all). False when the entry is not marked."""
    changed = session.execute(
        update(LedgerEntry)
        .where(
            col(LedgerEntry.id) == entry_id,
            col(LedgerEntry.organisation_id) == org_id,
            col(LedgerEntry.state) == EntryState.BY_HAND,
        )
        .values(state=EntryState.FETCHED, reason_code=None, reason=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    return bool(changed)
