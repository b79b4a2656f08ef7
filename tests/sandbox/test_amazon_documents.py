"""Document API: createReport → getReport (status over time) → getReportDocument → PDF."""

from __future__ import annotations

import gzip
import io
import re
import zipfile

import pytest
import requests

from sandbox.amazon.pdf import make_pdf
from sandbox.amazon.stores import STORES
from tests.sandbox.amazon_helpers import ADMIN_UK
from tests.sandbox.amazon_helpers import ADMIN_US
from tests.sandbox.amazon_helpers import all_transactions
from tests.sandbox.amazon_helpers import api
from tests.sandbox.amazon_helpers import connect
from tests.sandbox.amazon_helpers import error_code

REPORTS = "/reports/2021-09-30/reports"
DOCUMENTS = "/reports/2021-09-30/documents"
UK_MARKET = [STORES["UK"].marketplace_id]
US_MARKET = [STORES["US"].marketplace_id]


def check_pdf(data: bytes) -> str:
    """Assert the bytes are a well-formed PDF (header, xref offsets, stream length); its text."""
    assert data.startswith(b"%PDF-1.4\n")
    assert data.rstrip().endswith(b"%%EOF")
    xref_at = int(re.search(rb"startxref\n(\d+)\n", data).group(1))
    assert data[xref_at:].startswith(b"xref\n")
    offsets = [int(m) for m in re.findall(rb"(\d{10}) 00000 n ", data)]
    assert len(offsets) == 5
    for number, offset in enumerate(offsets, start=1):
        assert data[offset:].startswith(f"{number} 0 obj".encode())
    length = int(re.search(rb"/Length (\d+) >>\nstream\n", data).group(1))
    stream = data.split(b"stream\n", 1)[1]
    assert stream[length:].startswith(b"\nendstream")
    assert b"/Type /Page " in data
    return data.decode("latin-1")


def unzip_one(data: bytes) -> tuple[str, bytes]:
    """The one file of a ZIP archive (Amazon's report documents are ZIPs: spec §9 item 3)."""
    assert data.startswith(b"PK\x03\x04")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        (info,) = archive.infolist()
        return info.filename, archive.read(info)


def test_pdf_maker_escapes_text():
    text = check_pdf(make_pdf(["Invoice (copy) \\ 1"]))
    assert "(Invoice \\(copy\\) \\\\ 1) Tj" in text


def create(client, token, options, store="UK", markets=None, **extra):
    body = {
        "reportType": "GET_AB_INVOICE_PDF",
        "marketplaceIds": markets or [STORES[store].marketplace_id],
        "reportOptions": options,
        **extra,
    }
    return api(client, "POST", store, REPORTS, token, json=body)


def line_options(tx):
    item = tx["transactionLineItems"][0]
    return {name: item[name] for name in ("orderId", "orderLineItemId", "shipmentId")}


def report(client, token, report_id, store="UK"):
    return api(client, "GET", store, f"{REPORTS}/{report_id}", token).json


def test_report_progresses_to_done_and_downloads_a_pdf(sandbox_client, uk, clock):
    token, transactions = uk
    charge = next(tx for tx in transactions if tx["transactionType"] == "CHARGE")
    response = create(sandbox_client, token, line_options(charge))
    assert response.status_code == 202
    report_id = response.json["reportId"]
    first = report(sandbox_client, token, report_id)
    assert first["processingStatus"] == "IN_QUEUE"
    assert first["reportType"] == "GET_AB_INVOICE_PDF"
    assert first["marketplaceIds"] == UK_MARKET
    assert "reportDocumentId" not in first
    clock.advance(3)
    assert report(sandbox_client, token, report_id)["processingStatus"] == "IN_PROGRESS"
    clock.advance(3)
    done = report(sandbox_client, token, report_id)
    assert done["processingStatus"] == "DONE"
    assert done["processingStartTime"] <= done["processingEndTime"]
    document = api(sandbox_client, "GET", "UK", f"{DOCUMENTS}/{done['reportDocumentId']}", token)
    assert document.status_code == 200
    assert document.json["reportDocumentId"] == done["reportDocumentId"]
    assert "compressionAlgorithm" not in document.json
    url = document.json["url"]
    download = sandbox_client.get(url)  # no x-amz-access-token, like a presigned S3 URL
    assert download.status_code == 200
    assert download.mimetype == "application/zip"
    name, pdf = unzip_one(download.data)
    assert name == f"{charge['invoiceNumber']}.pdf"
    assert charge["invoiceNumber"] in check_pdf(pdf)


