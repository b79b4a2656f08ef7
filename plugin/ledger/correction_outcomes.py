"""What becomes of a correction (``ledger.corrections``): applied (the entry takes Amazon's new
version), held (the document is left as it is; the entry says what the bookkeeper should do),
and the look-up of a correction whose answer was lost: the document is read once the request
can no longer be in flight (at once after a 500) and the correction recorded ``applied`` if
Xero shows the change, else put back to ``pending`` (planned again, a new key): never sent twice.
Every outcome is an ``AuditEvent`` too (who, when, the document before and after).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.amazon.models import parse_transaction
from plugin.ledger.correction_advice import advice
from plugin.ledger.correction_model import Correction
from plugin.ledger.correction_model import CorrectionCause
from plugin.ledger.correction_model import CorrectionState
from plugin.ledger.rollbacks import HELD_AFTER_ROLLBACK
from plugin.ledger.rollbacks import ROLLBACK_HELD
from plugin.ledger.rollbacks import ROLLED_BACK
from plugin.models import AuditEvent
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import utcnow
from plugin.posting import corrections as rules
from plugin.xero.documents import read_document
from plugin.xero.errors import XeroNotFound

CHANGED_AFTER_RECONCILED = "changed_after_reconciled"
CORRECTION_HELD = "correction_held"
AMAZON_CANCELLED = "amazon_cancelled"
REMAP_HELD = "remap_held"


@dataclass
class CorrectionCounts:
    """What a run did with the corrections."""

    applied: int = 0
    held: int = 0
    unknown: int = 0  # sent, outcome not known yet
    waiting: int = 0  # the entry's document is still being posted


def open_corrections(session: Session, org_id: int, state: CorrectionState) -> list[Correction]:
    """The organisation's corrections in one state, oldest first."""
    return list(
        session.exec(
            select(Correction)
            .where(Correction.organisation_id == org_id, Correction.state == state)
            .order_by(col(Correction.id))
        )
    )


def open_correction_orgs(session: Session) -> set[int]:
    """Organisations with a correction pending or sent (a posting run must come for it)."""
    states = [CorrectionState.PENDING, CorrectionState.SENT]
    found = session.exec(
        select(Correction.organisation_id).where(col(Correction.state).in_(states))
    )
    return set(found)


def lookup_from(correction: Correction, in_flight: timedelta) -> datetime:
    """From when reading the document tells for certain whether a sent change was applied."""
    sent_at = correction.sent_at or correction.created_at
    return sent_at if correction.answered else sent_at + in_flight


def next_correction_lookup_at(
    session: Session, org_id: int, in_flight: timedelta
) -> datetime | None:
    """When the earliest correction still in doubt can be looked up (None: none is)."""
    times = [
        lookup_from(c, in_flight) for c in open_corrections(session, org_id, CorrectionState.SENT)
    ]
    return min(times) if times else None


def _audit(session: Session, correction: Correction, entry: LedgerEntry, action: str) -> None:
    session.add(
        AuditEvent(
            organisation_id=correction.organisation_id,
            actor=correction.actor,
            action=action,
            detail={
                "entry": entry.amazon_transaction_id,
                "correction": correction.id,
                "cause": str(correction.cause),
                "change": correction.action,
                "before": correction.before_document,
                "after": correction.after_document,
                "reason": correction.reason,
            },
        )
    )


def hold(
    session: Session, correction: Correction, entry: LedgerEntry, why: str, locked: bool = False
) -> None:
    """Never touch the document: the bookkeeper sees both versions and what to do."""
    correction.state = CorrectionState.HELD
    correction.reason = advice(correction, why, locked)
    correction.recorded_at = utcnow()
    if correction.cause == CorrectionCause.ROLLBACK:  # the entry stays posted, as it was
        entry.reason_code, entry.reason = ROLLBACK_HELD, correction.reason
    elif correction.cause == CorrectionCause.REMAP:
        entry.reason_code, entry.reason = REMAP_HELD, correction.reason
    else:
        entry.needs_review = True
        entry.reason_code = CHANGED_AFTER_RECONCILED if locked else CORRECTION_HELD
        entry.reason = correction.reason
    entry.updated_at = utcnow()
    session.add_all([correction, entry])
    _audit(session, correction, entry, "correction_held")
    session.commit()


def read_or_hold(
    session: Session, xero: Any, correction: Correction, entry: LedgerEntry
) -> dict[str, Any] | None:
    """The correction's Xero document as it is now; None (the correction held) when Xero no
    longer has it."""
    try:
        return read_document(xero, str(correction.endpoint), str(correction.xero_document_id))
    except XeroNotFound:
        hold(session, correction, entry, "The Xero document no longer exists.")
        return None


