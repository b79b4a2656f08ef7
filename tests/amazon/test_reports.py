"""PDF invoices through the Document API: create, poll with backoff, download, check."""

from __future__ import annotations

import gzip
import io
import zipfile

import pytest
import requests
from responses import matchers

from plugin.amazon.errors import AmazonDocumentUnreadable
from plugin.amazon.errors import AmazonMalformedResponse
from plugin.amazon.errors import AmazonReportFailed
from plugin.amazon.errors import AmazonReportPending
from plugin.amazon.errors import AmazonUnavailable
from plugin.amazon.invoices import LineItemKey
from plugin.amazon.regions import store_for
from plugin.amazon.reports import ReportPolling
from plugin.amazon.transport import DOCUMENT_API_RATE
from plugin.amazon.transport import OPERATION_LIMITS
from plugin.infra.ratelimit import TokenBucket
from tests.common.amazon import EU_API

REPORTS = EU_API + "/reports/2021-09-30/reports"
DOCUMENTS = EU_API + "/reports/2021-09-30/documents"
DOWNLOAD = "https://tortuga-prod-eu.s3.eu-west-1.amazonaws.com/doc-1?X-Amz-Signature=abc"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def report(status, document_id=None):
    body = {"reportId": "R1", "reportType": "GET_AB_INVOICE_PDF", "processingStatus": status}
    if document_id:
        body["reportDocumentId"] = document_id
    return body


def create_answer(http, options):
    http.post(
        REPORTS,
        status=202,
        match=[
            matchers.json_params_matcher(
                {
                    "reportType": "GET_AB_INVOICE_PDF",
                    "marketplaceIds": ["A1F83G8C2ARO7P"],
                    "reportOptions": options,
                }
            )
        ],
        json={"reportId": "R1"},
    )


def document_answer(http, compression=None):
    body = {"reportDocumentId": "D1", "url": DOWNLOAD}
    if compression:
        body["compressionAlgorithm"] = compression
    http.get(DOCUMENTS + "/D1", json=body)


def test_invoice_pdf_flow_polls_with_backoff_and_downloads_without_the_token(
    http, make_client, clock
):
    create_answer(http, {"invoiceId": "GB1UFB1HAEUI", "documentType": "Invoice"})
    http.get(REPORTS + "/R1", json=report("IN_QUEUE"))
    http.get(REPORTS + "/R1", json=report("IN_PROGRESS"))
    http.get(REPORTS + "/R1", json=report("DONE", "D1"))
    document_answer(http)
    http.get(DOWNLOAD, body=PDF, content_type="application/pdf")
    assert make_client().fetch_invoice_pdf(invoice_id="GB1UFB1HAEUI") == PDF
    assert clock.sleeps == [2, 4]
    download = http.calls[-1].request
    assert "x-amz-access-token" not in download.headers
    assert "Authorization" not in download.headers
    assert download.req_kwargs["timeout"] is not None
    assert http.calls[1].request.headers["x-amz-access-token"] == "Atza|first"


def test_line_item_pdf_and_gzip(http, make_client):
    line = LineItemKey("203-9277085-5441169", "20710282414442", "D6jrvDy6t")
    create_answer(http, line.to_json())
    http.get(REPORTS + "/R1", json=report("DONE", "D1"))
    document_answer(http, "GZIP")
    http.get(DOWNLOAD, body=gzip.compress(PDF))
    assert make_client().fetch_invoice_pdf(line_item=line) == PDF


def test_credit_memo_pdf_asks_for_credits(http, make_client):
    create_answer(http, {"invoiceId": "CM1", "documentType": "Credits"})
    http.get(REPORTS + "/R1", json=report("DONE", "D1"))
    document_answer(http)
    http.get(DOWNLOAD, body=PDF)
    assert make_client().fetch_invoice_pdf(invoice_id="CM1", document_type="Credits") == PDF


@pytest.mark.parametrize(
    ("status", "reason"),
    [("FATAL", "could not produce"), ("CANCELLED", "only Pay by Invoice orders")],
)
def test_failed_reports_raise_with_the_reason(http, make_client, status, reason):
    create_answer(http, {"invoiceId": "X1", "documentType": "Invoice"})
    http.get(REPORTS + "/R1", json=report("IN_PROGRESS"))
    http.get(REPORTS + "/R1", json=report(status))
    with pytest.raises(AmazonReportFailed, match=reason) as caught:
        make_client().fetch_invoice_pdf(invoice_id="X1")
    assert caught.value.processing_status == status
    assert reason in caught.value.reason


