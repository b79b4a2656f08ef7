"""Review before posting (issue 16 point 4): an organisation in review mode keeps each new
purchase that could post in ``review`` until the bookkeeper approves it; approving moves it to
``ready``, and from there it goes through the same posting run, batches and recovery as any
other entry, so it is posted at most once whatever happens to the approval.

- ``evaluate`` (``ledger.evaluation``) puts a postable entry in ``review`` instead of ``ready``
  when the organisation reviews first (``review_first``) and the entry was never approved; an
  entry in ``review`` stays there (whatever the mode) until approved, or held when it can no
  longer post (a mapping or chart change).
- ``approve`` is one conditional UPDATE ``review`` -> ``ready``: a second click, a second tab or
  a concurrent "approve all" finds the entries already moved and moves nothing; a request that
  dies before its commit moved nothing. The approval is recorded (``entry_review``) in the same
  transaction, so an approved entry held later for a missing mapping posts by itself once the
  mapping is fixed, without a second approval.
- ``set_coding`` stores the coding the bookkeeper chose (``posting.coding``), only while the
  entry is in ``review`` (its row locked, so an approval cannot slip between the check and the
  write); translation reads it through ``codings_for`` (``evaluation.context_for``).
- ``use_review`` switches the mode. Switching on moves ``ready`` entries never approved back to
  ``review`` (nothing posts unseen from then on); switching off leaves the entries in review
  where they are, for the bookkeeper to approve: only new purchases post by themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import func
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin import posting
from plugin.ledger.review_model import EntryReview
from plugin.ledger.transitions import rows_changed
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.models import utcnow

MODE_KEY: Final = "posting_mode"
AUTOMATIC: Final = "automatic"
REVIEW_FIRST: Final = "review"
MODES: Final = (AUTOMATIC, REVIEW_FIRST)


def mode_of(org: Organisation) -> str:
    """The organisation's posting mode: ``automatic`` (the default) or ``review``."""
    mode = (org.settings or {}).get(MODE_KEY)
    return REVIEW_FIRST if mode == REVIEW_FIRST else AUTOMATIC


def review_first(session: Session, org_id: int) -> bool:
    """Whether the organisation reviews purchases before they post (read from the database,
    so every evaluation sees the mode as it is now)."""
    org = session.get(Organisation, org_id)
    return org is not None and mode_of(org) == REVIEW_FIRST


def approved_among(session: Session, entry_ids: Iterable[int]) -> set[int]:
    """Which of the entries were approved once."""
    ids = list(entry_ids)
    if not ids:
        return set()
    return set(
        session.exec(
            select(EntryReview.entry_id).where(
                col(EntryReview.entry_id).in_(ids), col(EntryReview.approved_at).is_not(None)
            )
        )
    )


def codings_for(session: Session, entries: Sequence[LedgerEntry]) -> dict[str, posting.Coding]:
    """The codings chosen in review for these entries, by Amazon transaction id."""
    by_id = {int(e.id or 0): e.amazon_transaction_id for e in entries}
    if not by_id:
        return {}
    rows = session.exec(
        select(EntryReview.entry_id, EntryReview.coding).where(
            col(EntryReview.entry_id).in_(list(by_id)), col(EntryReview.coding).is_not(None)
        )
    )
    found = {}
    for entry_id, stored in rows:
        coding = posting.coding_from_json(stored)
        if coding is not None:
            found[by_id[int(entry_id)]] = coding
    return found


def _record(session: Session, org_id: int, entry_ids: Sequence[int], **values: object) -> None:
    """Insert or update the entries' review rows with ``values`` (one statement)."""
    if not entry_ids:
        return
    rows = [
        {"organisation_id": org_id, "entry_id": i, "created_at": utcnow(), **values}
        for i in entry_ids
    ]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(EntryReview).values(rows)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["entry_id"], set_={name: statement.excluded[name] for name in values}
        )
    )


