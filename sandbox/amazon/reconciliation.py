"""Reconciliation API v2021-01-08: getTransactions, getInvoiceDetailsByOrderLineItems,
getBatchInvoicePaymentDetails (spec §3)."""

from __future__ import annotations

import base64
from typing import Any

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request

from sandbox.amazon.api import API_PREFIX
from sandbox.amazon.api import json_body
from sandbox.amazon.api import operation
from sandbox.amazon.auth import Consent
from sandbox.amazon.book import Book
from sandbox.amazon.dates import iso_s
from sandbox.amazon.dates import parse_iso
from sandbox.amazon.errors import bad_request
from sandbox.amazon.invoices import due_date
from sandbox.amazon.invoices import status_at
from sandbox.amazon.world import PageCursor
from sandbox.amazon.world import get_world
from sandbox.core import current_sandbox

bp = Blueprint("amazon_reconciliation", __name__, url_prefix=API_PREFIX)

BASE = "/reconciliation/2021-01-08"
MAX_LINE_ITEMS = 25
MAX_INVOICE_IDS = 25
MAX_INVOICE_ID_LENGTH = 255
MISSING = "Missing required request parameters."


def book_for(consent: Consent) -> Book:
    """The transactions this consent may see: its account, its store."""
    return get_world().book(consent.account_key, consent.store)


@bp.get(f"{BASE}/transactions")
@operation("getTransactions")
def get_transactions(consent: Consent) -> Response:
    """Transactions whose feed date is in [feedStartDate, feedEndDate], 100 per page."""
    world = get_world()
    args = request.args
    now_ts = current_sandbox().clock.time()
    if "nextPageToken" in args:
        if len(args) > 1 or len(args.getlist("nextPageToken")) > 1:
            raise bad_request(
                "When nextPageToken is provided, it must be the only request parameter.",
                f"Unexpected parameters: {sorted(set(args) - {'nextPageToken'})}",
            )
        cursor = world.page_tokens.get(args["nextPageToken"])
        if cursor is None or cursor.party != consent.party:
            raise bad_request("Invalid nextPageToken.", "The token is unknown or expired.")
    else:
        cursor = new_cursor(consent, args)
    end_ts = min(cursor.end_ts, now_ts)
    entries, more = book_for(consent).window(cursor.start_ts, end_ts, cursor.after, world.page_size)
    body: dict[str, Any] = {"transactions": [entry.payload for entry in entries]}
    if more:
        token = base64.b64encode(world.rng.randbytes(25)).decode("ascii")
        world.page_tokens[token] = PageCursor(
            consent.party, cursor.start_ts, cursor.end_ts, entries[-1].key
        )
        body["nextPageToken"] = token
    return jsonify(body)


def new_cursor(consent: Consent, args: Any) -> PageCursor:
    """Validate a first-page query: both dates present, ISO 8601, start not after end."""
    missing = [name for name in ("feedStartDate", "feedEndDate") if not args.get(name)]
    if missing:
        raise bad_request(MISSING, f"Missing: {', '.join(missing)}")
    unknown = sorted(set(args) - {"feedStartDate", "feedEndDate"})
    if unknown:
        raise bad_request(f"Unexpected request parameters: {', '.join(unknown)}")
    dates = []
    for name in ("feedStartDate", "feedEndDate"):
        value = args[name]
        parsed = parse_iso(value)
        if parsed is None:
            raise bad_request(f"Input date [{value}] is not in the expected ISO8601 format.")
        dates.append(parsed)
    start, end = dates
    if start > end:
        raise bad_request("feedStartDate must not be after feedEndDate.")
    return PageCursor(consent.party, start.timestamp(), end.timestamp(), (float("-inf"), ""))


@bp.post(f"{BASE}/invoices")
@operation("getInvoiceDetailsByOrderLineItems")
def get_invoice_details(consent: Consent) -> Response:
    """Invoice and credit-memo numbers for up to 25 (orderId, orderLineItemId, shipmentId)."""
    body = json_body()
    items = body.get("orderLineItems")
    if not isinstance(items, list) or not items:
        raise bad_request(MISSING, "orderLineItems must be a non-empty list.")
    if len(items) > MAX_LINE_ITEMS:
        raise bad_request(
            f"orderLineItems must contain at most {MAX_LINE_ITEMS} items.",
            f"Received {len(items)}.",
        )
    keys = []
    for index, item in enumerate(items):
        fields = ("orderId", "orderLineItemId", "shipmentId")
        if not isinstance(item, dict) or not all(
            isinstance(item.get(name), str) and item.get(name) for name in fields
        ):
            raise bad_request(
                MISSING, f"orderLineItems[{index}] needs orderId, orderLineItemId and shipmentId."
            )
        keys.append((item["orderId"], item["orderLineItemId"], item["shipmentId"]))
    book = book_for(consent)
    results = []
    for order_id, line_id, shipment_id in keys:
        details = []
        for number in book.line_invoices.get((order_id, line_id, shipment_id), []):
            record = book.invoices[number]
            details.append(
                {
                    "invoiceNumber": record.number,
                    "invoiceDate": iso_s(record.date),
                    "invoiceType": record.invoice_type,
                }
            )
        results.append(
            {
                "orderLineItem": {
                    "orderId": order_id,
                    "orderLineItemId": line_id,
                    "shipmentId": shipment_id,
                },
                "invoiceDetails": details,
            }
        )
    return jsonify({"invoiceDetailsByOrderLineItems": results})


@bp.post(f"{BASE}/invoices/batch/paymentDetails")
@operation("getBatchInvoicePaymentDetails")
def get_payment_details(consent: Consent) -> Response:
    """Status and due date of up to 25 invoices (ERROR result for an unknown id)."""
    body = json_body()
    ids = body.get("invoiceIds")
    if not isinstance(ids, list) or not ids:
        raise bad_request("invoiceIds must contain between 1 and 25 invoice ids.")
    if len(ids) > MAX_INVOICE_IDS:
        raise bad_request(
            f"invoiceIds must contain between 1 and {MAX_INVOICE_IDS} invoice ids.",
            f"Received {len(ids)}.",
        )
    for invoice_id in ids:
        if not isinstance(invoice_id, str) or not 1 <= len(invoice_id) <= MAX_INVOICE_ID_LENGTH:
            raise bad_request(
                f"Each invoice id must be a string of 1 to {MAX_INVOICE_ID_LENGTH} characters."
            )
    book = book_for(consent)
    now = current_sandbox().clock.now()
    results = []
    for invoice_id in ids:
        record = book.invoices.get(invoice_id)
        if record is None:
            results.append(
                {
                    "invoiceId": invoice_id,
                    "resultType": "ERROR",
                    "error": {
                        "code": "INVOICE_NOT_FOUND",
                        "message": "No invoice was found with this id.",
                        "details": invoice_id,
                    },
                }
            )
            continue
        results.append(
            {
                "invoiceId": invoice_id,
                "resultType": "SUCCESS",
                "paymentDetails": {
                    "status": status_at(record, now),
                    "dueDate": iso_s(due_date(record)),
                },
            }
        )
    return jsonify({"invoicePaymentDetailsResults": results})