def test_a_slow_report_is_left_for_later(http, make_client, clock):
    polling = ReportPolling(first_delay=2, max_delay=8, timeout=20, retry_after=90)
    create_answer(http, {"invoiceId": "X1", "documentType": "Invoice"})
    for _ in range(4):
        http.get(REPORTS + "/R1", json=report("IN_QUEUE"))
    with pytest.raises(AmazonReportPending) as caught:
        make_client(polling=polling).fetch_invoice_pdf(invoice_id="X1")
    assert caught.value.report_id == "R1"
    assert caught.value.retry_after == 90
    assert clock.sleeps == [2, 4, 8]  # the next 8 s pause would pass the 20 s budget
    assert len(http.calls) == 1 + 4


def zipped(data: bytes, name: str = "GB1UFB1HAEUI.pdf", *extra: tuple[str, bytes]) -> bytes:
    """A ZIP archive of ``data`` (as Amazon's report documents are: spec §9 item 3)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, content in extra:
            archive.writestr(member, content)
        archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("compression", "body"),
    [
        pytest.param(None, zipped(PDF), id="zip"),
        pytest.param("GZIP", gzip.compress(zipped(PDF)), id="gzip+zip"),
        pytest.param(None, gzip.compress(zipped(PDF)), id="gzip+zip-unannounced"),
        pytest.param(None, zipped(PDF, "a.pdf", ("readme.txt", b"hello")), id="zip-with-readme"),
        pytest.param(None, PDF, id="bare-pdf"),
        pytest.param("GZIP", gzip.compress(PDF), id="gzip-pdf"),
    ],
)
def test_zip_and_gzip_wrapped_documents_give_the_pdf(http, make_client, compression, body):
    http.get(REPORTS + "/R1", json=report("DONE", "D1"))
    document_answer(http, compression)
    http.get(DOWNLOAD, body=body)
    client = make_client()
    assert client.download_report_document(client.wait_for_report("R1")["reportDocumentId"]) == PDF


@pytest.mark.parametrize(
    ("compression", "body", "message"),
    [
        (None, b"<html>AccessDenied</html>", "neither a ZIP archive nor a PDF"),
        (None, zipped(b"<html>Sorry</html>", "invoice.html"), "'invoice.html', which is not a PDF"),
        ("GZIP", gzip.compress(zipped(b"%PD")), "which is not a PDF"),
        (None, zipped(PDF)[:40], "ZIP archive that could not be opened"),
        ("GZIP", gzip.compress(zipped(PDF)[:-30]), "ZIP archive that could not be opened"),
        ("GZIP", PDF, "could not be unzipped"),
        ("ZIP", PDF, "unknown compression"),
    ],
    ids=[
        "html-page",
        "zip-of-html",
        "gzip-zip-of-truncated-pdf",
        "truncated-zip",
        "gzip-truncated-zip",
        "gzip-label-on-a-pdf",
        "zip-label-on-a-pdf",
    ],  # stable ids: the bodies hold timestamps, and every xdist worker must collect the same
)
def test_downloads_that_are_not_pdfs_are_refused(http, make_client, compression, body, message):
    http.get(REPORTS + "/R1", json=report("DONE", "D1"))
    document_answer(http, compression)
    http.get(DOWNLOAD, body=body)
    client = make_client()
    with pytest.raises(AmazonDocumentUnreadable, match=message) as caught:
        client.download_report_document(client.wait_for_report("R1")["reportDocumentId"])
    assert isinstance(caught.value, AmazonMalformedResponse)
    assert "it was not attached" in str(caught.value)


def test_exactly_one_of_invoice_or_line(make_client):
    with pytest.raises(ValueError, match="either"):
        make_client().fetch_invoice_pdf()


# --- Download retries (the client's one retry policy) ----------------------------------------


def test_a_failing_download_link_is_retried_then_succeeds(http, make_client, clock):
    document_answer(http)
    http.get(DOWNLOAD, status=503)
    http.get(DOWNLOAD, body=requests.ConnectionError("reset"))
    http.get(DOWNLOAD, body=PDF)
    assert make_client().download_report_document("D1") == PDF
    assert len(clock.sleeps) == 2
    assert 0.5 <= clock.sleeps[0] <= 1.0 < clock.sleeps[1] <= 2.0  # exponential, jittered


def test_a_download_link_failing_past_the_cap_is_unavailable(http, make_client, clock):
    document_answer(http)
    for _ in range(4):
        http.get(DOWNLOAD, status=500)
    with pytest.raises(AmazonUnavailable, match="answered HTTP 500") as caught:
        make_client().download_report_document("D1")
    assert caught.value.retry_after == 90  # the polling's retry_after: ask for a new link later
    assert caught.value.status == 500
    assert len(clock.sleeps) == 3


def test_download_connection_errors_past_the_cap_are_unavailable(http, make_client, clock):
    document_answer(http)
    for _ in range(4):
        http.get(DOWNLOAD, body=requests.Timeout("slow"))
    with pytest.raises(AmazonUnavailable, match=r"the PDF from Amazon \(Timeout\)") as caught:
        make_client().download_report_document("D1")
    assert caught.value.retry_after == 30
    assert isinstance(caught.value.__cause__, requests.Timeout)
    assert len(clock.sleeps) == 3


def test_an_expired_download_link_is_not_retried(http, make_client, clock):
    document_answer(http)
    http.get(DOWNLOAD, status=403)
    with pytest.raises(AmazonUnavailable, match="answered HTTP 403"):
        make_client().download_report_document("D1")
    assert clock.sleeps == []


# --- Document API pacing (spec §9 item 1: 0.1 requests per second) ----------------------------


def _create(http, headers=None):
    http.post(REPORTS, status=202, json={"reportId": "R1"}, headers=headers or {})


def test_document_api_calls_are_paced_at_a_tenth_per_second(http, make_client, clock, redis_client):
    limiter = TokenBucket(redis_client, clock=clock, sleep=clock.sleep)
    client = make_client(limiter=limiter)
    for operation in ("createReport", "getReport", "getReportDocument"):
        assert OPERATION_LIMITS[operation].rate == DOCUMENT_API_RATE == 0.1
    for _ in range(17):
        _create(http)
    for _ in range(17):
        client.create_invoice_report(invoice_id="X1")
    assert clock.sleeps == [pytest.approx(10.0), pytest.approx(10.0)]  # burst 15, then 6 a minute
    assert redis_client.exists("ratelimit:bucket:amazon:7:createReport")


@pytest.mark.parametrize(("header", "pause"), [("0.05", 20.0), ("0.2", 5.0)])
def test_amazons_rate_limit_header_is_honoured_lower_or_higher(
    http, make_client, clock, redis_client, header, pause
):
    limiter = TokenBucket(redis_client, clock=clock, sleep=clock.sleep)
    client = make_client(limiter=limiter)
    for _ in range(17):
        _create(http, {"x-amzn-RateLimit-Limit": header})
    for _ in range(17):
        client.create_invoice_report(invoice_id="X1")
    assert clock.sleeps == [pytest.approx(pause), pytest.approx(pause)]


def test_a_nonsense_rate_limit_header_is_ignored(http, make_client, clock, redis_client):
    limiter = TokenBucket(redis_client, clock=clock, sleep=clock.sleep)
    client = make_client(limiter=limiter)
    for header in ("0", "-1", "fast", "inf", "nan", "0.1", "0.1"):
        _create(http, {"x-amzn-RateLimit-Limit": header})
    for _ in range(7):
        client.create_invoice_report(invoice_id="X1")
    for _ in range(10):
        _create(http)
    for _ in range(10):
        client.create_invoice_report(invoice_id="X1")
    assert clock.sleeps == [pytest.approx(10.0), pytest.approx(10.0)]


# --- North American order summaries (spec §9 item 2) ------------------------------------------

US_REPORTS = "https://na.business-api.amazon.com/reports/2021-09-30/reports"
US_DOCUMENTS = "https://na.business-api.amazon.com/reports/2021-09-30/documents"


def test_order_summary_asks_for_the_order_and_unwraps_the_pdf(http, make_client):
    http.post(
        US_REPORTS,
        status=202,
        match=[
            matchers.json_params_matcher(
                {
                    "reportType": "GET_AB_INVOICE_PDF",
                    "marketplaceIds": ["ATVPDKIKX0DER"],
                    "reportOptions": {
                        "orderId": "114-3941689-8772232",
                        "documentType": "OrderSummary",
                    },
                }
            )
        ],
        json={"reportId": "R1"},
    )
    http.get(US_REPORTS + "/R1", json=report("DONE", "D1"))
    http.get(US_DOCUMENTS + "/D1", json={"reportDocumentId": "D1", "url": DOWNLOAD})
    http.get(DOWNLOAD, body=zipped(PDF, "OrderSummary-114-3941689-8772232.pdf"))
    client = make_client(store=store_for("US"), base_url="https://na.business-api.amazon.com")
    assert client.fetch_order_summary_pdf("114-3941689-8772232") == PDF


def test_order_summaries_are_for_north_american_stores_only(make_client):
    with pytest.raises(ValueError, match="North American"):
        make_client().fetch_order_summary_pdf("203-9277085-5441169")
