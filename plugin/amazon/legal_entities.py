"""The legal entities of an Amazon Business account and the organisation that takes each one
(issue 16 point 3): recorded as imports see them, taken and released by members, and what the
ledger needs to know (``scope_for``). The rules themselves are ``plugin.posting.legal_entities``.

- ``note_seen`` (import): a legal entity seen for the first time gets its row; while the
  importing organisation is the only one connected to the account it takes it at once (an
  account with one organisation, or one legal entity, works as before: no step to take).
- ``take`` / ``release`` (a member): taking is one conditional ``UPDATE … WHERE organisation_id
  IS NULL``, so of two organisations taking the same entity at once exactly one wins; the
  unique (account, legal entity) row is the database's guarantee of one organisation at most.
- ``retire_copies``: once the organisation that takes an entity holds a transaction in its own
  ledger, the copies other organisations held only because they did not take its entity are
  removed from theirs (never sent to Xero; an audit event says so), so it is shown in one place.

Other organisations are named to a person only when they are a member of them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.amazon.legal_entity_table import LegalEntity
from plugin.models import AmazonConnection
from plugin.models import AuditEvent
from plugin.models import ConnectionStatus
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import Membership
from plugin.models import Organisation
from plugin.models import utcnow
from plugin.posting.legal_entities import CODES
from plugin.posting.legal_entities import EntityScope
from plugin.posting.legal_entities import auto_taken
from plugin.posting.legal_entities import display_name
from plugin.posting.legal_entities import entity_of

CHUNK = 500


class EntityTaken(Exception):
    """The legal entity cannot be taken here; the message says why, fit for the member."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def account_key_of(session: Session, org_id: int) -> str | None:
    """The account key of the organisation's Amazon Business account (None: not known yet)."""
    return session.exec(
        select(AmazonConnection.account_key)
        .where(
            AmazonConnection.organisation_id == org_id,
            col(AmazonConnection.account_key).is_not(None),
        )
        .order_by(col(AmazonConnection.id))
    ).first()


def organisations_of(session: Session, account_key: str) -> set[int]:
    """Every organisation with a store connected to the account."""
    rows = session.exec(
        select(AmazonConnection.organisation_id).where(AmazonConnection.account_key == account_key)
    )
    return set(rows)


def importers(session: Session, account_key: str, store: str) -> set[int]:
    """The organisations that import the account's ``store`` (an active connection)."""
    rows = session.exec(
        select(AmazonConnection.organisation_id).where(
            AmazonConnection.account_key == account_key,
            AmazonConnection.store == store,
            AmazonConnection.status == ConnectionStatus.ACTIVE,
        )
    )
    return set(rows)


def entities_of(session: Session, account_key: str) -> list[LegalEntity]:
    """The account's legal entities, by name."""
    return list(
        session.exec(
            select(LegalEntity)
            .where(LegalEntity.account_key == account_key)
            .order_by(col(LegalEntity.name))
        )
    )


def takers(session: Session, account_key: str) -> dict[str, int | None]:
    """Legal entity -> the organisation taking it (None: nobody)."""
    return {row.name: row.organisation_id for row in entities_of(session, account_key)}


def note_seen(session: Session, account_key: str, org_id: int, names: Iterable[str]) -> None:
    """Record legal entities seen for the first time (taken by ``org_id`` when it is alone on
    the account); an entity recorded meanwhile by another import is left as that one made it.
    Commits."""
    known = takers(session, account_key)
    fresh = sorted(set(names) - set(known))
    if not fresh:
        return
    alone = organisations_of(session, account_key) <= {org_id}
    taken = auto_taken(fresh, known, alone)
    now = utcnow()
    for name in fresh:
        row = LegalEntity(account_key=account_key, name=name, first_seen_at=now)
        if name in taken:
            row.organisation_id, row.taken_at = org_id, now
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # recorded by another organisation's import a moment ago
            continue
        if name in taken:
            session.add(_audit(org_id, "legal_entity_taken", name, "import"))
    session.commit()


