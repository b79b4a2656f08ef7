"""Correcting documents already posted, exactly once (issue 14 points 2 and 5).

When Amazon feeds a posted transaction again with another amount or other lines, or cancels
it, ``note_change`` (called by ``record``) records a ``Correction`` (``pending``): the version
as posted and the new one. It never touches Xero. The posting run then calls
``apply_corrections``, under the organisation's lock, for each pending correction in order:

1. the Xero document is read (one GET per document): if it is reconciled, paid, has payments or
   credits, or is already deleted/voided, the correction is ``held`` and nothing is sent: the
   entry shows both versions and what the bookkeeper should do (``advice``);
2. otherwise the change is planned from the new version and the current mapping: new lines
   (the document's ``LineItemID``s kept, in order) or, on cancellation, ``DELETED`` for a bank
   transaction and ``VOIDED`` for a bill;
3. the exact body and a fresh ``Idempotency-Key`` are committed (``sent``, claimed by a
   conditional update so two runs never both send it) before the one ``POST /{Endpoint}/{id}``;
4. Xero's answer is recorded (``applied``: the entry takes the new version; or ``held`` with
   Xero's refusal), with an ``AuditEvent`` (who, when, before, after).

A correction still ``sent`` at a later run (killed worker, lost connection, 500) is never sent
again blindly: once it can no longer be in flight (at once when Xero answered a 500), the
document is read; if it shows the change the correction is recorded ``applied``, else it goes
back to ``pending`` and step 1 runs again (a new key). A rate limit or an outage puts the
correction back to ``pending`` and stops the run (the posting job comes back).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin import posting
from plugin.amazon.models import Transaction
from plugin.amazon.models import parse_transaction
from plugin.ledger.batches import answered
from plugin.ledger.correction_model import Correction
from plugin.ledger.correction_model import CorrectionCause
from plugin.ledger.correction_model import CorrectionState
from plugin.ledger.correction_outcomes import CorrectionCounts
from plugin.ledger.correction_outcomes import hold
from plugin.ledger.correction_outcomes import open_corrections
from plugin.ledger.correction_outcomes import read_or_hold
from plugin.ledger.correction_outcomes import record_applied
from plugin.ledger.correction_outcomes import resolve_sent
from plugin.ledger.correction_outcomes import take_new_version
from plugin.ledger.evaluation import context_for
from plugin.ledger.transitions import rows_changed
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import utcnow
from plugin.posting import corrections as rules
from plugin.xero.documents import EDITABLE
from plugin.xero.documents import change_document
from plugin.xero.errors import XeroConnectionLost
from plugin.xero.errors import XeroConnectionRevoked
from plugin.xero.errors import XeroNeedsReconnect
from plugin.xero.errors import XeroRateLimited
from plugin.xero.errors import XeroServerError
from plugin.xero.errors import XeroUnavailable
from plugin.xero.errors import XeroValidationError

log = logging.getLogger(__name__)

FEED = "Amazon Business feed"
NOT_IN_XERO = (
    EntryState.FETCHED,
    EntryState.HELD,
    EntryState.REVIEW,
    EntryState.READY,
    EntryState.FAILED,
)


# --- Recording a change (from the import) -----------------------------------------------------


def corrections_of(session: Session, entry_id: int) -> list[Correction]:
    """An entry's corrections, oldest first (its history of changes)."""
    return list(
        session.exec(
            select(Correction)
            .where(Correction.ledger_entry_id == entry_id)
            .order_by(col(Correction.id))
        )
    )


def note_change(
    session: Session, entry: LedgerEntry, payload: dict[str, Any], digest: str, actor: str = FEED
) -> bool:
    """Record Amazon's new version of a posted transaction as a pending correction (no call to
    Xero). False when this version is already known (recorded, applied or held)."""
    history = corrections_of(session, int(entry.id or 0))
    if any(c.after_hash == digest for c in history):
        return False
    item = parse_transaction(payload)
    cancelled = isinstance(item, Transaction) and rules.is_cancellation(item)
    cause = CorrectionCause.AMAZON_CANCELLED if cancelled else CorrectionCause.AMAZON_CHANGED
    pending = next((c for c in history if c.state == CorrectionState.PENDING), None)
    if pending is not None:  # not sent yet: the newest version replaces the one it waits with
        pending.after_payload, pending.after_hash, pending.cause = payload, digest, cause
        session.add(pending)
    else:
        session.add(
            Correction(
                organisation_id=entry.organisation_id,
                ledger_entry_id=int(entry.id or 0),
                cause=cause,
                actor=actor,
                endpoint=entry.xero_document_type,
                xero_document_id=entry.xero_document_id,
                before_payload=entry.raw_payload,
                after_payload=payload,
                after_hash=digest,
            )
        )
    entry.needs_review = True  # until the correction is applied
    entry.updated_at = utcnow()
    session.add(entry)
    return True


# --- Applying (the posting run) -----------------------------------------------------------------


