"""Which organisation a transaction belongs to, by its legal entity (issue 16 point 3). PURE.

An Amazon Business account buys for one or more legal entities (``legalEntityName``), each
usually its own Xero organisation; every organisation connected to the account reads all of
them (spec §3.1). Each legal entity is taken by at most one organisation (the database holds
that rule: ``plugin.amazon.legal_entity_table``), so each transaction has at most one home:

- ``route`` decides at import: recorded here (this organisation takes the entity, or nobody
  that imports the store does: then it is held here, shown, never dropped), or left to the
  organisation that takes it and imports the same store (``ELSEWHERE``: not recorded here);
- ``check`` decides before posting, every time an entry is evaluated or posted: held when the
  entity is not (or no longer) taken here, or when the same transaction already lives in
  another organisation's books (an entity moved between organisations: never posted twice).

``EntityScope`` is what the ledger tells the rules; ``None`` means no rule applies (the
preview command, an organisation whose account has no legal entities recorded yet).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

MAX_NAME: Final = 255
NOT_TAKEN: Final = "legal_entity_not_taken"
OTHER_ORGANISATION: Final = "legal_entity_other_organisation"
IN_OTHER_BOOKS: Final = "legal_entity_in_other_books"
CODES: Final = frozenset({NOT_TAKEN, OTHER_ORGANISATION, IN_OTHER_BOOKS})
"""The held codes of this module; an entry held with one of them is not in these books."""
MOVABLE_CODES: Final = frozenset({NOT_TAKEN, OTHER_ORGANISATION})
"""Held here only because the entity is not taken here: the transaction may live elsewhere."""


class Route(enum.StrEnum):
    """Where an imported transaction goes."""

    HERE = "here"  # this organisation takes its legal entity
    HOLD = "hold"  # nobody that imports this store takes it: recorded here, held, shown
    ELSEWHERE = "elsewhere"  # the organisation that takes it imports this store: left to it


def entity_of(name: str | None) -> str:
    """The legal entity a transaction names, spaces tidied ("" when it names none)."""
    return " ".join((name or "").split())[:MAX_NAME]


def display_name(entity: str) -> str:
    """How a legal entity is named to a person."""
    return entity or "(no legal entity named)"


@dataclass(frozen=True)
class EntityScope:
    """What one organisation's ledger knows about legal entities when it evaluates entries.

    ``taken_here``: the entities this organisation takes; ``taken_elsewhere``: the ones another
    organisation takes; ``in_other_books``: transaction ids (of the entries being evaluated)
    that another organisation connected to the account has recorded and not merely held for a
    legal entity it does not take (so they are, or may be, in its Xero books);
    ``in_these_books``: see below.
    """

    taken_here: frozenset[str]
    taken_elsewhere: frozenset[str] = frozenset()
    in_other_books: frozenset[str] = frozenset()
    in_these_books: frozenset[str] = frozenset()
    """Transaction ids already in this organisation's Xero books (posted): whatever is taken
    now, their documents are corrected here (Amazon's changes, a remap), never held."""
    known: frozenset[str] = frozenset()
    """Every legal entity recorded for the account (taken or not)."""
    takes_unknown: bool = False
    """The organisation is alone on its account: an entity not recorded yet (in a ledger kept
    from before legal entities were recorded) is its, as ``auto_taken`` would make it."""

    def takes(self, entity: str) -> bool:
        """Whether this organisation takes ``entity``."""
        return entity in self.taken_here or (self.takes_unknown and entity not in self.known)


def route(entity: str, taken_here: Iterable[str], imported_elsewhere: Iterable[str]) -> Route:
    """Where a transaction of ``entity`` goes at import.

    ``imported_elsewhere``: entities taken by another organisation that imports this store.
    """
    if entity in set(taken_here):
        return Route.HERE
    if entity in set(imported_elsewhere):
        return Route.ELSEWHERE
    return Route.HOLD


def routes(
    entities: Mapping[str, str], taken_here: Iterable[str], imported_elsewhere: Iterable[str]
) -> dict[str, Route]:
    """``route`` for each transaction id of ``entities`` (transaction id -> entity)."""
    here, elsewhere = frozenset(taken_here), frozenset(imported_elsewhere)
    return {tid: route(entity, here, elsewhere) for tid, entity in entities.items()}


def auto_taken(seen: Iterable[str], known: Iterable[str], alone: bool) -> frozenset[str]:
    """The entities an organisation takes by itself when it first sees them: all of them while
    it is the only organisation connected to the account (the one place they can go, as before
    legal entities were chosen), none once another organisation shares the account."""
    if not alone:
        return frozenset()
    return frozenset(seen) - frozenset(known)


@dataclass(frozen=True)
class EntityHold:
    """Why a transaction may not post here (``code`` is one of ``CODES``)."""

    code: str
    reason: str


def check(transaction_id: str | None, entity: str, scope: EntityScope | None) -> EntityHold | None:
    """Why the transaction may not post in this organisation's books, or None when it may."""
    if scope is None or (transaction_id is not None and transaction_id in scope.in_these_books):
        return None
    name = display_name(entity)
    if not scope.takes(entity):
        if entity in scope.taken_elsewhere:
            return EntityHold(
                OTHER_ORGANISATION,
                f"Legal entity {name} is taken by another Xero organisation connected to this "
                "Amazon Business account, so this purchase is not posted here. It is posted "
                "there once that organisation imports this Amazon store.",
            )
        return EntityHold(
            NOT_TAKEN,
            f"Legal entity {name} is not taken by this organisation: choose it under Legal "
            "entities (Manage Integrations) if its purchases belong in these books, or let "
            "the organisation it belongs to take it.",
        )
    if transaction_id is not None and transaction_id in scope.in_other_books:
        return EntityHold(
            IN_OTHER_BOOKS,
            f"This purchase of {name} is already in the books of another Xero organisation "
            "connected to this Amazon Business account (the legal entity was taken there "
            "before), so it is not posted here: a purchase is posted once.",
        )
    return None
