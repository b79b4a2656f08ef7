"""Realistic Amazon Business ``getTransactions`` payloads, in the spec's exact shape (§3.1).

Plain functions returning dicts; keyword arguments override any field. Amounts are strings, as
Amazon sends them. ``totalAmount`` of a line and ``amount`` of a transaction are computed so they
add up unless given explicitly.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

US_MARKETPLACE = "ATVPDKIKX0DER"
UK_MARKETPLACE = "A1F83G8C2ARO7P"
DE_MARKETPLACE = "A1PA6795UKMFR9"

_OMIT = object()


def money(amount: str, currency: str = "USD") -> dict[str, str]:
    """Amazon ``Money``."""
    return {"currencyCode": currency, "amount": amount}


def _sum(*amounts: str | None) -> str:
    return str(sum((Decimal(a) for a in amounts if a is not None), Decimal("0.00")))


def line_item(
    *,
    currency: str = "USD",
    principal: str | None = "24.99",
    quantity: int | None = 1,
    tax: str | None = "0.00",
    tax_rate: str | None = "0.00",
    shipping: str | None = None,
    gift_wrap: str | None = None,
    regulatory_fee: str | None = None,
    discount: str | None = None,
    total: Any = None,
    unit_price: str | None = None,
    title: str | None = "Logitech MK270 Wireless Keyboard and Mouse Combo",
    asin: str | None = "B079JLY5M5",
    order_id: str | None = "114-3941689-8772232",
    order_line_item_id: str | None = "62719034571234",
    unspsc: str | None = "43211706",
    business_order_info: dict[str, str] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """One ``TransactionLineItem`` (a US keyboard, untaxed, by default)."""
    item: dict[str, Any] = {}
    amounts = {
        "principalAmount": principal,
        "shippingCharge": shipping,
        "giftWrappingCharge": gift_wrap,
        "regulatoryFee": regulatory_fee,
        "discount": discount,
        "tax": tax,
    }
    if total is not _OMIT:
        item["totalAmount"] = money(
            total or _sum(principal, shipping, gift_wrap, regulatory_fee, discount, tax), currency
        )
    for name, value in amounts.items():
        if value is not None:
            item[name] = money(value, currency)
    if unit_price is not None:
        item["unitPrice"] = money(unit_price, currency)
    optional = {
        "taxRate": tax_rate,
        "orderId": order_id,
        "unspsc": unspsc,
        "orderLineItemId": order_line_item_id,
        "asin": asin,
        "productTitle": title,
        "itemQuantity": quantity,
        "businessOrderInfo": business_order_info,
    }
    item.update({k: v for k, v in optional.items() if v is not None})
    item.update(
        {
            "purchaseOrderNumber": "",
            "shipmentId": "DhG3L9W23",
            "shipmentDate": "2026-03-04T09:58:03Z",
            "merchantLegalName": "Amazon.com Services LLC",
        }
    )
    item.update(overrides)
    return item


OMIT_TOTAL = _OMIT
"""Pass as ``total=`` to leave ``totalAmount`` out of a line item."""


def _taxed_line(rate: str, principal: str, **kw: Any) -> dict[str, Any]:
    """A line whose tax is ``rate`` on the principal plus its extras, rounded to the cent."""
    base = sum(
        (
            Decimal(kw.get(k) or "0")
            for k in ("shipping", "gift_wrap", "regulatory_fee", "discount")
        ),
        Decimal(principal),
    )
    tax = (base * Decimal(rate)).quantize(Decimal("0.01"))
    return line_item(principal=principal, tax=str(tax), tax_rate=rate, **kw)


def transaction(
    *,
    transaction_id: str = "1x47pVc03Ffs71cjjCct",
    transaction_type: str = "CHARGE",
    currency: str = "USD",
    lines: list[dict[str, Any]] | None = None,
    amount: str | None = None,
    instrument: str | None = "Visa",
    last4: str | None = "4242",
    date: str = "2026-03-04T10:15:42.120Z",
    invoice_number: str | None = "US1UFB1HAEUI",
    associated: tuple[str, ...] = (),
    marketplace: str = US_MARKETPLACE,
    **overrides: Any,
) -> dict[str, Any]:
    """One ``Transaction``; ``amount`` defaults to the sum of its lines' totals."""
    items = [line_item(currency=currency)] if lines is None else lines
    if amount is None:
        amount = _sum(*(i["totalAmount"]["amount"] for i in items if "totalAmount" in i))
    body: dict[str, Any] = {
        "marketplaceId": marketplace,
        "transactionDate": date,
        "feedDate": "2026-03-05T02:00:11.804Z",
        "transactionType": transaction_type,
        "transactionId": transaction_id,
        "chargeIdentifier": "RA5RE0N60",
        "shipTaxRate": "0.00",
        "giftWrapTaxRate": "0.00",
        "legalEntityName": "Acme Widgets Inc",
        "purchasingCustomerGroupName": "Facilities",
        "invoiceNumber": invoice_number,
        "amount": money(amount, currency),
        "paymentInstrumentType": instrument,
        "paymentInstrumentLast4Digits": last4,
        "buyer": {
            "id": "amzn1.account.AEXAMPLEBUYER",
            "name": "Jane Buyer",
            "email": "jane@acme.example",
        },
        "payer": {
            "id": "amzn1.account.AEXAMPLEPAYER",
            "name": "Finance",
            "email": "ap@acme.example",
        },
        "associatedTransactionDetails": [{"associatedTransactionId": a} for a in associated],
        "transactionLineItems": items,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


# --- US org ----------------------------------------------------------------------------------


def us_taxed_line(rate: str = "0.0725", principal: str = "24.99", **kw: Any) -> dict[str, Any]:
    """A US line with state sales tax at ``rate`` on the principal (and any extras)."""
    return _taxed_line(rate, principal, **kw)


def us_card_charge(**kw: Any) -> dict[str, Any]:
    """A US Visa charge for one keyboard with California sales tax (7.25%)."""
    kw.setdefault("lines", [us_taxed_line("0.0725", "24.99")])
    return transaction(**kw)


def us_card_refund(**kw: Any) -> dict[str, Any]:
    """A US Visa refund of the keyboard and its tax (negative amounts, as in the spec)."""
    kw.setdefault(
        "lines",
        [
            line_item(
                principal="-24.99",
                tax="-1.81",
                tax_rate="0.0725",
                title=None,
                unspsc=None,
                refundReason="Item defective or doesn't work",
            )
        ],
    )
    kw.setdefault("transaction_id", "ONf39R7NmjIh9247YJ34")
    kw.setdefault("transaction_type", "REFUND")
    kw.setdefault("invoice_number", "US2CRN0001XX")
    kw.setdefault("date", "2026-03-12T08:01:00.000Z")
    return transaction(**kw)


def us_pbi_charge(**kw: Any) -> dict[str, Any]:
    """A US Pay by Invoice charge: two desk chairs, NY tax."""
    kw.setdefault(
        "lines",
        [
            us_taxed_line(
                "0.08875", "359.98", quantity=2, title="HON Ignition Task Chair", asin="B00IA9N3ZA"
            )
        ],
    )
    kw.setdefault("transaction_id", "PbI7c03Ffs71cjjXyz01")
    kw.setdefault("instrument", "Pay by Invoice")
    kw.setdefault("last4", None)
    kw.setdefault("invoice_number", "US1PBI0000417")
    return transaction(**kw)


def us_pbi_refund(**kw: Any) -> dict[str, Any]:
    """A US Pay by Invoice refund of one chair (credit memo)."""
    kw.setdefault(
        "lines",
        [
            line_item(
                principal="-179.99",
                tax="-15.97",
                tax_rate="0.08875",
                title="HON Ignition Task Chair",
                asin="B00IA9N3ZA",
                refundReason="Damaged item",
            )
        ],
    )
    kw.setdefault("transaction_id", "PbIRf03Ffs71cjjXyz02")
    kw.setdefault("transaction_type", "REFUND")
    kw.setdefault("instrument", "Pay by Invoice")
    kw.setdefault("last4", None)
    kw.setdefault("invoice_number", "US2CRPBI00009")
    return transaction(**kw)


# --- UK org ----------------------------------------------------------------------------------


def uk_line(rate: str = "0.20", principal: str = "35.98", **kw: Any) -> dict[str, Any]:
    """A UK line with VAT at ``rate`` on principal + extras."""
    kw.setdefault("currency", "GBP")
    kw.setdefault("title", "Pencils, #2, 18-Count")
    kw.setdefault("asin", "B07T8K1HJG")
    kw.setdefault("order_id", "203-9277085-5441169")
    kw.setdefault("order_line_item_id", "20710282414442")
    kw.setdefault("unspsc", "44121700")
    kw.setdefault("quantity", 2)
    return _taxed_line(rate, principal, **kw)


def uk_card_charge(**kw: Any) -> dict[str, Any]:
    """The spec's GBP example charge: pencils with shipping and a matching discount, 20% VAT."""
    kw.setdefault("currency", "GBP")
    kw.setdefault("marketplace", UK_MARKETPLACE)
    kw.setdefault("invoice_number", "GB1UFB1HAEUI")
    kw.setdefault(
        "lines",
        [
            uk_line(
                "0.20",
                "35.98",
                shipping="2.99",
                discount="-2.99",
                unit_price="17.99",
                business_order_info={"GL code": "6100-office", "Cost center": "FAC-01"},
            )
        ],
    )
    kw.setdefault("legalEntityName", "Acme Widgets Ltd")
    return transaction(**kw)


def uk_card_refund(**kw: Any) -> dict[str, Any]:
    """The spec's GBP example refund of one pack of pencils."""
    kw.setdefault("currency", "GBP")
    kw.setdefault("marketplace", UK_MARKETPLACE)
    kw.setdefault(
        "lines",
        [
            line_item(
                currency="GBP",
                principal="-17.99",
                tax="-3.60",
                tax_rate="0.20",
                quantity=1,
                title=None,
                unspsc=None,
                asin="B07T8K1HJG",
                order_id="203-9277085-5441169",
                order_line_item_id="20710282414442",
                refundReason="Damaged item",
            )
        ],
    )
    kw.setdefault("transaction_id", "ONf39R7NmjIh9247YJ34")
    kw.setdefault("transaction_type", "REFUND")
    kw.setdefault("invoice_number", "GB2CRN0001XX")
    kw.setdefault("date", "2025-03-12T08:01:00.000Z")
    kw.setdefault("legalEntityName", "Acme Widgets Ltd")
    return transaction(**kw)


def eur_line(**kw: Any) -> dict[str, Any]:
    """A German-store line in EUR at 19% VAT (not reclaimable in the UK)."""
    kw.setdefault("currency", "EUR")
    kw.setdefault("title", "Leitz 180 Ordner A4")
    kw.setdefault("asin", "B0013F0VT6")
    kw.setdefault("order_id", "302-1234567-7654321")
    kw.setdefault("quantity", 10)
    return uk_line("0.19", "39.90", **kw)


def spec_example_page() -> dict[str, Any]:
    """The example response of specs/amazon-business-api.md §3.1, verbatim."""
    return {
        "transactions": [
            {
                "marketplaceId": "A1F83G8C2ARO7P",
                "transactionDate": "2025-03-04T10:15:42.120Z",
                "feedDate": "2025-03-05T02:00:11.804Z",
                "transactionType": "CHARGE",
                "transactionId": "1x47pVc03Ffs71cjjCct",
                "chargeIdentifier": "RA5RE0N60",
                "shipTaxRate": "0.20",
                "giftWrapTaxRate": "0.00",
                "legalEntityName": "Acme Widgets Ltd",
                "invoiceNumber": "GB1UFB1HAEUI",
                "amount": {"currencyCode": "GBP", "amount": "43.18"},
                "paymentInstrumentType": "Visa",
                "paymentInstrumentLast4Digits": "4242",
                "buyer": {
                    "id": "amzn1.account.AEXAMPLEBUYER",
                    "name": "Jane Buyer",
                    "email": "jane@acme.example",
                },
                "payer": {
                    "id": "amzn1.account.AEXAMPLEPAYER",
                    "name": "Finance Team",
                    "email": "ap@acme.example",
                },
                "associatedTransactionDetails": [],
                "transactionLineItems": [
                    {
                        "totalAmount": {"currencyCode": "GBP", "amount": "43.18"},
                        "principalAmount": {"currencyCode": "GBP", "amount": "35.98"},
                        "shippingCharge": {"currencyCode": "GBP", "amount": "2.99"},
                        "discount": {"currencyCode": "GBP", "amount": "-2.99"},
                        "tax": {"currencyCode": "GBP", "amount": "7.20"},
                        "unitPrice": {"currencyCode": "GBP", "amount": "17.99"},
                        "taxRate": "0.20",
                        "orderId": "203-9277085-5441169",
                        "unspsc": "44121700",
                        "orderLineItemId": "20710282414442",
                        "purchaseOrderNumber": "PO-7781",
                        "asin": "B07T8K1HJG",
                        "productTitle": "Pencils, #2, 18-Count",
                        "itemQuantity": 2,
                        "shipmentId": "D6jrvDy6t",
                        "shipmentDate": "2025-03-04T09:58:03Z",
                        "merchantLegalName": "Amazon EU S.a.r.L.",
                        "businessOrderInfo": {"GL code": "6100-office", "Cost center": "FAC-01"},
                    }
                ],
            },
            {
                "marketplaceId": "A1F83G8C2ARO7P",
                "transactionDate": "2025-03-12T08:01:00.000Z",
                "feedDate": "2025-03-13T02:00:09.117Z",
                "transactionType": "REFUND",
                "transactionId": "ONf39R7NmjIh9247YJ34",
                "legalEntityName": "Acme Widgets Ltd",
                "invoiceNumber": "GB2CRN0001XX",
                "amount": {"currencyCode": "GBP", "amount": "-21.59"},
                "paymentInstrumentType": "Visa",
                "paymentInstrumentLast4Digits": "4242",
                "transactionLineItems": [
                    {
                        "refundReason": "Damaged item",
                        "totalAmount": {"currencyCode": "GBP", "amount": "-21.59"},
                        "principalAmount": {"currencyCode": "GBP", "amount": "-17.99"},
                        "tax": {"currencyCode": "GBP", "amount": "-3.60"},
                        "taxRate": "0.20",
                        "orderId": "203-9277085-5441169",
                        "orderLineItemId": "20710282414442",
                        "asin": "B07T8K1HJG",
                        "itemQuantity": 1,
                        "shipmentId": "D6jrvDy6t",
                        "merchantLegalName": "Amazon EU S.a.r.L.",
                    }
                ],
            },
        ],
        "nextPageToken": "eyJwYWdlIjoyfQ==",
    }
