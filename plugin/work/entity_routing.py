"""Routing an imported page by legal entity (issue 16 point 3): which of its transactions go
in this organisation's ledger, and which are left to the organisation that takes their legal
entity and imports the same store (``plugin.posting.legal_entities.route``).

Before routing, the page's legal entities are recorded (``note_seen``: taken at once by an
organisation alone on its account, as imports always behaved). After recording, the copies
other organisations held only for a legal entity they do not take are removed from their
ledgers, now that the organisation taking it has the transaction (``retire_copies``). A
transaction this organisation recorded before (while it took the entity) keeps coming here,
so Amazon's later changes reach what it posted.
"""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.amazon.legal_entities import importers
from plugin.amazon.legal_entities import note_seen
from plugin.amazon.legal_entities import retire_copies
from plugin.amazon.legal_entities import takers
from plugin.amazon.models import Transaction
from plugin.amazon.models import TransactionsPage
from plugin.models import AmazonConnection
from plugin.models import AuditEvent
from plugin.models import LedgerEntry
from plugin.posting.legal_entities import Route
from plugin.posting.legal_entities import entity_of
from plugin.posting.legal_entities import routes


def already_recorded(session: Session, org_id: int, transaction_ids: set[str]) -> set[str]:
    """Those transactions the organisation's ledger already holds (recorded while it took
    their legal entity): they keep coming here, so Amazon's later changes reach the document
    posted from them (or the entry held for them)."""
    if not transaction_ids:
        return set()
    return set(
        session.exec(
            select(LedgerEntry.amazon_transaction_id).where(
                LedgerEntry.organisation_id == org_id,
                col(LedgerEntry.amazon_transaction_id).in_(sorted(transaction_ids)),
            )
        )
    )


class EntityRouting:
    """Routing the pages of one store connection's import, page by page."""

    def __init__(self, session: Session, org_id: int, connection: AmazonConnection) -> None:
        self.session, self.org_id, self.connection = session, org_id, connection
        self.here: list[str] = []  # ids of the last page this organisation takes
        self.left: dict[str, int] = {}  # legal entity -> transactions left to its taker

    def route(self, page: TransactionsPage) -> TransactionsPage:
        """The page with only what belongs in this organisation's ledger (commits the
        entities seen)."""
        self.here = []
        key = self.connection.account_key
        if key is None:  # the account is not identified yet: nothing to route by
            return page
        entities = {
            t.transaction_id: entity_of(t.legal_entity_name)
            for t in page.transactions
            if t.transaction_id
        }
        note_seen(self.session, key, self.org_id, set(entities.values()))
        owners = takers(self.session, key)
        importing = importers(self.session, key, self.connection.store)
        here = {name for name, owner in owners.items() if owner == self.org_id}
        elsewhere = {
            name
            for name, owner in owners.items()
            if owner not in (None, self.org_id) and owner in importing
        }
        decided = routes(entities, here, elsewhere)
        self.here = [tid for tid, where in decided.items() if where is Route.HERE]
        left = {tid for tid, where in decided.items() if where is Route.ELSEWHERE}
        left -= already_recorded(self.session, self.org_id, left)  # Amazon's changes of them
        if not left:
            return page
        for tid in left:
            self.left[entities[tid]] = self.left.get(entities[tid], 0) + 1

        def kept(item: object) -> bool:
            return not (isinstance(item, Transaction) and item.transaction_id in left)

        return replace(
            page,
            transactions=tuple(t for t in page.transactions if kept(t)),
            in_order=tuple(item for item in page.in_order if kept(item)),
        )

    def recorded(self) -> int:
        """After the routed page is recorded: remove other organisations' held-for-entity
        copies of what it recorded here; how many."""
        key = self.connection.account_key
        if key is None or not self.here:
            return 0
        return retire_copies(self.session, self.org_id, key, transaction_ids=self.here)

    def finish(self) -> None:
        """Say in the audit log what was left to other organisations (the caller commits)."""
        if self.left:
            self.session.add(
                AuditEvent(
                    organisation_id=self.org_id,
                    actor="import",
                    action="import_left_to_other_organisation",
                    detail={"store": self.connection.store, "legal_entities": dict(self.left)},
                )
            )
