"""Posted by hand: the user posted a ``held`` or ``failed`` entry in Xero themselves.

Marking it ``by_hand`` makes it final, so a later fix (a mapping, a lock date) can never post it
a second time; unmarking sends it back to ``fetched`` to be evaluated again.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.ledger.transitions import move
from plugin.ledger.transitions import rows_changed
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import utcnow

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
    moved = move(
        session, entry, {"state": EntryState.BY_HAND, "reason_code": BY_HAND, "reason": reason}
    )
    session.commit()
    return moved


def unmark_posted_by_hand(session: Session, org_id: int, entry_id: int) -> bool:
    """Take the mark back: the entry is evaluated again and posts if it can (the user says it
    is not in Xero after all). False when the entry is not marked."""
    changed = rows_changed(
        session,
        update(LedgerEntry)
        .where(
            col(LedgerEntry.id) == entry_id,
            col(LedgerEntry.organisation_id) == org_id,
            col(LedgerEntry.state) == EntryState.BY_HAND,
        )
        .values(state=EntryState.FETCHED, reason_code=None, reason=None, updated_at=utcnow())
        .execution_options(synchronize_session=False),
    )
    session.commit()
    return bool(changed)


ALREADY_IN_XERO = "already_in_xero"


def confirm_duplicate(session: Session, org_id: int, entry_id: int, actor: str) -> bool:
    """ "That is this purchase": the document the bank-feed guard found (``duplicate_of``) is
    this purchase, entered by hand or from the bank feed. Final, like posted by hand: this app
    never posts it, and the entry links to that document. False when it is no longer held as a
    possible duplicate."""
    entry = _held_duplicate(session, org_id, entry_id)
    if entry is None:
        return False
    reason = (
        f"Already in Xero: confirmed by {actor} on {utcnow():%d %b %Y} as the document found on "
        "the card's account (entered by hand, or from the bank feed). This app will never post it."
    )
    moved = move(
        session,
        entry,
        {
            "state": EntryState.BY_HAND,
            "reason_code": ALREADY_IN_XERO,
            "reason": reason,
            "xero_document_type": "BankTransactions",
            "xero_document_id": entry.duplicate_of,
        },
    )
    session.commit()
    return moved


def clear_duplicate(session: Session, org_id: int, entry_id: int) -> bool:
    """ "It is a different purchase: post it": the guard never holds it again, the document is
    free to match another purchase, and the entry is evaluated and posted. False when it is no
    longer held as a possible duplicate."""
    entry = _held_duplicate(session, org_id, entry_id)
    if entry is None:
        return False
    moved = move(
        session,
        entry,
        {
            "state": EntryState.FETCHED,
            "reason_code": None,
            "reason": None,
            "duplicate_of": None,
            "duplicate_cleared": True,
        },
    )
    session.commit()
    return moved


def _held_duplicate(session: Session, org_id: int, entry_id: int) -> LedgerEntry | None:
    entry = session.exec(
        select(LedgerEntry)
        .where(LedgerEntry.id == entry_id, LedgerEntry.organisation_id == org_id)
        .execution_options(populate_existing=True)
    ).first()
    if entry is None or entry.state != EntryState.HELD or not entry.duplicate_of:
        return None
    return entry