def approve(
    session: Session,
    org_id: int,
    actor: str,
    entry_ids: Sequence[int] | None = None,
    as_of: datetime | None = None,
) -> list[int]:
    """Approve entries in review: the given ones, or (``entry_ids`` None) every one that was in
    review at ``as_of`` (the newest ``updated_at`` the page showed: a purchase that arrived or
    changed since waits for its own look). Commits; returns the ids this call moved to
    ``ready`` (none that another approval moved first)."""
    statement = update(LedgerEntry).where(
        col(LedgerEntry.organisation_id) == org_id, col(LedgerEntry.state) == EntryState.REVIEW
    )
    if entry_ids is not None:
        statement = statement.where(col(LedgerEntry.id).in_(list(entry_ids)))
    elif as_of is not None:
        statement = statement.where(col(LedgerEntry.updated_at) <= as_of)
    moved = [
        int(i)
        for i in session.execute(
            statement.values(state=EntryState.READY, updated_at=utcnow())
            .returning(col(LedgerEntry.id))
            .execution_options(synchronize_session=False)
        ).scalars()
    ]
    _record(session, org_id, moved, approved_by=actor[:255], approved_at=utcnow())
    session.commit()
    return moved


class NotInReview(Exception):
    """The entry is no longer in review (approved meanwhile, held, or another's)."""


def set_coding(
    session: Session, org_id: int, entry_id: int, coding: posting.Coding | None, actor: str
) -> None:
    """Store the coding chosen for one entry in review (None: back to the mapping); commits.
    Raises ``NotInReview`` when it is not in review any more (nothing stored)."""
    # A no-op UPDATE that matches only while the entry is in review: it locks the row until the
    # commit, so an approval waits for this coding (and posts it) or has already won.
    still = rows_changed(
        session,
        update(LedgerEntry)
        .where(
            col(LedgerEntry.id) == entry_id,
            col(LedgerEntry.organisation_id) == org_id,
            col(LedgerEntry.state) == EntryState.REVIEW,
        )
        .values(state=EntryState.REVIEW)
        .execution_options(synchronize_session=False),
    )
    if not still:
        session.rollback()
        raise NotInReview(entry_id)
    stored = None if coding is None or coding.empty else coding.as_json()
    _record(session, org_id, [entry_id], coding=stored, coded_by=actor[:255], coded_at=utcnow())
    session.commit()


def coding_of(session: Session, entry_id: int) -> posting.Coding | None:
    """The coding chosen for one entry (None: as mapped)."""
    stored = session.exec(
        select(EntryReview.coding).where(EntryReview.entry_id == entry_id)
    ).first()
    return posting.coding_from_json(stored)


def newest_in_review(session: Session, org_id: int) -> datetime | None:
    """The newest ``updated_at`` of the organisation's entries in review (what "approve all"
    approves up to), None when none is."""
    return session.exec(
        select(func.max(LedgerEntry.updated_at)).where(
            LedgerEntry.organisation_id == org_id, LedgerEntry.state == EntryState.REVIEW
        )
    ).one()


def use_review(session: Session, org: Organisation, review: bool) -> int:
    """Switch the organisation's posting mode; commits. Returns how many ``ready`` entries that
    were never approved went back to review (switching on); 0 switching off."""
    org.settings = {**(org.settings or {}), MODE_KEY: REVIEW_FIRST if review else AUTOMATIC}
    org.updated_at = utcnow()
    session.add(org)
    moved = 0
    if review:
        approved = select(EntryReview.entry_id).where(col(EntryReview.approved_at).is_not(None))
        moved = rows_changed(
            session,
            update(LedgerEntry)
            .where(
                col(LedgerEntry.organisation_id) == int(org.id or 0),
                col(LedgerEntry.state) == EntryState.READY,
                col(LedgerEntry.id).not_in(approved),
            )
            .values(state=EntryState.REVIEW, updated_at=utcnow())
            .execution_options(synchronize_session=False),
        )
    session.commit()
    return moved