def record_applied(
    session: Session, correction: Correction, entry: LedgerEntry, document: dict[str, Any]
) -> None:
    """Xero holds the new version: so does the entry."""
    from plugin.ledger.record import descriptors_of

    now = utcnow()
    correction.state = CorrectionState.APPLIED
    correction.after_document = rules.summary(document)
    correction.recorded_at = now
    if correction.cause == CorrectionCause.ROLLBACK:
        _back_to_waiting(entry, correction, now)
        session.add_all([correction, entry])
        _audit(session, correction, entry, "rollback_applied")
        session.commit()
        return
    payload = correction.after_payload or {}
    entry.raw_payload = payload
    entry.payload_hash = correction.after_hash
    for name, value in descriptors_of(parse_transaction(payload)).items():
        setattr(entry, name, value)
    entry.needs_review = False
    if correction.action in ("void", "delete"):
        done = "voided" if correction.action == "void" else "deleted"
        entry.state = EntryState.CANCELLED
        entry.reason_code = AMAZON_CANCELLED
        entry.reason = f"Amazon cancelled this charge; this app {done} its Xero document."
        entry.settlement_state = None  # nothing left to pay
    else:
        entry.reason_code = entry.reason = None
    entry.updated_at = now
    session.add_all([correction, entry])
    _audit(session, correction, entry, "correction_applied")
    session.commit()


def take_new_version(session: Session, correction: Correction, entry: LedgerEntry) -> bool:
    """The entry is not in Xero (its batch was found never to have arrived): it takes Amazon's
    new version and is evaluated again, like any changed payload of an entry not posted."""
    from plugin.ledger.record import descriptors_of
    from plugin.ledger.transitions import move

    payload = correction.after_payload or {}
    values = {
        "raw_payload": payload,
        "payload_hash": correction.after_hash,
        **descriptors_of(parse_transaction(payload)),
        "state": EntryState.FETCHED,
        "reason_code": None,
        "reason": None,
        "needs_review": False,
    }
    if not move(session, entry, values):
        session.rollback()
        return False  # it changed meanwhile: the next run looks again
    correction.state = CorrectionState.APPLIED
    correction.recorded_at = utcnow()
    session.add(correction)
    _audit(session, correction, entry, "correction_recorded")
    session.commit()
    return True


def _back_to_waiting(entry: LedgerEntry, correction: Correction, now: datetime) -> None:
    """Its document is out of Xero: the entry waits to be evaluated and posted again (a new
    document: the look-ups of recovery never take a deleted or voided one for it), or, when the
    rollback asked to hold it (the mapping was wrong), it is held until the bookkeeper sends it
    back (``HELD_AFTER_ROLLBACK``: evaluation leaves it alone)."""
    removed = "voided" if correction.action == "void" else "deleted"
    run = (
        "with the posting run that posted it"
        if correction.posting_run_id
        else "with the import that brought it in"
    )
    if correction.hold_after:
        entry.state = EntryState.HELD
        entry.reason_code = HELD_AFTER_ROLLBACK
        entry.reason = (
            f"Rolled back on {now:%d %b %Y} {run}: its Xero document was {removed}. "
            "Held so that it does not post again with the same mapping: correct the mapping, "
            "then press Retry to post it again, as a new document."
        )
    else:
        entry.state = EntryState.FETCHED
        entry.reason_code = ROLLED_BACK
        entry.reason = (
            f"Rolled back on {now:%d %b %Y} {run}: its Xero document was {removed}. "
            "It is posted again, as a new document, with the next posting run."
        )
    entry.xero_document_id = entry.xero_document_type = entry.xero_reference = None
    entry.batch_id = entry.posted_at = None
    entry.settlement_state = entry.xero_payment_id = None
    entry.attachment_state = entry.attachment_note = None
    entry.needs_review = False
    entry.updated_at = now


def resolve_sent(
    session: Session, org_id: int, xero: Any, now: datetime | None = None
) -> CorrectionCounts:
    """Settle corrections whose answer was lost, by reading their document (never re-sent)."""
    counts = CorrectionCounts()
    now = now or utcnow()
    for correction in open_corrections(session, org_id, CorrectionState.SENT):
        if now < lookup_from(correction, xero.in_flight):
            counts.unknown += 1  # Xero may still be working on it
            continue
        entry = session.get(LedgerEntry, correction.ledger_entry_id)
        if entry is None:
            continue
        document = read_or_hold(session, xero, correction, entry)
        if document is None:
            counts.held += 1
            continue
        if rules.is_applied(
            str(correction.action), str(correction.endpoint), correction.body or {}, document
        ):
            record_applied(session, correction, entry, document)
            counts.applied += 1
            continue
        correction.state = CorrectionState.PENDING  # it never reached Xero: plan it again
        session.add(correction)
        session.commit()
    return counts