def scope_for(
    session: Session, org_id: int, transaction_ids: Iterable[str] = ()
) -> EntityScope | None:
    """What the posting rules need to know about legal entities for these transactions of the
    organisation; None while its account has no legal entities recorded (no rule applies)."""
    key = account_key_of(session, org_id)
    if key is None:
        return None
    owners = takers(session, key)
    if not owners:
        return None
    here = frozenset(name for name, owner in owners.items() if owner == org_id)
    elsewhere = frozenset(
        name for name, owner in owners.items() if owner is not None and owner != org_id
    )
    others = organisations_of(session, key) - {org_id}
    return EntityScope(
        here,
        elsewhere,
        in_other_books(session, others, transaction_ids),
        known=frozenset(owners),
        takes_unknown=not others,
    )


def in_other_books(
    session: Session, others: set[int], transaction_ids: Iterable[str]
) -> frozenset[str]:
    """Those transaction ids recorded by one of ``others`` other than held for a legal entity
    it does not take (so they are, or may become, a document in its Xero books)."""
    ids = sorted(set(transaction_ids))
    if not others or not ids:
        return frozenset()
    found: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        rows = session.exec(
            select(LedgerEntry.amazon_transaction_id, LedgerEntry.state, LedgerEntry.reason_code)
            .where(
                col(LedgerEntry.organisation_id).in_(sorted(others)),
                col(LedgerEntry.amazon_transaction_id).in_(ids[start : start + CHUNK]),
            )
            .execution_options(populate_existing=True)
        )
        for tid, state, code in rows:
            if not (state == EntryState.HELD and code in CODES):
                found.add(tid)
    return frozenset(found)


def _name(session: Session, org_id: int, name: str) -> LegalEntity:
    key = account_key_of(session, org_id)
    row = None
    if key is not None:
        row = session.exec(
            select(LegalEntity).where(LegalEntity.account_key == key, LegalEntity.name == name)
        ).first()
    if row is None:
        raise EntityTaken(
            f"{display_name(name)} is not a legal entity of this organisation's Amazon Business "
            "account (as far as its imports have seen)."
        )
    return row


def take(session: Session, org_id: int, name: str, actor: str) -> bool:
    """Take the legal entity for the organisation (True; False when it already had it); commits.

    Raises EntityTaken when another organisation takes it (the message names that organisation
    only to its own members: ``taken_message``).
    """
    row = _name(session, org_id, name)
    if row.organisation_id == org_id:
        return False
    result = session.exec(
        update(LegalEntity)
        .where(col(LegalEntity.id) == row.id, col(LegalEntity.organisation_id).is_(None))
        .values(organisation_id=org_id, taken_at=utcnow())
    )
    if not result.rowcount:
        session.rollback()
        session.refresh(row)
        if row.organisation_id == org_id:
            return False
        raise EntityTaken(taken_message(name))
    session.add(_audit(org_id, "legal_entity_taken", name, actor))
    session.commit()
    retire_copies(session, org_id, row.account_key, entity=name)
    return True


def release(session: Session, org_id: int, name: str, actor: str) -> bool:
    """Stop taking the legal entity (True; False when the organisation did not take it); its
    purchases not yet posted here are held at their next evaluation. Commits."""
    row = _name(session, org_id, name)
    result = session.exec(
        update(LegalEntity)
        .where(col(LegalEntity.id) == row.id, col(LegalEntity.organisation_id) == org_id)
        .values(organisation_id=None, taken_at=None)
    )
    if not result.rowcount:
        session.rollback()
        return False
    session.add(_audit(org_id, "legal_entity_released", name, actor))
    session.commit()
    return True


def taken_message(name: str) -> str:
    """Why a member cannot take a legal entity another organisation takes."""
    return (
        f"{display_name(name)} is already taken by another Xero organisation connected to "
        "this Amazon Business account: a legal entity's purchases go to one organisation only. "
        "Someone who manages that organisation can release it there (Manage Integrations, "
        "Legal entities); then take it here."
    )


