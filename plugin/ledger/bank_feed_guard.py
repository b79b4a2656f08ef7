"""The bank-feed guard in a posting run (issue 14 point 1): before card purchases are sent,
look in Xero for documents on the same card account that this app did not create, and hold
the purchases that may already be one of them as ``possible_duplicate``, linked to it.

One query per card account and date window per run (``XeroWriter.find_bank_transactions_in``,
paged 1,000 at a time), whatever the number of purchases: the window covers every purchase of
the run waiting to post on that account, and is widened (one more query) only when a purchase
falls outside it. A run leaves what it saw in a ``FeedCache``; the next run asks Xero only for
what changed on the account since (``If-Modified-Since``), so a large import posted over many
runs does not read its own documents again and again.

Documents this app created are told by their id in the ledger or by their reference, which
ends with the Amazon transaction id of one of this organisation's entries (a batch whose answer
was lost is not in the ledger yet, but its documents carry that tag). A purchase the user
cleared ("it is a different purchase") is never held again.
"""

from __future__ import annotations

from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any
from typing import Protocol

from sqlalchemy import func
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin import posting
from plugin.ledger.batches import XeroWriter
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import utcnow
from plugin.posting.bank_feed import MATCH_DAYS
from plugin.posting.bank_feed import POSSIBLE_DUPLICATE
from plugin.posting.bank_feed import CardDocument
from plugin.posting.bank_feed import FeedDocument
from plugin.posting.bank_feed import card_document
from plugin.posting.bank_feed import duplicate_reason
from plugin.posting.bank_feed import match

Member = tuple[LedgerEntry, posting.Document]
CACHE_SLACK = timedelta(minutes=5)  # Xero's clock against ours, and a document being written


class FeedCache(Protocol):
    """Where a run leaves what it saw of an account's documents for the next run (Redis, in
    ``plugin.work.posting_run``): a cache, not the truth; losing it costs one full read."""

    def load(self, account: str) -> dict[str, Any] | None: ...

    def save(self, account: str, state: dict[str, Any]) -> None: ...


