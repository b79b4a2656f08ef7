"""Document API v2021-09-30 (invoice PDFs, spec §4) and the presigned-style file downloads
(a ZIP archive holding the PDF, sometimes gzipped as well: spec §9 item 3)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import jsonify
from flask import request

from sandbox.amazon.api import API_PREFIX
from sandbox.amazon.api import json_body
from sandbox.amazon.api import operation
from sandbox.amazon.auth import Consent
from sandbox.amazon.book import InvoiceRecord
from sandbox.amazon.dates import parse_iso
from sandbox.amazon.errors import bad_request
from sandbox.amazon.errors import not_found
from sandbox.amazon.reports import FINAL_STATUSES
from sandbox.amazon.reports import URL_SECONDS
from sandbox.amazon.reports import Report
from sandbox.amazon.stores import STORES
from sandbox.amazon.world import get_world
from sandbox.core import current_sandbox

bp = Blueprint("amazon_documents", __name__, url_prefix=API_PREFIX)
files_bp = Blueprint("amazon_files", __name__)

BASE = "/reports/2021-09-30"
REPORT_TYPE = "GET_AB_INVOICE_PDF"
DOCUMENT_TYPES = {"Invoice": "STANDARD", "Credits": "CREDIT_MEMO"}
ORDER_SUMMARY = "OrderSummary"
STATUSES = ("IN_QUEUE", "IN_PROGRESS", *FINAL_STATUSES)
LINE_KEY = ("orderId", "orderLineItemId", "shipmentId")
LIST_PARAMS = {
    "reportTypes",
    "processingStatuses",
    "marketplaceIds",
    "pageSize",
    "createdSince",
    "createdUntil",
}


@bp.post(f"{BASE}/reports")
@operation("createReport")
def create_report(consent: Consent) -> Response:
    """Queue a GET_AB_INVOICE_PDF report for one invoice or one order line; 202 + reportId."""
    body = json_body()
    report_type = body.get("reportType")
    marketplace_ids = body.get("marketplaceIds")
    if not report_type or not marketplace_ids:
        raise bad_request("Missing required request parameters.", "reportType, marketplaceIds")
    if report_type != REPORT_TYPE:
        raise bad_request("Invalid input", f"Unsupported reportType: {report_type}")
    store = STORES[consent.store]
    if (
        not isinstance(marketplace_ids, list)
        or not all(isinstance(value, str) for value in marketplace_ids)
        or store.marketplace_id not in marketplace_ids
    ):
        raise bad_request(
            "Invalid input", f"marketplaceIds must include {store.marketplace_id} ({store.code})."
        )
    for name in ("dataStartTime", "dataEndTime"):
        if name in body and parse_iso(str(body[name])) is None:
            raise bad_request(f"Input date [{body[name]}] is not in the expected ISO8601 format.")
    options = body.get("reportOptions")
    invoice, title = match_options(consent, options)
    world = get_world()
    report = world.reports.create(
        party=consent.party,
        report_type=report_type,
        marketplace_ids=list(marketplace_ids),
        options=dict(options),
        invoice=invoice,
        title=title,
        now=current_sandbox().clock.now(),
        data_start=body.get("dataStartTime"),
        data_end=body.get("dataEndTime"),
    )
    response = jsonify({"reportId": report.report_id})
    response.status_code = 202
    return response


def match_options(consent: Consent, options: Any) -> tuple[InvoiceRecord | None, str]:
    """Validate ``reportOptions``; the invoice it names (None: the report will be CANCELLED)."""
    if not isinstance(options, dict) or not all(isinstance(v, str) for v in options.values()):
        raise bad_request("Invalid input", "reportOptions must be an object of strings.")
    book = get_world().book(consent.account_key, consent.store)
    region = STORES[consent.store].region
    if set(options) == {"invoiceId", "documentType"}:
        wanted = DOCUMENT_TYPES.get(options["documentType"])
        if wanted is None:
            raise bad_request("Invalid input", "documentType must be Invoice or Credits.")
        record = book.invoices.get(options["invoiceId"])
        if record is None or record.invoice_type != wanted:
            return None, f"Invoice {options['invoiceId']}"
        if region == "NA" and not record.pay_by_invoice:
            return None, f"Invoice {record.number}"  # NA invoice PDFs: Pay by Invoice only
        return record, f"Invoice {record.number}"
    if set(options) == {"orderId", "documentType"}:
        return match_order_summary(book, region, options)
    if set(options) == set(LINE_KEY):
        if region == "NA":
            raise bad_request(
                "Invalid input", "In NA, reportOptions must name invoiceId and documentType."
            )
        key = (options["orderId"], options["orderLineItemId"], options["shipmentId"])
        title = f"Order {key[0]}"
        for number in book.line_invoices.get(key, []):
            record = book.invoices[number]
            if record.invoice_type == "STANDARD":
                return record, title
        return None, title
    raise bad_request(
        "Invalid input",
        "reportOptions must be {invoiceId, documentType}, {orderId, documentType} (NA order "
        "summaries) or {orderId, orderLineItemId, shipmentId}.",
    )


SUMMARY_REFUSED = ("PENDING", "PENDING_APPROVAL", "PENDING_FULFILLMENT", "CANCELLED")


def match_order_summary(
    book: Any, region: str, options: dict[str, str]
) -> tuple[InvoiceRecord | None, str]:
    """An NA order summary (spec §9 item 2): any known order that is not pending or cancelled.

    The PDF is Amazon's summary of the order, not a tax invoice; Amazon ends the report
    CANCELLED for an order it does not know, or one still pending or cancelled.
    """
    if options["documentType"] != ORDER_SUMMARY:
        raise bad_request("Invalid input", "With orderId alone, documentType must be OrderSummary.")
    if region != "NA":
        raise bad_request(
            "Invalid input", "OrderSummary documents exist for North American orders only."
        )
    order_id = options["orderId"]
    title = f"Order summary {order_id}"
    invoices = book.order_invoices(order_id)
    if not invoices or book.order_status(order_id) in SUMMARY_REFUSED:
        return None, title
    return invoices[0], title


def own_report(consent: Consent, report_id: str) -> Report:
    """The consent's report by id, or 404."""
    report = get_world().reports.reports.get(report_id)
    if report is None or report.party != consent.party:
        raise not_found("Report not found.", report_id)
    return report