def _plan(
    session: Session,
    correction: Correction,
    entry: LedgerEntry,
    document: dict[str, Any],
    rules_in: tuple[posting.Mapping, posting.Chart, posting.PostingContext],
) -> tuple[str, dict[str, Any]] | str:
    """(action, body) to send, or why the change cannot be made by the app."""
    endpoint = str(correction.endpoint)
    if correction.cause in (CorrectionCause.AMAZON_CANCELLED, CorrectionCause.ROLLBACK):
        return ("void" if endpoint != "BankTransactions" else "delete"), rules.cancel_body(endpoint)
    item = parse_transaction(correction.after_payload or {})
    if not isinstance(item, Transaction):
        return "Amazon's new version cannot be read."
    mapping, chart, context = rules_in
    outcome = posting.translate(
        item, mapping, chart, context_for(session, entry.organisation_id, [entry], context)
    )
    if isinstance(outcome, posting.Held):
        return f"The new version cannot be posted as it is: {outcome.reason}"
    if outcome.endpoint != endpoint:
        return "The new version would be another kind of Xero document."
    return "update", rules.update_body(outcome.body, document)


def _claim(session: Session, correction: Correction, action: str, body: dict[str, Any]) -> bool:
    """Commit the exact body and a fresh key (``sent``) before the call; False if another run
    took the correction first."""
    key = uuid.uuid4().hex
    now = utcnow()
    claimed = rows_changed(
        session,
        update(Correction)
        .where(
            col(Correction.id) == correction.id, col(Correction.state) == CorrectionState.PENDING
        )
        .values(
            state=CorrectionState.SENT,
            action=action,
            body=body,
            idempotency_key=key,
            sent_at=now,
            attempts=Correction.attempts + 1,
            answered=False,
            before_document=correction.before_document,
        )
        .execution_options(synchronize_session=False),
    )
    session.commit()
    session.refresh(correction)
    return claimed == 1


def _send(
    session: Session, correction: Correction, entry: LedgerEntry, xero: Any
) -> CorrectionCounts:
    counts = CorrectionCounts()
    try:
        answer = change_document(
            xero,
            str(correction.endpoint),
            str(correction.xero_document_id),
            correction.body or {},
            str(correction.idempotency_key),
        )
    except (XeroConnectionLost, XeroServerError) as exc:
        log.warning("Correction %s outcome unknown: %s", correction.id, exc.message)
        correction.answered = answered(exc)
        session.add(correction)
        session.commit()
        counts.unknown += 1
        return counts
    except (XeroRateLimited, XeroUnavailable, XeroNeedsReconnect, XeroConnectionRevoked):
        correction.state = CorrectionState.PENDING  # not processed by Xero: it waits
        session.add(correction)
        session.commit()
        raise
    except XeroValidationError as exc:
        why = "Xero refused the change: " + "; ".join(exc.messages)[:600]
        hold(session, correction, entry, why, locked="reconciled" in why or "payment" in why)
        counts.held += 1
        return counts
    record_applied(session, correction, entry, answer)
    counts.applied += 1
    return counts


def apply_corrections(
    session: Session,
    org_id: int,
    xero: Any,
    mapping: posting.Mapping,
    chart: posting.Chart,
    context: posting.PostingContext,
    now: datetime | None = None,
) -> CorrectionCounts:
    """Apply every pending correction of the organisation (see the module doc)."""
    counts = resolve_sent(session, org_id, xero, now)
    in_doubt = {c.ledger_entry_id for c in open_corrections(session, org_id, CorrectionState.SENT)}
    for correction in open_corrections(session, org_id, CorrectionState.PENDING):
        entry = session.get(LedgerEntry, correction.ledger_entry_id)
        if entry is None or correction.ledger_entry_id in in_doubt:
            counts.waiting += 1
            continue
        if entry.state == EntryState.POSTING:
            counts.waiting += 1  # its document may be on its way to Xero: the next run
            continue
        if entry.state in NOT_IN_XERO and correction.cause != CorrectionCause.ROLLBACK:
            # Its document never reached Xero after all (recovery found none): the entry
            # simply takes the new version, and posts it.
            if take_new_version(session, correction, entry):
                counts.applied += 1
            continue
        if (
            entry.state != EntryState.POSTED
            or not entry.xero_document_id
            or entry.xero_document_type not in EDITABLE
        ):
            hold(session, correction, entry, "The document in Xero was not posted by this app.")
            counts.held += 1
            continue
        correction.endpoint = entry.xero_document_type
        correction.xero_document_id = entry.xero_document_id
        document = read_or_hold(session, xero, correction, entry)
        if document is None:
            counts.held += 1
            continue
        correction.before_document = rules.summary(document)
        locked = rules.lock_reason(str(correction.endpoint), document)
        if locked:
            hold(session, correction, entry, locked, locked=True)
            counts.held += 1
            continue
        planned = _plan(session, correction, entry, document, (mapping, chart, context))
        if isinstance(planned, str):
            hold(session, correction, entry, planned)
            counts.held += 1
            continue
        action, body = planned
        if not _claim(session, correction, action, body):
            continue  # another run took it
        sent = _send(session, correction, entry, xero)
        if sent.unknown:  # a later correction of this entry waits until this one is known
            in_doubt.add(correction.ledger_entry_id)
        counts.applied += sent.applied
        counts.held += sent.held
        counts.unknown += sent.unknown
    return counts
