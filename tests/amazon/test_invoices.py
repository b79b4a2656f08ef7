"""Invoice details and invoice payment details: batches of 25, order kept, errors as results."""

from __future__ import annotations

import json
from datetime import UTC
from datetime import datetime

import pytest
from responses import matchers

from plugin.amazon.errors import AmazonBadRequest
from plugin.amazon.errors import AmazonMalformedResponse
from plugin.amazon.invoices import LineItemKey
from tests.common.amazon import EU_API

INVOICES_URL = EU_API + "/reconciliation/2021-01-08/invoices"
PAYMENTS_URL = EU_API + "/reconciliation/2021-01-08/invoices/batch/paymentDetails"


def key(n: int) -> LineItemKey:
    return LineItemKey(f"203-0000000-{n:07d}", f"line-{n}", f"ship-{n}")


def details_answer(request):
    """Echo each requested line with one invoice (credit memo for odd lines)."""
    items = json.loads(request.body)["orderLineItems"]
    results = [
        {
            "orderLineItem": item,
            "invoiceDetails": [
                {
                    "invoiceNumber": "INV-" + item["orderLineItemId"],
                    "invoiceDate": "2026-03-04T10:15:42.120Z",
                    "invoiceType": "CREDIT_MEMO"
                    if item["orderLineItemId"][-1] in "13579"
                    else "STANDARD",
                    "consolidatedInvoiceDetails": {"invoiceNumber": "Pending"},
                }
            ],
        }
        for item in items
    ]
    return 200, {"x-amzn-RequestId": "r"}, json.dumps({"invoiceDetailsByOrderLineItems": results})


def test_invoice_details_go_in_batches_of_25(http, make_client):
    http.add_callback("POST", INVOICES_URL, callback=details_answer)
    keys = [key(n) for n in range(60)] + [key(3)]  # a duplicate is asked for once
    results = make_client().invoice_details(keys)
    sizes = [len(json.loads(call.request.body)["orderLineItems"]) for call in http.calls]
    assert sizes == [25, 25, 10]
    assert http.calls[0].request.headers["content-type"] == "application/json"
    assert [r.key for r in results] == [key(n) for n in range(60)]
    first = results[1].invoices[0]
    assert first.invoice_number == "INV-line-1"
    assert first.invoice_type == "CREDIT_MEMO"
    assert first.invoice_date == datetime(2026, 3, 4, 10, 15, 42, 120000, tzinfo=UTC)
    assert first.consolidated_invoice_number == "Pending"


def test_no_keys_no_calls(http, make_client):
    assert make_client().invoice_details([]) == []
    assert make_client().invoice_payment_details([]) == []


def test_line_without_invoices_yet_is_an_empty_list(http, make_client):
    http.post(
        INVOICES_URL,
        match=[matchers.json_params_matcher({"orderLineItems": [key(1).to_json()]})],
        json={
            "invoiceDetailsByOrderLineItems": [
                {"orderLineItem": key(1).to_json(), "invoiceDetails": []}
            ]
        },
    )
    (result,) = make_client().invoice_details([key(1)])
    assert result.invoices == ()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"invoiceDetailsByOrderLineItems": [{"orderLineItem": {}, "invoiceDetails": []}]},
        {
            "invoiceDetailsByOrderLineItems": [
                {
                    "orderLineItem": key(1).to_json(),
                    "invoiceDetails": [{"invoiceNumber": "X", "invoiceDate": "yesterday"}],
                }
            ]
        },
    ],
    ids=["missing-list", "missing-ids", "bad-date"],
)
def test_unreadable_invoice_details_are_malformed(http, make_client, body):
    http.post(INVOICES_URL, json=body)
    with pytest.raises(AmazonMalformedResponse, match="invoice details batch 1"):
        make_client().invoice_details([key(1)])


def test_invoice_details_bad_request_is_typed(http, make_client):
    http.post(
        INVOICES_URL,
        status=400,
        json={
            "errors": [
                {
                    "code": "INVALID_REQUEST_PARAMETER",
                    "message": "Missing required request parameters.",
                }
            ]
        },
    )
    with pytest.raises(AmazonBadRequest, match="Missing required request parameters"):
        make_client().invoice_details([key(1)])


def payments_answer(request):
    ids = json.loads(request.body)["invoiceIds"]
    results = []
    for invoice_id in ids:
        if invoice_id.startswith("UNKNOWN"):
            results.append(
                {
                    "invoiceId": invoice_id,
                    "resultType": "ERROR",
                    "error": {
                        "code": "INVOICE_NOT_FOUND",
                        "message": "No invoice",
                        "details": invoice_id,
                    },
                }
            )
        else:
            results.append(
                {
                    "invoiceId": invoice_id,
                    "resultType": "SUCCESS",
                    "paymentDetails": {"status": "Past Due", "dueDate": "2025-06-07T23:59:59Z"},
                }
            )
    return 200, {}, json.dumps({"invoicePaymentDetailsResults": list(reversed(results))})


def test_payment_details_go_in_batches_of_25_in_input_order(http, make_client):
    http.add_callback("POST", PAYMENTS_URL, callback=payments_answer)
    ids = [f"INV{n:03d}" for n in range(51)] + ["UNKNOWN-1", "INV000"]
    results = make_client().invoice_payment_details(ids)
    sizes = [len(json.loads(call.request.body)["invoiceIds"]) for call in http.calls]
    assert sizes == [25, 25, 2]
    assert [r.invoice_id for r in results] == ids[:-1]
    assert results[0].ok
    assert results[0].status == "Past Due"
    assert results[0].due_date == datetime(2025, 6, 7, 23, 59, 59, tzinfo=UTC)
    unknown = results[-1]
    assert not unknown.ok
    assert unknown.error.code == "INVOICE_NOT_FOUND"


def test_ids_amazon_would_reject_get_a_local_error_not_a_failed_batch(http, make_client):
    http.add_callback("POST", PAYMENTS_URL, callback=payments_answer)
    results = make_client().invoice_payment_details(["", "A" * 256, "INV1"])
    assert json.loads(http.calls[0].request.body) == {"invoiceIds": ["INV1"]}
    assert [r.result_type for r in results] == ["ERROR", "ERROR", "SUCCESS"]
    assert results[0].error.code == "INVALID_INVOICE_ID"


def test_an_invoice_missing_from_the_answer_is_reported(http, make_client):
    http.post(PAYMENTS_URL, json={"invoicePaymentDetailsResults": []})
    (result,) = make_client().invoice_payment_details(["INV1"])
    assert result.error.code == "MISSING_RESULT"
