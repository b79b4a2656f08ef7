"""The transactions of one account on one store, indexed by feed date, line key and invoice.

A ``Book`` is what a consent (one account x one store) can see through the Reconciliation API.
Callers hold ``current_sandbox().lock`` while they use it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any

from sandbox.amazon.dates import parse_iso

LineKey = tuple[str, str, str]  # (orderId, orderLineItemId, shipmentId)


@dataclass
class InvoiceRecord:
    """An invoice or credit memo as the transactions reveal it."""

    number: str
    date: datetime
    invoice_type: str  # STANDARD | CREDIT_MEMO
    pay_by_invoice: bool
    currency: str
    total: Decimal = Decimal("0.00")
    transaction_ids: list[str] = field(default_factory=list)
    line_keys: list[LineKey] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Entry:
    """One stored transaction, sortable by (feed time, transaction id)."""

    feed_ts: float
    transaction_id: str
    payload: dict[str, Any]

    @property
    def key(self) -> tuple[float, str]:
        """The sort and cursor key."""
        return (self.feed_ts, self.transaction_id)


def is_pay_by_invoice(instrument_type: str | None) -> bool:
    """Whether an instrument label means Pay by Invoice (labels are free text)."""
    return "invoice" in (instrument_type or "").lower()


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal("0")


class Book:
    """Transactions of one (account, store), oldest feed date first."""

    def __init__(self, account_key: str, store: str) -> None:
        self.account_key = account_key
        self.store = store
        self._entries: list[Entry] = []
        self._keys: list[tuple[float, str]] = []
        self.invoices: dict[str, InvoiceRecord] = {}
        self.line_invoices: dict[LineKey, list[str]] = {}
        self.order_statuses: dict[str, str] = {}  # set by the control endpoint; else CLOSED

    def __len__(self) -> int:
        return len(self._entries)

    def add_many(self, payloads: list[dict[str, Any]], fallback_feed: datetime) -> None:
        """Store transactions (a missing or bad ``feedDate`` counts as ``fallback_feed``)."""
        entries = [self._entry(payload, fallback_feed) for payload in payloads]
        if len(entries) > 50:
            self._entries.extend(entries)
            self._entries.sort(key=lambda entry: entry.key)
            self._keys = [entry.key for entry in self._entries]
        else:
            for entry in entries:
                index = bisect.bisect_right(self._keys, entry.key)
                self._entries.insert(index, entry)
                self._keys.insert(index, entry.key)
        for entry in entries:
            self._index(entry.payload, fallback_feed)

    def refeed(self, payload: dict[str, Any], feed: datetime) -> dict[str, Any] | None:
        """Amazon changing its mind: the transaction with ``payload``'s ``transactionId`` is fed
        again at ``feed`` as ``payload`` (it replaces the stored version, which a feed no longer
        returns: one transaction, its latest version). Returns the old payload (None: unknown)."""
        transaction_id = str(payload.get("transactionId", ""))
        index = next(
            (i for i, e in enumerate(self._entries) if e.transaction_id == transaction_id), None
        )
        if index is None:
            return None
        old = self._entries.pop(index).payload
        self._keys.pop(index)
        number = old.get("invoiceNumber")
        record = self.invoices.get(number) if isinstance(number, str) else None
        if record is not None:
            value = _decimal((old.get("amount") or {}).get("amount", "0"))
            kind = old.get("transactionType", "CHARGE")
            record.total -= value if kind == "CHARGE" else -abs(value)
            if transaction_id in record.transaction_ids:
                record.transaction_ids.remove(transaction_id)
        self.add_many([payload], feed)
        return old

    def window(
        self,
        start_ts: float,
        end_ts: float,
        after: tuple[float, str] | None,
        limit: int,
    ) -> tuple[list[Entry], bool]:
        """Up to ``limit`` entries with start ≤ feed ≤ end after the cursor; and whether more."""
        low = (start_ts, "")
        if after is not None and after > low:
            index = bisect.bisect_right(self._keys, after)
        else:
            index = bisect.bisect_left(self._keys, low)
        found: list[Entry] = []
        while index < len(self._entries) and self._entries[index].feed_ts <= end_ts:
            if len(found) == limit:
                return found, True
            found.append(self._entries[index])
            index += 1
        return found, False

    def order_invoices(self, order_id: str) -> list[InvoiceRecord]:
        """The standard invoices of an order (empty: Amazon does not know the order)."""
        numbers: list[str] = []
        for key, found in self.line_invoices.items():
            if key[0] == order_id:
                numbers += [n for n in found if n not in numbers]
        records = [self.invoices[n] for n in numbers]
        return [r for r in records if r.invoice_type == "STANDARD"]

    def order_status(self, order_id: str) -> str:
        """``CLOSED`` for a known order unless the control endpoint set another status."""
        return self.order_statuses.get(order_id, "CLOSED")

    def payloads(self) -> list[dict[str, Any]]:
        """Every transaction, oldest feed date first."""
        return [entry.payload for entry in self._entries]

    @staticmethod
    def _entry(payload: dict[str, Any], fallback_feed: datetime) -> Entry:
        feed = parse_iso(str(payload.get("feedDate", ""))) or fallback_feed
        return Entry(feed.timestamp(), str(payload.get("transactionId", "")), payload)

    def _index(self, payload: dict[str, Any], fallback: datetime) -> None:
        number = payload.get("invoiceNumber")
        if not isinstance(number, str) or not number:
            return
        kind = payload.get("transactionType", "CHARGE")
        when = parse_iso(str(payload.get("transactionDate", ""))) or fallback
        amount = payload.get("amount") or {}
        record = self.invoices.get(number)
        if record is None:
            record = InvoiceRecord(
                number=number,
                date=when,
                invoice_type="STANDARD" if kind == "CHARGE" else "CREDIT_MEMO",
                pay_by_invoice=False,
                currency=str(amount.get("currencyCode", "")),
            )
            self.invoices[number] = record
        record.date = min(record.date, when)
        record.pay_by_invoice |= is_pay_by_invoice(payload.get("paymentInstrumentType"))
        value = _decimal(amount.get("amount", "0"))
        record.total += value if kind == "CHARGE" else -abs(value)  # refunds come either sign
        record.transaction_ids.append(str(payload.get("transactionId", "")))
        for item in payload.get("transactionLineItems") or []:
            key = (
                str(item.get("orderId", "")),
                str(item.get("orderLineItemId", "")),
                str(item.get("shipmentId", "")),
            )
            if key not in record.line_keys:
                record.line_keys.append(key)
                record.titles.append(str(item.get("productTitle", "")))
            numbers = self.line_invoices.setdefault(key, [])
            if number not in numbers:
                numbers.append(number)