@bp.get(f"{BASE}/reports/<report_id>")
@operation("getReport")
def get_report(consent: Consent, report_id: str) -> Response:
    """One report and its processing status at this sandbox moment."""
    report = own_report(consent, report_id)
    return jsonify(report.to_json(current_sandbox().clock.now()))


@bp.delete(f"{BASE}/reports/<report_id>")
@operation("cancelReport")
def cancel_report(consent: Consent, report_id: str) -> Response:
    """Cancel a report that is still IN_QUEUE."""
    report = own_report(consent, report_id)
    now = current_sandbox().clock.now()
    status, _, _ = report.status(now)
    if status != "IN_QUEUE":
        raise bad_request(
            "Only reports with processingStatus IN_QUEUE can be cancelled.", f"Status: {status}"
        )
    report.cancelled_at = now
    return Response("", status=200)


@bp.get(f"{BASE}/reports")
@operation("getReports")
def get_reports(consent: Consent) -> Response:
    """The consent's reports, filtered as documented, newest first, paged with nextToken."""
    world = get_world()
    now = current_sandbox().clock.now()
    args = request.args
    if "nextToken" in args:
        if len(args) > 1:
            raise bad_request("When nextToken is provided, it must be the only request parameter.")
        page = world.reports.list_tokens.pop(args["nextToken"], None)
        if page is None or page[0] != consent.party:
            raise bad_request("Invalid nextToken.")
        _, ids, size = page
    else:
        ids, size = filter_reports(consent, args, now)
    reports = world.reports.reports
    body: dict[str, Any] = {"reports": [reports[i].to_json(now) for i in ids[:size]]}
    if len(ids) > size:
        token = world.reports.token()
        world.reports.list_tokens[token] = (consent.party, ids[size:], size)
        body["nextToken"] = token
    return jsonify(body)


