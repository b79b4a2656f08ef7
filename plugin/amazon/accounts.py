"""Which Amazon Business account a store connection belongs to, and who may claim it.

Rules (design §1 step 3): all of an organisation's store connections belong to one Amazon
Business account. Several organisations may connect the same account (issue 16 point 3): each
legal entity of it goes to one organisation at most (``plugin.amazon.legal_entities``), so the
organisations of one account share its ``account_key``.

What identifies an account. Neither the consent redirect nor the LWA token answer says
anything about the account (spec §1.3-1.4), and no Amazon Business API returns an account id.
The only account-level facts are in the transactions (spec §3.1):

- ``payer.id`` / ``buyer.id``: Amazon customer ids (``amzn1.account.…``) of the people who own
  the payment instrument and on whose behalf orders were placed. A customer id is a user
  *login* of the business account; an Amazon Business user belongs to one business account
  (UNCONFIRMED by Amazon's API docs, but it is how Amazon Business user management works), and
  ids never change when a person is renamed. These are the identifiers used.
- ``legalEntityName`` / ``purchasingCustomerGroupName``: free text the customer can edit, not
  unique across customers. Recorded for display only, never used to decide.

So an ``AccountIdentity`` is the set of customer ids seen (payers in full, buyers up to
``MAX_BUYER_IDS``), and two identities are the same account when they share at least one
customer id. The payer is the better anchor (typically the account's administrator or finance
team, the same person across stores — the sandbox uses one payer per account), which is why
``key`` is ``payer:<most frequent payer id>``. Within an organisation every connection carries
the same ``account_key`` (the first store's), so the column also groups an org's stores.

Limits: a window without transactions (or without buyer/payer ids) identifies nothing
(``identify_account`` returns None) and the claim waits for a later import. Two organisations
identifying one account at the same instant may each take a key of their own; their legal
entities are then recorded under two keys (no transaction is posted twice: the ledger checks
other organisations' books by transaction id only among those sharing a key, so this race is a
known limit, see docs/architecture.md).

Usage from the import job, after the first page: ``claim_account(session, connection,
identify_account(page.transactions))`` — it is a no-op for None, raises ``AccountConflict``
(message fit for the user) on a conflict, and leaves the commit to the caller.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import replace
from typing import Any

from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.amazon.models import Transaction
from plugin.models import AmazonConnection
from plugin.models import utcnow

IDENTITY_VERSION = 1
MAX_BUYER_IDS = 200
MAX_NAMES = 20


class AccountConflict(Exception):
    """The connection's Amazon Business account may not be used here; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class AccountIdentity:
    """An Amazon Business account as far as its transactions reveal it."""

    key: str
    payer_ids: frozenset[str]
    buyer_ids: frozenset[str] = frozenset()
    legal_entities: frozenset[str] = frozenset()

    @property
    def customer_ids(self) -> frozenset[str]:
        """Every customer id known to belong to the account."""
        return self.payer_ids | self.buyer_ids

    def same_account(self, other: AccountIdentity) -> bool:
        """True when both identities share a customer id (so they are one account)."""
        return bool(self.customer_ids & other.customer_ids)

    def merged(self, other: AccountIdentity) -> AccountIdentity:
        """This identity extended with what ``other`` knows (keeping this key)."""
        return AccountIdentity(
            key=self.key,
            payer_ids=self.payer_ids | other.payer_ids,
            buyer_ids=frozenset(sorted(self.buyer_ids | other.buyer_ids)[:MAX_BUYER_IDS]),
            legal_entities=frozenset(
                sorted(self.legal_entities | other.legal_entities)[:MAX_NAMES]
            ),
        )

    def describe(self) -> str:
        """How to name the account to a user: its legal entities, else its key."""
        if self.legal_entities:
            return "legal entities " + ", ".join(sorted(self.legal_entities))
        return f"account {self.key}"

    def to_json(self) -> dict[str, Any]:
        """The form stored in ``AmazonConnection.account_identity``."""
        return {
            "version": IDENTITY_VERSION,
            "key": self.key,
            "payer_ids": sorted(self.payer_ids),
            "buyer_ids": sorted(self.buyer_ids),
            "legal_entities": sorted(self.legal_entities),
        }

    @classmethod
    def from_json(cls, data: Any) -> AccountIdentity | None:
        """Read a stored identity back (None when absent or unreadable)."""
        if not isinstance(data, dict) or not data.get("key"):
            return None

        def texts(name: str) -> frozenset[str]:
            values = data.get(name) or []
            return frozenset(v for v in values if isinstance(v, str) and v)

        return cls(
            key=str(data["key"]),
            payer_ids=texts("payer_ids"),
            buyer_ids=texts("buyer_ids"),
            legal_entities=texts("legal_entities"),
        )