def test_document_url_expires_after_five_minutes(sandbox_client, uk, clock):
    token, transactions = uk
    response = create(sandbox_client, token, line_options(transactions[0]))
    clock.advance(10)
    document_id = report(sandbox_client, token, response.json["reportId"])["reportDocumentId"]
    url = api(sandbox_client, "GET", "UK", f"{DOCUMENTS}/{document_id}", token).json["url"]
    clock.advance(299)
    assert sandbox_client.get(url).status_code == 200
    clock.advance(2)
    expired = sandbox_client.get(url)
    assert expired.status_code == 403
    assert b"AccessDenied" in expired.data
    assert sandbox_client.get("/amazon-files/unknown").status_code == 403


def test_gzip_compression_when_asked(sandbox_client, uk, clock):
    token, transactions = uk
    sandbox_client.post("/_sandbox/amazon/reports", json={"compression": "GZIP"})
    response = create(sandbox_client, token, line_options(transactions[0]))
    clock.advance(10)
    document_id = report(sandbox_client, token, response.json["reportId"])["reportDocumentId"]
    document = api(sandbox_client, "GET", "UK", f"{DOCUMENTS}/{document_id}", token).json
    assert document["compressionAlgorithm"] == "GZIP"
    data = sandbox_client.get(document["url"]).data
    check_pdf(unzip_one(gzip.decompress(data))[1])


def test_by_default_every_other_document_is_gzipped_as_well(sandbox_client, uk, clock):
    token, transactions = uk
    ids = [
        create(sandbox_client, token, line_options(tx)).json["reportId"] for tx in transactions[:4]
    ]
    clock.advance(10)
    seen = []
    for report_id in ids:
        document_id = report(sandbox_client, token, report_id)["reportDocumentId"]
        document = api(sandbox_client, "GET", "UK", f"{DOCUMENTS}/{document_id}", token).json
        data = sandbox_client.get(document["url"]).data
        gzipped = document.get("compressionAlgorithm") == "GZIP"
        seen.append(gzipped)
        check_pdf(unzip_one(gzip.decompress(data) if gzipped else data)[1])
    assert seen == [False, True, False, True]


@pytest.mark.parametrize("content", ["not_pdf", "corrupt_zip"])
def test_control_endpoint_serves_unreadable_documents(sandbox_client, uk, clock, content):
    token, transactions = uk
    answer = sandbox_client.post(
        "/_sandbox/amazon/reports", json={"content": content, "compression": None}
    )
    assert answer.json["content"] == content
    report_id = create(sandbox_client, token, line_options(transactions[0])).json["reportId"]
    clock.advance(10)
    document_id = report(sandbox_client, token, report_id)["reportDocumentId"]
    url = api(sandbox_client, "GET", "UK", f"{DOCUMENTS}/{document_id}", token).json["url"]
    data = sandbox_client.get(url).data
    if content == "not_pdf":
        assert not unzip_one(data)[1].startswith(b"%PDF")
    else:
        assert data.startswith(b"PK")
        with pytest.raises(zipfile.BadZipFile):
            zipfile.ZipFile(io.BytesIO(data))


def test_invoice_id_options_and_credit_memos(sandbox_client, uk, clock):
    token, transactions = uk
    refund = next(tx for tx in transactions if tx["transactionType"] == "REFUND")
    credit = create(
        sandbox_client, token, {"invoiceId": refund["invoiceNumber"], "documentType": "Credits"}
    )
    wrong_type = create(
        sandbox_client, token, {"invoiceId": refund["invoiceNumber"], "documentType": "Invoice"}
    )
    clock.advance(10)
    assert report(sandbox_client, token, credit.json["reportId"])["processingStatus"] == "DONE"
    ended = report(sandbox_client, token, wrong_type.json["reportId"])
    assert ended["processingStatus"] == "CANCELLED"
    assert "reportDocumentId" not in ended


def test_na_pdfs_exist_only_for_pay_by_invoice(sandbox_client, clock):
    token = connect(sandbox_client, "US", ADMIN_US)["access_token"]
    transactions = all_transactions(sandbox_client, "US", token)
    charges = [tx for tx in transactions if tx["transactionType"] == "CHARGE"]
    pbi = next(tx for tx in charges if tx["paymentInstrumentType"] == "Pay by Invoice")
    card = next(tx for tx in charges if tx.get("paymentInstrumentLast4Digits"))
    ids = [
        create(
            sandbox_client,
            token,
            {"invoiceId": tx["invoiceNumber"], "documentType": "Invoice"},
            "US",
        ).json["reportId"]
        for tx in (pbi, card)
    ]
    clock.advance(10)
    statuses = [report(sandbox_client, token, i, "US")["processingStatus"] for i in ids]
    assert statuses == ["DONE", "CANCELLED"]
    line = create(sandbox_client, token, line_options(pbi), "US")
    assert line.status_code == 400


