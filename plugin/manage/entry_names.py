"""How a bookkeeper names one purchase (pure): "Paper A4 from Staples UK Ltd, GBP 12.34, 30 Nov
2026". The entry page's heading, the Review page's held list and the entries list say the same
thing, with dates written the way every page writes them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import datetime

from plugin.amazon.models import Transaction
from plugin.ledger import parsed
from plugin.models import LedgerEntry
from plugin.posting import money_text

TITLE_LIMIT = 80


def day_text(moment: date | datetime | None) -> str:
    """``30 Nov 2026`` (``1 Dec 2026``: no leading zero), "" for no date."""
    if moment is None:
        return ""
    return f"{moment.day} {moment:%b %Y}"


@dataclass(frozen=True)
class PurchaseName:
    """The parts of a purchase's name; ``title`` joins them in one line."""

    kind: str  # "Purchase" or "Refund"
    product: str
    supplier: str
    amount: str
    date: str

    @property
    def title(self) -> str:
        """``"Paper A4 from Staples UK Ltd"`` (the product alone when the seller is unknown)."""
        return f"{self.product} from {self.supplier}" if self.supplier else self.product

    @property
    def line(self) -> str:
        """``"Refund: Paper A4 from Staples UK Ltd, GBP 12.34, 30 Nov 2026"``."""
        parts = [self.title, self.amount, self.date]
        text = ", ".join(part for part in parts if part)
        return f"Refund: {text}" if self.kind == "Refund" else text


def _short(text: str) -> str:
    return text if len(text) <= TITLE_LIMIT else text[: TITLE_LIMIT - 1].rstrip() + "…"


def purchase_name(entry: LedgerEntry) -> PurchaseName:
    """The entry's name from its Amazon payload (product and seller of its first line item; "and
    2 more items" when there are more), falling back to its order id."""
    transaction = parsed(entry)
    product = supplier = ""
    if isinstance(transaction, Transaction) and transaction.line_items:
        items = transaction.line_items
        product = _short(items[0].product_title or items[0].asin or "")
        sellers = {item.merchant_legal_name for item in items if item.merchant_legal_name}
        supplier = items[0].merchant_legal_name or (sorted(sellers)[0] if sellers else "")
        if len(sellers) > 1:
            supplier += f" and {len(sellers) - 1} other seller{'s' if len(sellers) > 2 else ''}"
        if product and len(items) > 1:
            more = len(items) - 1
            product += f" and {more} more item{'s' if more > 1 else ''}"
    if not product:
        product = f"Amazon order {entry.order_id}" if entry.order_id else "Amazon transaction"
    kind = "Purchase" if (entry.transaction_type or "CHARGE") == "CHARGE" else "Refund"
    amount = f"{entry.currency} {money_text(entry.amount)}".strip() if entry.currency else ""
    return PurchaseName(kind, product, supplier, amount, day_text(entry.transaction_date))
