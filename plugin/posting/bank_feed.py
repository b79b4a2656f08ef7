"""The guard against double entry with the bank feed, pure: which card purchases about to be
posted may already be in Xero as a document this app did not create (entered by hand, or made
from a bank-feed line or a bank rule).

A card purchase becomes spend money (a refund, receive money) on the card's bank account. The
same purchase entered from the card's bank feed is a document on the same account, of the same
type and total, dated within a few days (the card statement's date is the settlement date, not
the order's). Each such document can stand for one purchase only: when two purchases could be
the same document, the nearer date takes it, then the earlier purchase.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from datetime import timedelta
from decimal import Decimal

from plugin.posting.results import Document

MATCH_DAYS = 4  # how far apart a purchase and its bank-feed line may be dated
POSSIBLE_DUPLICATE = "possible_duplicate"


@dataclass(frozen=True)
class FeedDocument:
    """A spend or receive money document already in Xero that this app did not create."""

    xero_id: str
    type: str  # SPEND / RECEIVE
    account: str  # the bank account's code or id, as the purchase's body names it
    day: date
    total: Decimal
    reference: str = ""

    def as_json(self) -> dict[str, str]:
        """The document as a run leaves it for the next (``ledger.bank_feed_guard``)."""
        return {
            "xero_id": self.xero_id,
            "type": self.type,
            "account": self.account,
            "day": self.day.isoformat(),
            "total": str(self.total),
            "reference": self.reference,
        }

    @classmethod
    def from_json(cls, data: dict[str, str]) -> FeedDocument:
        """Read back ``as_json``; ValueError or KeyError when it is not that."""
        return cls(
            xero_id=str(data["xero_id"]),
            type=str(data["type"]),
            account=str(data["account"]),
            day=date.fromisoformat(str(data["day"])),
            total=Decimal(str(data["total"])),
            reference=str(data.get("reference", "")),
        )


@dataclass(frozen=True)
class CardDocument:
    """What of a card purchase's document the guard compares."""

    transaction_id: str
    type: str
    account: str
    day: date
    total: Decimal


def card_document(document: Document) -> CardDocument | None:
    """The comparable part of a spend/receive money document (None for bills, credit notes)."""
    body = document.body
    if document.endpoint != "BankTransactions":
        return None
    return CardDocument(
        transaction_id=document.amazon_transaction_id,
        type=str(body.get("Type", "")),
        account=account_key(body.get("BankAccount")),
        day=date.fromisoformat(str(body["Date"])),
        total=abs(document.total),
    )


def account_key(bank_account: object) -> str:
    """A bank account reference (``{"Code": ...}`` or ``{"AccountID": ...}``) as one string."""
    if not isinstance(bank_account, dict):
        return ""
    if bank_account.get("AccountID"):
        return f"id:{str(bank_account['AccountID']).lower()}"
    return f"code:{bank_account.get('Code', '')}"


def window(days: Iterable[date], margin: int = MATCH_DAYS) -> tuple[date, date]:
    """The dates to look through for the documents dated ``days``."""
    ordered = sorted(days)
    return ordered[0] - timedelta(days=margin), ordered[-1] + timedelta(days=margin)


def match(
    purchases: Sequence[CardDocument],
    candidates: Sequence[FeedDocument],
    taken: Iterable[str] = (),
    margin: int = MATCH_DAYS,
) -> dict[str, FeedDocument]:
    """Amazon transaction id → the document it may already be, for each purchase that has one.

    ``taken``: documents already linked to another purchase (held as its possible duplicate, or
    confirmed as it): never offered twice.
    """
    used = set(taken)
    pairs = sorted(
        (
            (abs((p.day - c.day).days), p.day, index, p, c)
            for index, p in enumerate(purchases)
            for c in candidates
            if c.type == p.type
            and c.account == p.account
            and c.total == p.total
            and abs((p.day - c.day).days) <= margin
        ),
        key=lambda pair: (pair[0], pair[1], pair[2]),
    )
    found: dict[str, FeedDocument] = {}
    for _gap, _day, _index, purchase, candidate in pairs:
        if purchase.transaction_id in found or candidate.xero_id in used:
            continue
        found[purchase.transaction_id] = candidate
        used.add(candidate.xero_id)
    return found


def duplicate_reason(candidate: FeedDocument) -> str:
    """Why a purchase is held, with what to do."""
    kind = "spend money" if candidate.type == "SPEND" else "receive money"
    reference = f', reference "{candidate.reference}"' if candidate.reference else ""
    return (
        f"Possibly already in Xero: a {kind} transaction of {candidate.total:.2f} dated "
        f"{candidate.day:%d %b %Y} on the same card account{reference}, which this app did not "
        "create (entered by hand, or from the bank feed or a bank rule). On this purchase's "
        "page, say whether it is this purchase: if it is, nothing is posted; if not, it is."
    )