def csv(args: Any, name: str, allowed: tuple[str, ...] | None = None) -> list[str] | None:
    """A comma-separated parameter (1-10 values, optionally from ``allowed``), or None."""
    if name not in args:
        return None
    values = [value for value in args[name].split(",") if value]
    if not 1 <= len(values) <= 10:
        raise bad_request(f"{name} must contain between 1 and 10 values.")
    if allowed is not None and any(value not in allowed for value in values):
        raise bad_request(f"{name} contains an unknown value.", args[name])
    return values


def filter_reports(consent: Consent, args: Any, now: Any) -> tuple[list[str], int]:
    """Validate getReports' filters; the matching report ids and the page size."""
    unknown = sorted(set(args) - LIST_PARAMS)
    if unknown:
        raise bad_request(f"Unexpected request parameters: {', '.join(unknown)}")
    types = csv(args, "reportTypes")
    if types is None:
        raise bad_request("Missing required request parameters.", "reportTypes or nextToken")
    statuses = csv(args, "processingStatuses", STATUSES)
    marketplaces = csv(args, "marketplaceIds")
    size_text = args.get("pageSize", "10")
    if not size_text.isdigit() or not 1 <= int(size_text) <= 100:
        raise bad_request("pageSize must be an integer between 1 and 100.")
    bounds = []
    for name in ("createdSince", "createdUntil"):
        value = args.get(name)
        parsed = parse_iso(value) if value else None
        if value and parsed is None:
            raise bad_request(f"Input date [{value}] is not in the expected ISO8601 format.")
        bounds.append(parsed)
    since, until = bounds
    ids = []
    for report in get_world().reports.visible(consent.party, now):
        status = report.status(now)[0]
        if (
            report.report_type in types
            and (statuses is None or status in statuses)
            and (marketplaces is None or set(marketplaces) & set(report.marketplace_ids))
            and (since is None or report.created >= since)
            and (until is None or report.created <= until)
        ):
            ids.append(report.report_id)
    return ids, int(size_text)


@bp.get(f"{BASE}/documents/<document_id>")
@operation("getReportDocument")
def get_report_document(consent: Consent, document_id: str) -> Response:
    """A presigned-style URL (valid 5 sandbox minutes) for a finished report's PDF."""
    world = get_world()
    now = current_sandbox().clock.now()
    report = world.reports.documents.get(document_id)
    if report is None or report.party != consent.party or report.status(now)[0] != "DONE":
        raise not_found("Report document not found.", document_id)
    token = world.reports.link(document_id, now)
    base = current_app.config["SANDBOX_BASE_URL"]
    url = (
        f"{base}/amazon-files/{token}?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Expires={URL_SECONDS}&X-Amz-SignedHeaders=host"
    )
    body: dict[str, Any] = {"reportDocumentId": document_id, "url": url}
    if report.compression:
        body["compressionAlgorithm"] = report.compression
    return jsonify(body)


@files_bp.get("/amazon-files/<token>")
def download(token: str) -> Response:
    """The document bytes; no token needed, like S3. Expired or unknown: 403 as S3 words it."""
    sandbox = current_sandbox()
    with sandbox.lock:
        world = get_world()
        found = world.reports.download(token, sandbox.clock.now())
        if found is not None:
            world.stats.downloads += 1
    if found is None:
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
            "<Message>Request has expired</Message></Error>"
        )
        return Response(xml, status=403, mimetype="application/xml")
    data, compression = found
    mimetype = "application/octet-stream" if compression else "application/zip"
    return Response(data, status=200, mimetype=mimetype)