def retire_copies(
    session: Session,
    org_id: int,
    account_key: str,
    entity: str | None = None,
    transaction_ids: Iterable[str] | None = None,
) -> int:
    """Remove from the other organisations' ledgers the entries they hold only for a legal
    entity they do not take (never sent to Xero) whose transaction ``org_id`` has recorded
    (of ``entity``, or among ``transaction_ids``); commits; how many were removed."""
    others = organisations_of(session, account_key) - {org_id}
    if not others:
        return 0
    statement = select(
        LedgerEntry.id,
        LedgerEntry.organisation_id,
        LedgerEntry.amazon_transaction_id,
        LedgerEntry.raw_payload,
    ).where(
        col(LedgerEntry.organisation_id).in_(sorted(others)),
        LedgerEntry.state == EntryState.HELD,
        col(LedgerEntry.reason_code).in_(sorted(CODES)),
        col(LedgerEntry.xero_document_id).is_(None),
    )
    if transaction_ids is not None:
        ids = sorted(set(transaction_ids))
        if not ids:
            return 0
        statement = statement.where(col(LedgerEntry.amazon_transaction_id).in_(ids))
    candidates = [
        (entry_id, owner, tid)
        for entry_id, owner, tid, payload in session.exec(statement)
        if entity is None or entity_of((payload or {}).get("legalEntityName")) == entity
    ]
    if not candidates:
        return 0
    wanted = sorted({tid for _, _, tid in candidates})
    mine: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        mine.update(
            session.exec(
                select(LedgerEntry.amazon_transaction_id).where(
                    LedgerEntry.organisation_id == org_id,
                    col(LedgerEntry.amazon_transaction_id).in_(wanted[start : start + CHUNK]),
                )
            )
        )
    gone = [(entry_id, owner) for entry_id, owner, tid in candidates if tid in mine]
    if not gone:
        return 0
    for start in range(0, len(gone), CHUNK):
        session.exec(
            delete(LedgerEntry).where(
                col(LedgerEntry.id).in_([i for i, _ in gone[start : start + CHUNK]]),
                col(LedgerEntry.state) == EntryState.HELD,  # unless it changed meanwhile
                col(LedgerEntry.reason_code).in_(sorted(CODES)),
            )
        )
    for owner, count in Counter(owner for _, owner in gone).items():
        session.add(
            AuditEvent(
                organisation_id=owner,
                actor="import",
                action="legal_entity_purchases_moved",
                detail={
                    "count": count,
                    "why": "the organisation that takes their legal entity has them",
                },
            )
        )
    session.commit()
    return len(gone)


def _audit(org_id: int, action: str, name: str, actor: str) -> AuditEvent:
    return AuditEvent(
        organisation_id=org_id, actor=actor, action=action, detail={"legal_entity": name}
    )


@dataclass(frozen=True)
class EntityRow:
    """One legal entity as a member of one organisation sees it."""

    name: str
    taken_here: bool
    taken_elsewhere: bool
    other_name: str | None  # the organisation taking it, only when the member belongs to it
    held_here: int  # purchases held here because this organisation does not take it

    @property
    def label(self) -> str:
        """The entity's name for a person."""
        return display_name(self.name)

    @property
    def untaken(self) -> bool:
        """No organisation takes it."""
        return not self.taken_here and not self.taken_elsewhere


def rows_for(session: Session, org_id: int, user_id: int) -> list[EntityRow]:
    """The account's legal entities as this member of ``org_id`` may see them."""
    key = account_key_of(session, org_id)
    if key is None:
        return []
    entities = entities_of(session, key)
    others = {e.organisation_id for e in entities} - {None, org_id}
    visible: dict[int, str] = {}
    if others:
        named = session.exec(
            select(Organisation.id, Organisation.name)
            .join(Membership, col(Membership.organisation_id) == col(Organisation.id))
            .where(Membership.user_id == user_id, col(Organisation.id).in_(sorted(others)))
        )
        visible = {int(i or 0): n for i, n in named}
    held = held_by_entity(session, org_id)
    return [
        EntityRow(
            name=e.name,
            taken_here=e.organisation_id == org_id,
            taken_elsewhere=e.organisation_id not in (None, org_id),
            other_name=visible.get(e.organisation_id or 0),
            held_here=held.get(e.name, 0),
        )
        for e in entities
    ]


def held_by_entity(session: Session, org_id: int) -> Counter[str]:
    """How many of the organisation's entries are held because it does not take their legal
    entity, by legal entity."""
    counts: Counter[str] = Counter()
    rows = session.exec(
        select(LedgerEntry.raw_payload).where(
            LedgerEntry.organisation_id == org_id,
            LedgerEntry.state == EntryState.HELD,
            col(LedgerEntry.reason_code).in_(sorted(CODES)),
        )
    )
    for payload in rows:
        counts[entity_of((payload or {}).get("legalEntityName"))] += 1
    return counts
