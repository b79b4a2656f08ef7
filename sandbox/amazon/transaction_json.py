"""Reconciliation JSON for generated purchases: ``Money``, tax rates, line items, transactions.

Money is ``Decimal`` throughout and rendered as strings with two decimals, as Reconciliation
does; a transaction's ``amount`` is the sum of its lines' components (``line_sum``).
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from decimal import ROUND_HALF_UP
from decimal import Decimal
from typing import Any

from sandbox.amazon.dates import iso_ms
from sandbox.amazon.ids import ALNUM
from sandbox.amazon.ids import UPPER_ALNUM
from sandbox.amazon.ids import random_token
from sandbox.amazon.profiles import Instrument
from sandbox.amazon.profiles import Product

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

Transaction = dict[str, Any]


@dataclass
class OrderLine:
    """One order line with its charge components (positive for a charge)."""

    product: Product
    position: int
    line_item_id: str
    quantity: int
    unit: Decimal
    rate: Decimal
    components: dict[str, Decimal] = field(default_factory=dict)


def q(amount: Decimal) -> Decimal:
    """Round to the cent, half up."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def money(amount: Decimal, currency: str) -> dict[str, str]:
    """Reconciliation ``Money``: currency code plus a cent amount as a string (never ``-0.00``).

    Callers pass amounts already rounded to the cent (``q``).
    """
    if not amount:
        amount = ZERO  # no "-0.00"
    return {"currencyCode": currency, "amount": f"{amount:.2f}"}


@functools.lru_cache(maxsize=64)
def rate_text(rate: Decimal) -> str:
    """A tax rate as Amazon writes it: ``"0.20"``, ``"0.0725"``, ``"0.00"``."""
    text = f"{rate.normalize():f}"
    if "." not in text:
        text += ".00"
    return text if len(text.split(".")[1]) >= 2 else text + "0"


COMPONENT_FIELDS = (
    ("principal", "principalAmount"),
    ("shipping", "shippingCharge"),
    ("regulatory_fee", "regulatoryFee"),
    ("gift_wrap", "giftWrappingCharge"),
    ("discount", "discount"),
    ("tax", "tax"),
)


def line_json(
    line: OrderLine,
    components: dict[str, Decimal],
    context: dict[str, Any],
    quantity: int | None = None,
    refund_reason: str | None = None,
) -> dict[str, Any]:
    """One ``TransactionLineItem``: ``components`` (signed) of ``line`` in ``context``."""
    currency = context["currency"]
    item: dict[str, Any] = {}
    if refund_reason is not None:
        item["refundReason"] = refund_reason
    item["totalAmount"] = money(sum(components.values(), ZERO), currency)
    for name, json_name in COMPONENT_FIELDS:
        value = components.get(name)
        if value is not None and (value != 0 or name in ("principal", "tax")):
            item[json_name] = money(value, currency)
    item["unitPrice"] = money(line.unit, currency)
    item["taxRate"] = rate_text(line.rate)
    item["orderId"] = context["order_id"]
    if line.product.unspsc:
        item["unspsc"] = line.product.unspsc
    item["orderLineItemId"] = line.line_item_id
    item["purchaseOrderNumber"] = context["po_number"]
    if context["po_number"]:
        item["purchaseOrderLineItemId"] = str(line.position)
    item["asin"] = line.product.asin
    item["productTitle"] = line.product.title
    item["itemQuantity"] = line.quantity if quantity is None else quantity
    item["shipmentId"] = context["shipment_id"]
    item["shipmentDate"] = context["shipment_date"]
    item["merchantLegalName"] = context["merchant"]
    if context.get("budget_id"):
        item["budgetId"] = context["budget_id"]
    if context["order_info"]:
        item["businessOrderInfo"] = dict(context["order_info"])
    return item


def transaction_json(
    rng: random.Random,
    kind: str,
    when: datetime,
    feed: datetime,
    instrument: Instrument,
    invoice_number: str,
    items: list[dict[str, Any]],
    context: dict[str, Any],
    rates: tuple[Decimal, Decimal] | None = None,
) -> Transaction:
    """One ``Transaction`` of ``kind`` whose ``amount`` is the sum of its ``items``."""
    currency = context["currency"]
    total = sum((Decimal(item["totalAmount"]["amount"]) for item in items), ZERO)
    tx: Transaction = {
        "marketplaceId": context["marketplace_id"],
        "transactionDate": iso_ms(when),
        "feedDate": iso_ms(feed),
        "transactionType": kind,
        "transactionId": random_token(rng, 20, ALNUM),
    }
    if kind == "CHARGE":
        tx["chargeIdentifier"] = random_token(rng, 9, UPPER_ALNUM)
        ship_rate, wrap_rate = rates or (ZERO, ZERO)
        tx["shipTaxRate"] = rate_text(ship_rate)
        tx["giftWrapTaxRate"] = rate_text(wrap_rate)
    tx["legalEntityName"] = context["legal_entity"]
    tx["purchasingCustomerGroupName"] = context["group"]
    tx["invoiceNumber"] = invoice_number
    tx["amount"] = money(total, currency)
    tx["paymentInstrumentType"] = instrument.type
    if instrument.last4:
        tx["paymentInstrumentLast4Digits"] = instrument.last4
    tx["buyer"] = context["buyer"]
    tx["payer"] = context["payer"]
    if kind == "CHARGE":
        tx["associatedTransactionDetails"] = []
    tx["transactionLineItems"] = items
    return tx


REFUND_TYPES = ("REFUND", "OVERREFUND")


def spell_positive(transaction: Transaction) -> None:
    """Write a refund's amounts as positive strings, as production feeds do (spec §9 item 4).

    Amazon's model says refunds carry negative amounts; code seen in production negates REFUND
    amounts itself, so Amazon also sends them positive. Every amount is negated (the
    transaction's and each line's components and total); ``unitPrice`` stays as it is (it is
    positive in both spellings). The sign is then only in ``transactionType``.
    """
    currency_amounts = [transaction["amount"]]
    for item in transaction.get("transactionLineItems", []):
        currency_amounts.append(item["totalAmount"])
        currency_amounts += [item[name] for _, name in COMPONENT_FIELDS if name in item]
    for money_json in currency_amounts:
        value = -Decimal(money_json["amount"])
        money_json["amount"] = f"{value if value else ZERO:.2f}"


def spell_every_other_refund_positive(transactions: list[Transaction]) -> None:
    """Deterministically write every other refund (in the list's order) in positive spelling."""
    refunds = [tx for tx in transactions if tx.get("transactionType") in REFUND_TYPES]
    for refund in refunds[1::2]:
        spell_positive(refund)


def line_sum(transaction: Transaction) -> Decimal:
    """The signed sum of every line's components (what ``amount`` must equal)."""
    total = ZERO
    for item in transaction.get("transactionLineItems", []):
        for _, json_name in COMPONENT_FIELDS:
            if json_name in item:
                total += Decimal(item[json_name]["amount"])
    return total