def _document_bytes(client, token, report_id, store):
    document_id = report(client, token, report_id, store)["reportDocumentId"]
    document = api(client, "GET", store, f"{DOCUMENTS}/{document_id}", token).json
    data = client.get(document["url"]).data
    return gzip.decompress(data) if document.get("compressionAlgorithm") == "GZIP" else data


def test_na_order_summaries_for_any_known_order_not_pending_or_cancelled(sandbox_client, clock):
    """Spec §9 item 2: since January 2026 any North American order has a PDF order summary."""
    token = connect(sandbox_client, "US", ADMIN_US)["access_token"]
    transactions = all_transactions(sandbox_client, "US", token)
    charges = [tx for tx in transactions if tx["transactionType"] == "CHARGE"]
    cards = [tx for tx in charges if tx.get("paymentInstrumentLast4Digits")]
    card, cancelled, pending = (tx["transactionLineItems"][0]["orderId"] for tx in cards[:3])
    for order_id, status in ((cancelled, "CANCELLED"), (pending, "PENDING")):
        answer = sandbox_client.post(
            "/_sandbox/amazon/orders",
            json={"account": "hudson", "store": "US", "orderId": order_id, "status": status},
        )
        assert answer.status_code == 200
    orders = (card, cancelled, pending, "111-0000000-0000000")
    ids = [
        create(
            sandbox_client, token, {"orderId": order, "documentType": "OrderSummary"}, "US"
        ).json["reportId"]
        for order in orders
    ]
    clock.advance(10)
    statuses = [report(sandbox_client, token, i, "US")["processingStatus"] for i in ids]
    assert statuses == ["DONE", "CANCELLED", "CANCELLED", "CANCELLED"]
    name, pdf = unzip_one(_document_bytes(sandbox_client, token, ids[0], "US"))
    assert name == f"OrderSummary-{card}.pdf"
    text = check_pdf(pdf)
    assert f"Order summary {card}" in text
    assert "not a tax invoice" in text


@pytest.mark.parametrize(
    ("store", "options"),
    [
        ("UK", {"orderId": "203-9277085-5441169", "documentType": "OrderSummary"}),
        ("US", {"orderId": "111-0000000-0000000", "documentType": "Invoice"}),
    ],
)
def test_order_summaries_are_north_american_only(sandbox_client, store, options):
    email = ADMIN_US if store == "US" else ADMIN_UK
    token = connect(sandbox_client, store, email)["access_token"]
    response = create(sandbox_client, token, options, store)
    assert response.status_code == 400
    assert error_code(response) == "INVALID_REQUEST_PARAMETER"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": UK_MARKET},
        {"reportType": "GET_AB_INVOICE_PDF"},
        {"reportType": "GET_AB_INVOICE_PDF", "marketplaceIds": US_MARKET, "reportOptions": {}},
        {"reportType": "GET_AB_INVOICE_PDF", "marketplaceIds": UK_MARKET, "reportOptions": {}},
        {
            "reportType": "GET_AB_INVOICE_PDF",
            "marketplaceIds": UK_MARKET,
            "reportOptions": {"invoiceId": "X", "documentType": "Receipt"},
        },
        {
            "reportType": "GET_AB_INVOICE_PDF",
            "marketplaceIds": UK_MARKET,
            "reportOptions": {"invoiceId": "X", "documentType": "Invoice"},
            "dataStartTime": "yesterday",
        },
    ],
)
def test_create_report_validation(sandbox_client, uk, body):
    token, _ = uk
    response = api(sandbox_client, "POST", "UK", REPORTS, token, json=body)
    assert response.status_code == 400
    assert error_code(response) == "INVALID_REQUEST_PARAMETER"


def test_control_forces_fatal_and_cancelled(sandbox_client, uk, clock):
    token, transactions = uk
    options = line_options(transactions[0])
    first = create(sandbox_client, token, options).json["reportId"]
    forced = sandbox_client.post(
        "/_sandbox/amazon/reports", json={"reportId": first, "outcome": "FATAL"}
    )
    assert forced.status_code == 200
    sandbox_client.post("/_sandbox/amazon/reports", json={"outcome": "CANCELLED"})
    second = create(sandbox_client, token, options).json["reportId"]
    sandbox_client.post("/_sandbox/amazon/reports", json={"outcome": None})
    third = create(sandbox_client, token, options).json["reportId"]
    clock.advance(10)
    statuses = [
        report(sandbox_client, token, i)["processingStatus"] for i in (first, second, third)
    ]
    assert statuses == ["FATAL", "CANCELLED", "DONE"]
    bad = sandbox_client.post("/_sandbox/amazon/reports", json={"outcome": "BROKEN"})
    assert bad.status_code == 400


