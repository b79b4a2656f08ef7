"""Which bill a Pay by Invoice credit note refunds (pure: no database, no network).

Amazon's refund names the order line it refunds, and Amazon's invoice details can name the
invoice a credit memo belongs to. So, in this order:

1. **invoice number**: a bill whose Amazon invoice number is one Amazon gives for the credit
   memo (its ``associatedInvoiceNumber``, or the standard invoice of the refunded line), narrowed
   to the refunded line when several bills share the number (consolidated invoices);
2. **order line**: a bill carrying the refunded line (order, line and shipment; then order and
   line);
3. **order**: the bill of the same order, only when the order has exactly one.

Bills in another currency never match. The result lists the candidates of the first rule that
finds any, in ledger order; the caller allocates to the first of them that is open in Xero.
"""

from __future__ import annotations

from collections.abc import Collection
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from plugin.amazon.invoices import LineItemKey


@dataclass(frozen=True)
class SettlementDocument:
    """A posted (or not yet posted) Pay by Invoice bill or credit note, as matching sees it."""

    entry_id: int
    invoice_number: str | None
    order_id: str | None
    currency: str
    lines: frozenset[LineItemKey] = field(default_factory=frozenset)
    posted: bool = True

    @property
    def order_lines(self) -> frozenset[tuple[str, str]]:
        """(order, line) of every line, without the shipment."""
        return frozenset((k.order_id, k.order_line_item_id) for k in self.lines)


@dataclass(frozen=True)
class BillMatch:
    """The bills a credit note may refund, and by which rule they were found."""

    candidates: tuple[SettlementDocument, ...] = ()
    rule: str = ""  # "invoice number" | "order line" | "order" | "" (none found)

    def describe(self) -> str:
        """For the credit note's reason: how its bill was found."""
        return f"matched by {self.rule}" if self.rule else "no bill of this order"


def line_keys(payload: dict[str, Any] | None) -> frozenset[LineItemKey]:
    """The (order, line, shipment) of each line item of an Amazon transaction."""
    keys = set()
    for item in (payload or {}).get("transactionLineItems") or []:
        if not isinstance(item, dict):
            continue
        order, line = item.get("orderId"), item.get("orderLineItemId")
        if isinstance(order, str) and order and isinstance(line, str) and line:
            keys.add(LineItemKey(order, line, str(item.get("shipmentId") or "")))
    return frozenset(keys)


def _narrowed(
    bills: Sequence[SettlementDocument], note: SettlementDocument
) -> list[SettlementDocument]:
    """The bills that carry the refunded line, when any do; else all of them."""
    exact = [b for b in bills if b.lines & note.lines]
    if exact:
        return exact
    by_line = [b for b in bills if b.order_lines & note.order_lines]
    return by_line or list(bills)


def bill_refunded(
    note: SettlementDocument,
    bills: Iterable[SettlementDocument],
    invoice_numbers: Collection[str] = (),
) -> BillMatch:
    """The bills ``note`` refunds (see the module docstring for the rules)."""
    same_currency = sorted(
        (b for b in bills if b.currency == note.currency and b.entry_id != note.entry_id),
        key=lambda b: b.entry_id,
    )
    wanted = {n for n in invoice_numbers if n and n != note.invoice_number}
    by_number = [b for b in same_currency if b.invoice_number and b.invoice_number in wanted]
    if by_number:
        return BillMatch(tuple(_narrowed(by_number, note)), "invoice number")
    exact = [b for b in same_currency if b.lines & note.lines]
    if exact:
        return BillMatch(tuple(exact), "order line")
    by_line = [b for b in same_currency if b.order_lines & note.order_lines]
    if by_line:
        return BillMatch(tuple(by_line), "order line")
    same_order = [b for b in same_currency if note.order_id and b.order_id == note.order_id]
    if len(same_order) == 1:
        return BillMatch(tuple(same_order), "order")
    return BillMatch()


def invoice_numbers_for(details: Iterable[Any], note_number: str | None) -> set[str]:
    """The invoice numbers Amazon's invoice details give for a credit memo's lines: each
    ``associatedInvoiceNumber`` and each standard invoice of those lines (not the memo itself).

    ``details`` are ``plugin.amazon.invoices.LineItemInvoices`` of the memo's lines.
    """
    numbers: set[str] = set()
    for line in details:
        for invoice in line.invoices:
            associated = invoice.raw.get("associatedInvoiceNumber")
            if isinstance(associated, str) and associated:
                numbers.add(associated)
            if invoice.invoice_type != "CREDIT_MEMO" and invoice.invoice_number != note_number:
                numbers.add(invoice.invoice_number)
    return numbers
