"""Posting every ``ready`` entry: recover unknown batches first, then send the rest in batches
of up to ``BATCH_SIZE`` documents per Xero endpoint.

A batch whose outcome is unknown is never sent again: when Xero answered (a 500) it is looked up
at once, in the same run; otherwise its entries wait, claimed, until the request can no longer
be in flight; ``recovery.next_lookup_at`` tells the caller when to come back for them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin import posting
from plugin.ledger.bank_feed_guard import BankFeedGuard
from plugin.ledger.bank_feed_guard import FeedCache
from plugin.ledger.batches import ClaimLost
from plugin.ledger.batches import XeroWriter
from plugin.ledger.batches import open_batch
from plugin.ledger.batches import send_batch
from plugin.ledger.evaluation import context_for
from plugin.ledger.record import parsed
from plugin.ledger.recovery import recover
from plugin.models import EntryState
from plugin.models import LedgerEntry

log = logging.getLogger(__name__)

BATCH_SIZE = 50
SCAN = BATCH_SIZE * 4  # ready entries read (and translated) at a time


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
    lookup_at: datetime | None = None  # when the batches still in doubt can be looked up


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
    feed_cache: FeedCache | None = None,
    guard: BankFeedGuard | None = None,
    more_coming: bool = False,
    posting_run: Callable[[], int] | None = None,
) -> PostCounts:
    """Post every ``ready`` entry, after recovering any batch whose outcome is unknown.

    ``on_batch`` is called after each batch (the job keeps its organisation lock alive);
    ``feed_cache`` keeps what the bank-feed guard saw of the card accounts for the next run
    (``guard``: one the caller keeps across calls). ``more_coming`` (an import is still
    fetching): only full batches are sent, the rest waits for the next call. ``posting_run``
    gives the id of the run's ``PostingRun`` row (made when first asked), which each batch names.

    Raises the Xero errors that mean "stop for now" (rate limited, unavailable, reconnect) after
    putting the batch's entries back to ``ready``; the caller re-queues the job.
    """
    counts = PostCounts()
    counts.recovered = recover(session, org_id, xero, now=now)
    guard = guard or BankFeedGuard(session, org_id, xero, feed_cache)
    while max_batches is None or counts.batches < max_batches:
        entries = list(
            session.exec(
                select(LedgerEntry)
                .where(LedgerEntry.organisation_id == org_id, LedgerEntry.state == EntryState.READY)
                .order_by(col(LedgerEntry.transaction_date), col(LedgerEntry.id))
                .limit(SCAN)
            )
        )
        if not entries:
            break
        last_scan = len(entries) < SCAN and not more_coming
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
        if "BankTransactions" in by_endpoint:  # never a double entry with the bank feed
            kept, duplicates = guard.hold_duplicates(by_endpoint["BankTransactions"])
            by_endpoint["BankTransactions"] = kept
            counts.held += duplicates
        # A part-filled batch waits for the next scan, which reads its entries again with more
        # of their endpoint's (the scan mixes endpoints): fewer, fuller calls. The last scan,
        # or one with no full batch at all, sends what it has.
        full_only = not last_scan and any(len(m) >= BATCH_SIZE for m in by_endpoint.values())
        if more_coming and not full_only:
            return counts  # no full batch yet: the next call, or the run after the import
        for endpoint, members in by_endpoint.items():
            for start in range(0, len(members), BATCH_SIZE):
                if max_batches is not None and counts.batches >= max_batches:
                    return counts
                chunk = members[start : start + BATCH_SIZE]
                if full_only and len(chunk) < BATCH_SIZE:
                    break
                try:
                    run_id = posting_run() if posting_run is not None else None
                    batch = open_batch(session, org_id, endpoint, chunk, run_id)
                except ClaimLost as lost:  # someone else is posting this organisation
                    log.warning("Posting stopped: %s", lost)
                    counts.stopped = str(lost)
                    return counts
                counts.batches += 1
                sent = send_batch(session, batch, xero)
                if sent is None:
                    counts.unknown_batches.append(int(batch.id or 0))
                    # Answered (a 500): look it up now. Else it may still be in flight: its
                    # entries wait, claimed, for a later run (``next_lookup_at``).
                    counts.recovered += recover(session, org_id, xero, now=now)
                    continue
                counts.posted += sent[0]
                counts.failed += sent[1]
                if on_batch is not None:
                    on_batch()
    return counts
