"""PDF invoices through the Document API: create the report, poll it, download the document.

createReport → poll getReport with backoff (2, 4, 8 … ≤ 30 s, up to ``ReportPolling.timeout``;
then ``AmazonReportPending`` with the report id so a later job can resume with
``wait_for_report``) → getReportDocument → download the presigned URL with no access token
(under the client's retry policy), then unwrap it (gzip if present, then the ZIP archive) and
check the member is a PDF (at most 50 MB): ``plugin.amazon.document_files``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from plugin.amazon.document_files import MAX_PDF_BYTES
from plugin.amazon.document_files import document_pdf
from plugin.amazon.errors import AmazonDocumentUnreadable
from plugin.amazon.errors import AmazonMalformedResponse
from plugin.amazon.errors import AmazonReportFailed
from plugin.amazon.errors import AmazonReportPending
from plugin.amazon.errors import AmazonUnavailable
from plugin.amazon.http import USER_AGENT
from plugin.amazon.http import request_id_of
from plugin.amazon.invoices import LineItemKey
from plugin.amazon.retry import RETRYABLE_STATUSES
from plugin.amazon.retry import RetryableFailure
from plugin.amazon.transport import AmazonTransport

REPORTS_PATH = "/reports/2021-09-30/reports"
DOCUMENTS_PATH = "/reports/2021-09-30/documents"
INVOICE_REPORT_TYPE = "GET_AB_INVOICE_PDF"
ORDER_SUMMARY = "OrderSummary"


@dataclass(frozen=True)
class ReportPolling:
    """How to wait for a Document API report: growing pauses, then give up for now."""

    first_delay: float = 2.0
    max_delay: float = 30.0
    timeout: float = 300.0
    retry_after: float = 60.0


def create_invoice_report(
    transport: AmazonTransport,
    *,
    invoice_id: str | None = None,
    document_type: str = "Invoice",
    line_item: LineItemKey | None = None,
) -> str:
    """Ask for a GET_AB_INVOICE_PDF report; its ``reportId``."""
    if (invoice_id is None) == (line_item is None):
        raise ValueError("give either invoice_id or line_item")
    if document_type not in ("Invoice", "Credits"):
        raise ValueError("document_type must be 'Invoice' or 'Credits'")
    options: dict[str, str] = (
        {"invoiceId": str(invoice_id), "documentType": document_type}
        if invoice_id is not None
        else line_item.to_json()  # type: ignore[union-attr]
    )
    return _create_report(transport, options)


def create_order_summary_report(transport: AmazonTransport, order_id: str) -> str:
    """Ask for a North American order's summary PDF (spec §9 item 2); its ``reportId``.

    Since January 2026 any North American order has one, not only Pay by Invoice orders; it is
    Amazon's summary of the order, *not a tax invoice*. Amazon ends the report CANCELLED for an
    order still pending or cancelled.
    """
    if transport.store.region != "NA":
        raise ValueError("order summaries exist for North American stores only")
    if not order_id:
        raise ValueError("an order summary needs the order id")
    return _create_report(transport, {"orderId": order_id, "documentType": ORDER_SUMMARY})


def _create_report(transport: AmazonTransport, options: dict[str, str]) -> str:
    body = {
        "reportType": INVOICE_REPORT_TYPE,
        "marketplaceIds": [transport.store.marketplace_id],
        "reportOptions": options,
    }
    response = transport.call("createReport", "POST", REPORTS_PATH, json=body)
    data = transport.read_json(response, "createReport", "createReport answer")
    report_id = data.get("reportId")
    if not isinstance(report_id, str) or not report_id:
        raise AmazonMalformedResponse(
            "Amazon accepted the PDF request but gave no report id.",
            operation="createReport",
            request_id=request_id_of(response),
        )
    return report_id


def wait_for_report(
    transport: AmazonTransport,
    report_id: str,
    polling: ReportPolling,
    clock: Callable[[], float],
) -> dict[str, Any]:
    """Poll getReport until DONE (the report); FATAL/CANCELLED raise AmazonReportFailed."""
    deadline = clock() + polling.timeout
    delay = polling.first_delay
    while True:
        response = transport.call("getReport", "GET", f"{REPORTS_PATH}/{report_id}")
        report = transport.read_json(response, "getReport", f"report {report_id}")
        status = report.get("processingStatus")
        if status == "DONE":
            if not report.get("reportDocumentId"):
                raise AmazonMalformedResponse(
                    f"Amazon says report {report_id} is done but names no document.",
                    operation="getReport",
                    request_id=request_id_of(response),
                )
            return report
        if status in ("FATAL", "CANCELLED"):
            raise _report_failed(report_id, str(status), request_id_of(response))
        if status not in ("IN_QUEUE", "IN_PROGRESS"):
            raise AmazonMalformedResponse(
                f"Amazon gave report {report_id} an unknown status {status!r:.40}.",
                operation="getReport",
                request_id=request_id_of(response),
            )
        if clock() + delay > deadline:
            raise AmazonReportPending(
                f"Amazon is still preparing the PDF (report {report_id}, {status}); "
                "we will ask again later.",
                report_id=report_id,
                retry_after=polling.retry_after,
                operation="getReport",
            )
        transport.sleep(delay)
        delay = min(polling.max_delay, delay * 2)


def download_report_document(
    transport: AmazonTransport, document_id: str, polling: ReportPolling
) -> bytes:
    """Resolve a report document to its presigned URL and download the PDF bytes."""
    response = transport.call("getReportDocument", "GET", f"{DOCUMENTS_PATH}/{document_id}")
    document = transport.read_json(response, "getReportDocument", f"document {document_id}")
    url = document.get("url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise AmazonMalformedResponse(
            f"Amazon gave no download link for document {document_id}.",
            operation="getReportDocument",
            request_id=request_id_of(response),
        )
    compression = document.get("compressionAlgorithm")
    raw = transport.retrying(_download, transport, url, polling)
    return document_pdf(raw, compression, document_id)


def _download(transport: AmazonTransport, url: str, polling: ReportPolling) -> bytes:
    """GET a presigned URL without our access token (it must not leave Amazon's API)."""
    try:
        response = transport.http.get(
            url, headers={"user-agent": USER_AGENT}, timeout=transport.timeout, stream=True
        )
    except (requests.ConnectionError, requests.Timeout) as exc:
        kind = type(exc).__name__
        raise RetryableFailure(
            lambda _wait: AmazonUnavailable(
                f"Could not download the PDF from Amazon ({kind}).",
                retry_after=transport.retry.max_delay,
                operation="download",
            )
        ) from exc
    with response:
        if response.status_code == 200:
            return _read_capped(response)
        status = response.status_code
    unavailable = AmazonUnavailable(
        f"Amazon's PDF download link answered HTTP {status} (links last five "
        "minutes); the PDF will be requested again later.",
        retry_after=polling.retry_after,
        operation="download",
        status=status,
    )
    if status in RETRYABLE_STATUSES:
        raise RetryableFailure(lambda _wait: unavailable)
    raise unavailable


def _report_failed(report_id: str, status: str, request_id: str | None) -> AmazonReportFailed:
    if status == "CANCELLED":
        reason = (
            "Amazon cancelled it: it has no PDF for this document (in the US, Canada and "
            "Mexico only Pay by Invoice orders have PDF invoices, other orders an order "
            "summary; digital orders and orders still pending or cancelled have none), or the "
            "request was cancelled."
        )
    else:
        reason = "Amazon could not produce the PDF (the report ended FATAL)."
    return AmazonReportFailed(
        f"The PDF invoice is not available (report {report_id}): {reason}",
        processing_status=status,
        reason=reason,
        operation="getReport",
        request_id=request_id,
    )


def _read_capped(response: requests.Response) -> bytes:
    chunks = []
    size = 0
    for chunk in response.iter_content(chunk_size=65536):
        size += len(chunk)
        if size > MAX_PDF_BYTES:
            raise AmazonDocumentUnreadable(
                "Amazon's PDF download is larger than 50 MB; it was not attached.",
                operation="download",
            )
        chunks.append(chunk)
    return b"".join(chunks)
