"""Deciding what can post: each ``fetched`` or ``held`` entry becomes ``ready`` or ``held`` (or,
in review mode, ``review`` until the bookkeeper approves it: ``ledger.review``).

``held`` entries are evaluated again whenever the mapping or chart changes, except those a
rollback held (``HELD_AFTER_ROLLBACK``: only ``retry`` sends them back); ``failed`` ones
(Xero refused them) on a mapping change or an explicit ``retry``; ``review`` ones by every
posting run, which holds those that can no longer post and leaves the others untouched.
``context_for`` adds to the posting context what only the ledger knows: the charge lines a
refund credits, due dates, the codings chosen in review, the legal entities taken.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy import update
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin import posting
from plugin.amazon.legal_entities import scope_for
from plugin.ledger import review
from plugin.ledger.record import parsed
from plugin.ledger.rollbacks import HELD_AFTER_ROLLBACK
from plugin.ledger.transitions import move
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import utcnow

EVALUATE_CHUNK = 500
IN_XERO = (EntryState.POSTED, EntryState.POSTING, EntryState.BY_HAND, EntryState.CANCELLED)


@dataclass
class EvaluateCounts:
    """How many entries became ready, how many are held, how many wait for review, and how many
    changed state while they were being evaluated (marked posted by hand, say) and were left as
    they now are."""

    ready: int = 0
    held: int = 0
    changed_meanwhile: int = 0
    review: int = 0


def context_for(
    session: Session, org_id: int, entries: Sequence[LedgerEntry], base: posting.PostingContext
) -> posting.PostingContext:
    """The posting context with what the ledger knows: charge lines for refunds, due dates, the
    codings chosen in review, and which legal entities the organisation takes
    (``amazon.legal_entities.scope_for``)."""
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
    codings = {**base.codings, **review.codings_for(session, entries)}
    legal = scope_for(session, org_id, (e.amazon_transaction_id for e in entries))
    if legal is not None:  # a posted document is corrected where it is, whatever is taken now
        posted = {e.amazon_transaction_id for e in entries if e.state in IN_XERO}
        legal = dataclasses.replace(legal, in_these_books=frozenset(posted))
    return dataclasses.replace(
        base,
        original_line_items=originals,
        bill_due_dates=due_dates,
        codings=codings,
        legal_entities=legal,
    )


def evaluate(
    session: Session,
    org_id: int,
    mapping: posting.Mapping,
    chart: posting.Chart,
    context: posting.PostingContext,
    states: Iterable[str] = (EntryState.FETCHED, EntryState.HELD),
) -> EvaluateCounts:
    """Decide, for entries in ``states``, whether they can post now (``ready``), wait for the
    bookkeeper's approval (``review``), or why not (``held``)."""
    counts = EvaluateCounts()
    last_id = 0
    wanted = list(states)
    review_first = review.review_first(session, org_id)
    while True:
        chunk = list(
            session.exec(
                select(LedgerEntry)
                .where(
                    LedgerEntry.organisation_id == org_id,
                    col(LedgerEntry.state).in_(wanted),
                    col(LedgerEntry.id) > last_id,
                    ~(
                        (col(LedgerEntry.state) == EntryState.HELD)
                        & (func.coalesce(col(LedgerEntry.reason_code), "") == HELD_AFTER_ROLLBACK)
                    ),
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
        ids = [int(e.id or 0) for e in chunk]
        approved = review.approved_among(session, ids) if review_first else set()
        for entry in chunk:
            outcome = posting.translate(parsed(entry), mapping, chart, chunk_context)
            values: dict[str, object]
            if isinstance(outcome, posting.Document):
                if entry.state == EntryState.REVIEW:  # still postable: waits, untouched
                    counts.review += 1
                    continue
                waits = review_first and entry.id not in approved
                state = EntryState.REVIEW if waits else EntryState.READY
                values = {"state": state, "reason_code": None, "reason": None}
            else:
                values = {
                    "state": EntryState.HELD,
                    "reason_code": outcome.code,
                    "reason": outcome.reason,
                }
            if not move(session, entry, values):
                counts.changed_meanwhile += 1
            elif values["state"] == EntryState.READY:
                counts.ready += 1
            elif values["state"] == EntryState.REVIEW:
                counts.review += 1
            else:
                counts.held += 1
        session.commit()


def retry(session: Session, org_id: int, entry_ids: Sequence[int] | None = None) -> int:
    """Put failed (or given held/failed) entries back to ``fetched`` for a fresh evaluation."""
    statement = update(LedgerEntry).where(col(LedgerEntry.organisation_id) == org_id)
    if entry_ids is not None:
        statement = statement.where(col(LedgerEntry.id).in_(list(entry_ids)))
    statement = statement.where(
        col(LedgerEntry.state).in_([EntryState.FAILED, EntryState.HELD])
    ).values(state=EntryState.FETCHED, updated_at=utcnow())
    result = session.exec(statement)
    session.commit()
    return int(result.rowcount or 0)