def test_cancel_only_while_in_queue(sandbox_client, uk, clock):
    token, transactions = uk
    options = line_options(transactions[0])
    queued = create(sandbox_client, token, options).json["reportId"]
    response = api(sandbox_client, "DELETE", "UK", f"{REPORTS}/{queued}", token)
    assert response.status_code == 200
    assert report(sandbox_client, token, queued)["processingStatus"] == "CANCELLED"
    running = create(sandbox_client, token, options).json["reportId"]
    clock.advance(4)
    response = api(sandbox_client, "DELETE", "UK", f"{REPORTS}/{running}", token)
    assert response.status_code == 400


def test_unknown_or_foreign_reports_and_documents_are_404(sandbox_client, uk, clock):
    token, transactions = uk
    report_id = create(sandbox_client, token, line_options(transactions[0])).json["reportId"]
    document_path = f"{DOCUMENTS}/00000000-0000-4000-a000-000000000000"
    assert api(sandbox_client, "GET", "UK", document_path, token).status_code == 404
    assert api(sandbox_client, "GET", "UK", f"{REPORTS}/404", token).status_code == 404
    de_token = connect(sandbox_client, "DE")["access_token"]
    response = api(sandbox_client, "GET", "DE", f"{REPORTS}/{report_id}", de_token)
    assert response.status_code == 404
    assert error_code(response) == "NOT_FOUND"


def test_document_is_404_until_done(sandbox_app, sandbox_client, uk, clock):
    token, transactions = uk
    report_id = create(sandbox_client, token, line_options(transactions[0])).json["reportId"]
    world = sandbox_app.extensions["sandbox"].worlds["amazon"]
    document_id = world.reports.reports[report_id].document_id
    path = f"{DOCUMENTS}/{document_id}"
    assert api(sandbox_client, "GET", "UK", path, token).status_code == 404
    clock.advance(4)
    assert api(sandbox_client, "GET", "UK", path, token).status_code == 404
    clock.advance(4)
    assert report(sandbox_client, token, report_id)["reportDocumentId"] == document_id
    assert api(sandbox_client, "GET", "UK", path, token).status_code == 200


def test_get_reports_filters_and_pages(sandbox_client, uk, clock):
    token, transactions = uk
    options = line_options(transactions[0])
    ids = [create(sandbox_client, token, options).json["reportId"] for _ in range(3)]
    clock.advance(10)
    query = {"reportTypes": "GET_AB_INVOICE_PDF", "pageSize": "2"}
    first = api(sandbox_client, "GET", "UK", REPORTS, token, query_string=query)
    assert first.status_code == 200
    assert len(first.json["reports"]) == 2
    second = api(
        sandbox_client,
        "GET",
        "UK",
        REPORTS,
        token,
        query_string={"nextToken": first.json["nextToken"]},
    )
    listed = [r["reportId"] for r in first.json["reports"] + second.json["reports"]]
    assert sorted(listed) == sorted(ids)
    assert "nextToken" not in second.json
    none = api(
        sandbox_client,
        "GET",
        "UK",
        REPORTS,
        token,
        query_string={"reportTypes": "GET_AB_INVOICE_PDF", "processingStatuses": "IN_QUEUE"},
    )
    assert none.json == {"reports": []}
    for bad in (
        {},
        {"reportTypes": "GET_AB_INVOICE_PDF", "pageSize": "101"},
        {"reportTypes": "GET_AB_INVOICE_PDF", "processingStatuses": "SLEEPING"},
        {"reportTypes": "GET_AB_INVOICE_PDF", "createdSince": "today"},
        {"reportTypes": "GET_AB_INVOICE_PDF", "nextToken": "x"},
    ):
        response = api(sandbox_client, "GET", "UK", REPORTS, token, query_string=bad)
        assert response.status_code == 400, bad


def test_pdf_download_over_real_http(sandbox):
    client = sandbox.app.test_client()
    token = connect(client, "UK")["access_token"]
    transactions = all_transactions(client, "UK", token)
    charge = next(tx for tx in transactions if tx["transactionType"] == "CHARGE")
    report_id = create(client, token, line_options(charge)).json["reportId"]
    sandbox.sandbox.clock.advance(10)
    document_id = report(client, token, report_id)["reportDocumentId"]
    url = api(client, "GET", "UK", f"{DOCUMENTS}/{document_id}", token).json["url"]
    assert url.startswith(sandbox.url + "/amazon-files/")
    with requests.Session() as session:
        response = session.get(url, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert charge["invoiceNumber"] in check_pdf(unzip_one(response.content)[1])
