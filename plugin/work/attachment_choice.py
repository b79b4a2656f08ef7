"""Which Amazon document to attach to a posted entry, and what to call it (pure).

- A refund: the credit memo PDF (``Credits``).
- A charge: the invoice PDF (``Invoice``), except a North American order not paid by
  Pay by Invoice: Amazon has no invoice PDF for those, but since January 2026 an order summary
  (spec §9 item 2), so that is asked for instead. A Pay by Invoice charge whose invoice PDF
  Amazon does not have falls back to the order summary too: the invoice is preferred where one
  exists.
- An order summary is not a tax invoice: its file name says "OrderSummary … not-a-tax-invoice"
  and the entry keeps the note ``ORDER_SUMMARY_NOTE``.

Orders still pending or cancelled are not asked for: an entry exists only for a charge Amazon
has made, and Amazon ends the report CANCELLED for an order cancelled since (the entry is then
``unavailable`` with Amazon's reason).
"""

from __future__ import annotations

from dataclasses import dataclass

from plugin.amazon.regions import Store
from plugin.models import LedgerEntry

ORDER_SUMMARY_NOTE = "Order summary (not a tax invoice)"


@dataclass(frozen=True)
class Wanted:
    """The documents to try for one entry, best first."""

    invoice: str | None  # "Invoice" or "Credits" (by invoice number), None: skip
    order_summary: bool  # then (or only) the NA order summary of ``order_id``

    @property
    def anything(self) -> bool:
        """Whether any document is worth asking for."""
        return self.invoice is not None or self.order_summary


def is_pay_by_invoice(payment_method_key: str | None) -> bool:
    """Whether the key's instrument type is Pay by Invoice (``"Pay by Invoice:"``)."""
    instrument = (payment_method_key or "").rsplit(":", 1)[0]
    return "invoice" in instrument.lower()


def invoice_file_name(entry: LedgerEntry) -> str:
    """The attached invoice or credit memo: ``Amazon-<invoice number>.pdf``."""
    return f"Amazon-{entry.invoice_number}.pdf"


def order_summary_file_name(entry: LedgerEntry) -> str:
    """The attached order summary, labelled as not a tax invoice."""
    return f"Amazon-OrderSummary-{entry.order_id}-not-a-tax-invoice.pdf"


def wanted_documents(entry: LedgerEntry, store: Store) -> Wanted:
    """What to ask Amazon for, for ``entry`` bought on ``store``."""
    charge = entry.transaction_type == "CHARGE"
    has_invoice = bool(entry.invoice_number)
    if not charge:
        return Wanted("Credits" if has_invoice else None, False)
    summary_possible = store.region == "NA" and bool(entry.order_id)
    if summary_possible and not is_pay_by_invoice(entry.payment_method_key):
        return Wanted(None, True)  # NA card orders have no invoice PDF
    return Wanted("Invoice" if has_invoice else None, summary_possible)