class BankFeedGuard:
    """The guard for one posting run of one organisation (its look-ups cached for the run)."""

    def __init__(
        self,
        session: Session,
        org_id: int,
        xero: XeroWriter,
        cache: FeedCache | None = None,
        span: tuple[date, date] | None = None,
    ) -> None:
        """``span``: the dates every purchase this guard will check falls in, when the caller
        knows them before they are all fetched (an import posting as it goes: its range), so
        that the first window covers them all and no page of the import widens it."""
        self.session = session
        self.span = span
        self.org_id = org_id
        self.xero = xero
        self.cache = cache
        self.started = utcnow()  # what a later run asks Xero for changes since
        self.windows: dict[str, tuple[date, date]] = {}
        self.found: dict[str, dict[str, FeedDocument]] = {}  # account → xero id → document
        self.queries = 0

    def hold_duplicates(self, members: list[Member]) -> tuple[list[Member], int]:
        """The members to send, and how many were held as possible duplicates (committed)."""
        checked: list[tuple[LedgerEntry, CardDocument]] = []
        for entry, document in members:
            card = card_document(document)
            if card is not None and not entry.duplicate_cleared:
                checked.append((entry, card))
        if not checked:
            return members, 0
        for account in sorted({card.account for _, card in checked}):
            days = [card.day for _, card in checked if card.account == account]
            self._cover(account, min(days), max(days))
        candidates = [doc for docs in self.found.values() for doc in docs.values()]
        mine = {int(entry.id or 0) for entry, _ in checked}
        duplicates = match([card for _, card in checked], candidates, self._taken(mine))
        if not duplicates:
            return members, 0
        for entry, _card in checked:
            candidate = duplicates.get(entry.amazon_transaction_id)
            if candidate is None:
                continue
            entry.state = EntryState.HELD
            entry.reason_code = POSSIBLE_DUPLICATE
            entry.reason = duplicate_reason(candidate)
            entry.duplicate_of = candidate.xero_id
            self.session.add(entry)
        self.session.commit()
        held = set(duplicates)
        return [m for m in members if m[0].amazon_transaction_id not in held], len(held)

    def _cover(self, account: str, first: date, last: date) -> None:
        """Make sure the documents of ``account`` dated around first..last are known."""
        if self.span is not None:
            first, last = min(first, self.span[0]), max(last, self.span[1])
        start, end = first - timedelta(days=MATCH_DAYS), last + timedelta(days=MATCH_DAYS)
        known = self.windows.get(account)
        if known is None:
            known = self._refresh_from_cache(account, start, end)
        if known is None:
            start, end = self._run_window(account, start, end)
            self._load(account, start, end)
            self.windows[account] = (start, end)
        else:
            if start < known[0]:
                self._load(account, start, known[0] - timedelta(days=1))
            if end > known[1]:
                self._load(account, known[1] + timedelta(days=1), end)
            self.windows[account] = (min(start, known[0]), max(end, known[1]))
        self._save(account)

    def _refresh_from_cache(self, account: str, start: date, end: date) -> tuple[date, date] | None:
        """What an earlier run saw of the account, brought up to date with one query for what
        changed since (``If-Modified-Since``): its window, or None when there is nothing to go
        on (no cache, or a window that does not meet this one)."""
        state = self.cache.load(account) if self.cache is not None else None
        if not state:
            return None
        try:
            window = (date.fromisoformat(state["start"]), date.fromisoformat(state["end"]))
            since = datetime.fromisoformat(state["since"])
            docs = {key: FeedDocument.from_json(value) for key, value in state["docs"].items()}
        except (KeyError, TypeError, ValueError):
            return None  # unreadable: start afresh
        if window[1] < start or end < window[0]:
            return None
        self.found[account] = docs
        self._load(account, window[0], window[1], since - CACHE_SLACK)
        return window

    def _save(self, account: str) -> None:
        if self.cache is None:
            return
        start, end = self.windows[account]
        docs = {key: doc.as_json() for key, doc in self.found.get(account, {}).items()}
        self.cache.save(
            account,
            {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "since": self.started.isoformat(),
                "docs": docs,
            },
        )

    def _run_window(self, account: str, start: date, end: date) -> tuple[date, date]:
        """The first window of a run spans every entry of the organisation waiting to post (so
        later batches of the run need no query of their own)."""
        oldest, newest = self.session.exec(
            select(
                func.min(LedgerEntry.transaction_date), func.max(LedgerEntry.transaction_date)
            ).where(
                LedgerEntry.organisation_id == self.org_id,
                LedgerEntry.state == EntryState.READY,
            )
        ).one()
        if oldest is not None:
            start = min(start, oldest.date() - timedelta(days=MATCH_DAYS + 1))
        if newest is not None:
            end = max(end, newest.date() + timedelta(days=MATCH_DAYS + 1))
        return start, end

    def _load(
        self, account: str, start: date, end: date, changed_since: datetime | None = None
    ) -> None:
        """Read the account's documents dated start..end (only those changed since
        ``changed_since``, when given) into what the run knows; ours and dead ones dropped."""
        self.queries += 1
        documents = self.xero.find_bank_transactions_in(account, start, end, changed_since)
        ours_by_id = self._our_document_ids([d.bank_transaction_id for d in documents])
        tags = [str(d.reference or "").split()[-1] for d in documents if d.reference]
        ours_by_tag = self._our_transaction_ids(tags)
        found = self.found.setdefault(account, {})
        for document in documents:
            reference = str(document.reference or "")
            tag = reference.split()[-1] if reference.split() else ""
            if (
                document.status not in (None, "AUTHORISED")
                or document.total is None
                or document.date is None
                or document.bank_transaction_id in ours_by_id
                or tag in ours_by_tag
            ):
                found.pop(document.bank_transaction_id, None)  # deleted since, or ours
                continue
            found[document.bank_transaction_id] = FeedDocument(
                xero_id=document.bank_transaction_id,
                type=str(document.type or ""),
                account=account,
                day=document.date,
                total=abs(document.total),
                reference=reference,
            )

    def _our_document_ids(self, ids: list[str]) -> set[str]:
        if not ids:
            return set()
        rows = self.session.exec(
            select(LedgerEntry.xero_document_id).where(
                LedgerEntry.organisation_id == self.org_id,
                col(LedgerEntry.xero_document_id).in_(ids),
            )
        )
        return {str(r) for r in rows if r}

    def _our_transaction_ids(self, tags: list[str]) -> set[str]:
        if not tags:
            return set()
        rows = self.session.exec(
            select(LedgerEntry.amazon_transaction_id).where(
                LedgerEntry.organisation_id == self.org_id,
                col(LedgerEntry.amazon_transaction_id).in_(tags),
            )
        )
        return set(rows)

    def _taken(self, checking: set[int]) -> set[str]:
        """Documents already linked to another purchase (held as its duplicate, or confirmed
        as it) than the ones being checked (whose own earlier link is looked at afresh)."""
        rows = self.session.exec(
            select(LedgerEntry.duplicate_of).where(
                LedgerEntry.organisation_id == self.org_id,
                col(LedgerEntry.duplicate_of).is_not(None),
                col(LedgerEntry.id).not_in(checking),
            )
        )
        return {str(r) for r in rows if r}