def identify_account(transactions: Iterable[Transaction]) -> AccountIdentity | None:
    """The account behind these transactions, or None when they name no customer."""
    payers: Counter[str] = Counter()
    buyers: set[str] = set()
    entities: set[str] = set()
    for transaction in transactions:
        if transaction.payer is not None and transaction.payer.id:
            payers[transaction.payer.id] += 1
        if transaction.buyer is not None and transaction.buyer.id:
            buyers.add(transaction.buyer.id)
        if transaction.legal_entity_name:
            entities.add(transaction.legal_entity_name.strip())
    if payers:
        anchor = min(payers, key=lambda pid: (-payers[pid], pid))
        key = f"payer:{anchor}"
    elif buyers:
        key = f"buyer:{min(buyers)}"
    else:
        return None
    return AccountIdentity(
        key=key,
        payer_ids=frozenset(payers),
        buyer_ids=frozenset(sorted(buyers)[:MAX_BUYER_IDS]),
        legal_entities=frozenset(sorted(e for e in entities if e)[:MAX_NAMES]),
    )


def _identity_of(connection: AmazonConnection) -> AccountIdentity | None:
    return AccountIdentity.from_json(connection.account_identity)


def claim_account(
    session: Session, connection: AmazonConnection, identity: AccountIdentity | None
) -> AccountIdentity | None:
    """Record ``identity`` on the connection, unless that breaks one account per organisation.

    Raises AccountConflict when this org's other stores (or this store, earlier) belong to a
    different account; another organisation on the same account lends its key. The caller
    commits.
    """
    if identity is None:
        return None
    name = connection.name or f"Amazon Business {connection.store}"
    previous = _identity_of(connection)
    if previous is not None and not previous.same_account(identity):
        raise AccountConflict(
            f"{name} now shows purchases of a different Amazon Business account "
            f"({identity.describe()}) from the one it was connected to "
            f"({previous.describe()}). Disconnect {name} and connect it again with the account "
            "this organisation uses."
        )
    siblings = session.exec(
        select(AmazonConnection).where(
            AmazonConnection.organisation_id == connection.organisation_id,
            col(AmazonConnection.account_key).is_not(None),
        )
    ).all()
    account_key = identity.key if previous is None else (connection.account_key or previous.key)
    for sibling in siblings:
        if sibling.id == connection.id:
            continue
        known = _identity_of(sibling)
        if known is None:
            continue
        if not known.same_account(identity):
            raise AccountConflict(
                f"{name} belongs to a different Amazon Business account ({identity.describe()}) "
                f"than {sibling.name} ({known.describe()}). One Xero organisation takes "
                "purchases from one Amazon Business account: connect this store with the "
                f"same account as {sibling.name}, or disconnect {name}."
            )
        account_key = sibling.account_key or account_key
    if not any(sibling.id != connection.id for sibling in siblings):
        # Several organisations may share an account, each taking its own legal entities
        # (``plugin.amazon.legal_entities``): they share its key, so they share its entities.
        others = session.exec(
            select(AmazonConnection).where(
                AmazonConnection.organisation_id != connection.organisation_id,
                col(AmazonConnection.account_key).is_not(None),
            )
        ).all()
        for other in others:
            known = _identity_of(other)
            if known is not None and known.same_account(identity):
                account_key = other.account_key or account_key
                break
    merged = replace(identity if previous is None else previous.merged(identity), key=account_key)
    connection.account_key = account_key
    connection.account_identity = merged.to_json()
    connection.updated_at = utcnow()
    session.add(connection)
    return merged
