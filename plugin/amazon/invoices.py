"""Reading getInvoiceDetailsByOrderLineItems and getBatchInvoicePaymentDetails answers (§3.2-3.3).

Plain frozen dataclasses over Amazon's JSON, keeping the raw object for anything we do not
model (JP-only fields such as ``tax`` or ``sellerInformation``). Parsing is strict about what
the spec marks required (``invoiceNumber``/``invoiceDate`` of an invoice detail; ``invoiceId``/
``resultType`` of a payment result) and raises ``ValueError`` naming the item; the client turns
that into ``AmazonMalformedResponse``. Dates use ``plugin.amazon.values.parse_datetime``.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any

from plugin.amazon.values import parse_datetime

PAYMENT_STATUSES = ("Issued", "Payment Processing", "Past Due", "Closed")


@dataclass(frozen=True)
class LineItemKey:
    """An Amazon order line as the invoice lookups know it: order, line and shipment ids."""

    order_id: str
    order_line_item_id: str
    shipment_id: str

    def to_json(self) -> dict[str, str]:
        """The ``orderLineItem`` object Amazon expects."""
        return {
            "orderId": self.order_id,
            "orderLineItemId": self.order_line_item_id,
            "shipmentId": self.shipment_id,
        }


@dataclass(frozen=True)
class InvoiceDetail:
    """One invoice or credit memo of an order line."""

    invoice_number: str
    invoice_date: datetime
    invoice_type: str | None
    consolidated_invoice_number: str | None
    raw: dict[str, Any] = field(compare=False, repr=False)


@dataclass(frozen=True)
class LineItemInvoices:
    """The invoices Amazon lists for one order line (empty when none exists yet)."""

    key: LineItemKey
    invoices: tuple[InvoiceDetail, ...]


@dataclass(frozen=True)
class PaymentError:
    """Why Amazon could not give an invoice's payment details."""

    code: str
    message: str
    details: str = ""


@dataclass(frozen=True)
class InvoicePaymentResult:
    """The payment status and due date of one invoice (``SUCCESS``), or why not (``ERROR``)."""

    invoice_id: str
    result_type: str
    status: str | None = None
    due_date: datetime | None = None
    error: PaymentError | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        """True when Amazon returned payment details."""
        return self.result_type == "SUCCESS"


def _text(obj: dict[str, Any], name: str, where: str, required: bool = True) -> str | None:
    value = obj.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise ValueError(f"{where}: '{name}' should be text, got {value!r:.60}")
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: should be an object, got {value!r:.60}")
    return value


def _list(body: Any, name: str, where: str) -> list[Any]:
    items = _object(body, where).get(name)
    if not isinstance(items, list):
        raise ValueError(f"{where}: '{name}' should be a list, got {items!r:.60}")
    return items


def parse_invoice_details(body: Any, where: str) -> list[LineItemInvoices]:
    """Parse ``{"invoiceDetailsByOrderLineItems": [...]}``; ValueError naming what is wrong."""
    results = []
    for index, raw in enumerate(_list(body, "invoiceDetailsByOrderLineItems", where)):
        here = f"{where} item {index}"
        item = _object(raw, here)
        line = _object(item.get("orderLineItem"), f"{here} orderLineItem")
        key = LineItemKey(
            _text(line, "orderId", here) or "",
            _text(line, "orderLineItemId", here) or "",
            _text(line, "shipmentId", here) or "",
        )
        details = item.get("invoiceDetails")
        if not isinstance(details, list):
            raise ValueError(f"{here}: 'invoiceDetails' should be a list, got {details!r:.60}")
        invoices = []
        for number, raw_detail in enumerate(details):
            spot = f"{here} invoice {number}"
            detail = _object(raw_detail, spot)
            consolidated = detail.get("consolidatedInvoiceDetails")
            invoices.append(
                InvoiceDetail(
                    invoice_number=_text(detail, "invoiceNumber", spot) or "",
                    invoice_date=_date(detail.get("invoiceDate"), f"{spot} invoiceDate"),
                    invoice_type=_text(detail, "invoiceType", spot, required=False),
                    consolidated_invoice_number=_text(
                        consolidated, "invoiceNumber", spot, required=False
                    )
                    if isinstance(consolidated, dict)
                    else None,
                    raw=detail,
                )
            )
        results.append(LineItemInvoices(key, tuple(invoices)))
    return results


def parse_payment_details(body: Any, where: str) -> list[InvoicePaymentResult]:
    """Parse ``{"invoicePaymentDetailsResults": [...]}``; ValueError naming what is wrong."""
    results = []
    for index, raw in enumerate(_list(body, "invoicePaymentDetailsResults", where)):
        here = f"{where} result {index}"
        item = _object(raw, here)
        invoice_id = _text(item, "invoiceId", here) or ""
        result_type = _text(item, "resultType", here) or ""
        if result_type == "SUCCESS":
            details = item.get("paymentDetails")
            details = details if isinstance(details, dict) else {}
            due = details.get("dueDate")
            results.append(
                InvoicePaymentResult(
                    invoice_id,
                    result_type,
                    status=_text(details, "status", here, required=False),
                    due_date=_date(due, f"{here} dueDate") if due is not None else None,
                    raw=item,
                )
            )
            continue
        raw_error = item.get("error")
        error: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
        results.append(
            InvoicePaymentResult(
                invoice_id,
                result_type,
                error=PaymentError(
                    str(error.get("code") or "UNKNOWN"),
                    str(error.get("message") or "Amazon gave no payment details."),
                    str(error.get("details") or ""),
                ),
                raw=item,
            )
        )
    return results


def _date(value: Any, where: str) -> datetime:
    try:
        return parse_datetime(value)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
