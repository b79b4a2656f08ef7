"""getInvoiceDetailsByOrderLineItems and getBatchInvoicePaymentDetails."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

from sandbox.amazon.book import InvoiceRecord
from sandbox.amazon.dates import parse_iso
from sandbox.amazon.invoices import due_date
from sandbox.amazon.invoices import fate
from sandbox.amazon.invoices import schedule
from sandbox.amazon.invoices import status_at
from tests.sandbox.amazon_helpers import api
from tests.sandbox.amazon_helpers import connect
from tests.sandbox.amazon_helpers import error_code

INVOICES = "/reconciliation/2021-01-08/invoices"
PAYMENTS = "/reconciliation/2021-01-08/invoices/batch/paymentDetails"


def post(client, token, path, body):
    return api(client, "POST", "UK", path, token, json=body)


def line_key(item):
    return {name: item[name] for name in ("orderId", "orderLineItemId", "shipmentId")}


def test_invoice_details_for_a_charged_line(sandbox_client, uk):
    token, transactions = uk
    charge = next(tx for tx in transactions if tx["transactionType"] == "CHARGE")
    key = line_key(charge["transactionLineItems"][0])
    response = post(sandbox_client, token, INVOICES, {"orderLineItems": [key]})
    assert response.status_code == 200
    assert response.headers["x-amzn-RequestId"]
    [result] = response.json["invoiceDetailsByOrderLineItems"]
    assert result["orderLineItem"] == key
    detail = result["invoiceDetails"][0]
    assert detail["invoiceNumber"] == charge["invoiceNumber"]
    assert detail["invoiceType"] == "STANDARD"
    assert parse_iso(detail["invoiceDate"]) is not None


def test_refunded_line_has_invoice_and_credit_memo(sandbox_client, uk):
    token, transactions = uk
    refund = next(tx for tx in transactions if tx["transactionType"] == "REFUND")
    key = line_key(refund["transactionLineItems"][0])
    response = post(sandbox_client, token, INVOICES, {"orderLineItems": [key]})
    details = response.json["invoiceDetailsByOrderLineItems"][0]["invoiceDetails"]
    types = {d["invoiceNumber"]: d["invoiceType"] for d in details}
    assert types[refund["invoiceNumber"]] == "CREDIT_MEMO"
    assert "STANDARD" in types.values()


def test_unknown_line_has_no_invoice_details(sandbox_client, uk):
    token, _ = uk
    key = {"orderId": "203-0000000-0000000", "orderLineItemId": "1", "shipmentId": "Dnope"}
    response = post(sandbox_client, token, INVOICES, {"orderLineItems": [key]})
    assert response.json == {
        "invoiceDetailsByOrderLineItems": [{"orderLineItem": key, "invoiceDetails": []}]
    }


def test_invoice_details_limits_and_validation(sandbox_client, uk):
    token, transactions = uk
    key = line_key(transactions[0]["transactionLineItems"][0])
    assert post(sandbox_client, token, INVOICES, {"orderLineItems": [key] * 25}).status_code == 200
    response = post(sandbox_client, token, INVOICES, {"orderLineItems": [key] * 26})
    assert response.status_code == 400
    assert error_code(response) == "INVALID_REQUEST_PARAMETER"
    response = post(sandbox_client, token, INVOICES, {})
    assert response.status_code == 400
    assert response.json["errors"][0]["message"] == "Missing required request parameters."
    partial = {"orderId": key["orderId"], "orderLineItemId": key["orderLineItemId"]}
    assert post(sandbox_client, token, INVOICES, {"orderLineItems": [partial]}).status_code == 400
    response = api(sandbox_client, "POST", "UK", INVOICES, token, data="orderLineItems")
    assert response.status_code == 415


def test_payment_details_of_known_and_unknown_invoices(sandbox_client, uk):
    token, transactions = uk
    card = next(
        tx["invoiceNumber"]
        for tx in transactions
        if tx.get("paymentInstrumentLast4Digits") and tx["transactionType"] == "CHARGE"
    )
    pbi = next(
        tx["invoiceNumber"]
        for tx in transactions
        if tx["paymentInstrumentType"] == "Pay by Invoice" and tx["transactionType"] == "CHARGE"
    )
    response = post(sandbox_client, token, PAYMENTS, {"invoiceIds": [pbi, card, "NOPE-1"]})
    assert response.status_code == 200
    results = response.json["invoicePaymentDetailsResults"]
    assert [r["invoiceId"] for r in results] == [pbi, card, "NOPE-1"]
    assert [r["resultType"] for r in results] == ["SUCCESS", "SUCCESS", "ERROR"]
    assert results[0]["paymentDetails"]["status"] in (
        "Issued",
        "Payment Processing",
        "Past Due",
        "Closed",
    )
    assert results[0]["paymentDetails"]["dueDate"].endswith("T23:59:59Z")
    assert results[1]["paymentDetails"]["status"] == "Closed"
    assert set(results[2]["error"]) == {"code", "message", "details"}


def test_payment_status_moves_to_closed_over_sandbox_time(sandbox_app, sandbox_client, uk):
    token, transactions = uk
    sandbox = sandbox_app.extensions["sandbox"]
    now = sandbox.clock.now()
    schedules = []
    for tx in transactions:
        if tx["paymentInstrumentType"] == "Pay by Invoice" and tx["transactionType"] == "CHARGE":
            body = sandbox_client.get(f"/_sandbox/amazon/invoices/{tx['invoiceNumber']}").json
            if body["status"] != "Closed":
                schedules.append(body)
    assert schedules, "a recent Pay by Invoice invoice is still open"
    invoice = schedules[0]
    assert invoice["schedule"][0]["status"] == "Issued"
    assert invoice["schedule"][-1]["status"] == "Closed"

    def status():
        response = post(sandbox_client, token, PAYMENTS, {"invoiceIds": [invoice["invoiceId"]]})
        return response.json["invoicePaymentDetailsResults"][0]["paymentDetails"]["status"]

    assert status() == invoice["status"]
    for step in invoice["schedule"]:
        start = parse_iso(step["from"])
        if start > now:
            sandbox.clock.advance((start - sandbox.clock.now()).total_seconds() + 1)
            token = connect(sandbox_client, "UK")["access_token"]
            assert status() == step["status"]
    assert status() == "Closed"


def test_about_one_in_five_invoices_is_paid_late_and_goes_past_due():
    issued = datetime(2026, 1, 10, 9, 30, tzinfo=UTC)
    records = [
        InvoiceRecord(f"GB{n:010d}", issued, "STANDARD", pay_by_invoice=True, currency="GBP")
        for n in range(500)
    ]
    late = [r for r in records if fate(r) == "paid_late"]
    assert 50 < len(late) < 150
    steps = [status for status, _ in schedule(late[0])]
    assert steps == ["Issued", "Past Due", "Payment Processing", "Closed"]
    due = due_date(late[0])
    assert due == datetime(2026, 2, 9, 23, 59, 59, tzinfo=UTC)
    assert status_at(late[0], due) == "Issued"
    assert status_at(late[0], due + timedelta(seconds=1)) == "Past Due"
    on_time = next(r for r in records if fate(r) == "paid_on_time")
    assert [status for status, _ in schedule(on_time)] == ["Issued", "Payment Processing", "Closed"]
    assert status_at(on_time, due) == "Closed"
    card = InvoiceRecord("GB1", issued, "STANDARD", pay_by_invoice=False, currency="GBP")
    assert schedule(card) == [("Closed", issued)]


def test_invoice_schedule_control_404_for_unknown_invoice(sandbox_client):
    assert sandbox_client.get("/_sandbox/amazon/invoices/NOPE").status_code == 404


def test_payment_details_limits_and_validation(sandbox_client, uk):
    token, _ = uk
    assert post(sandbox_client, token, PAYMENTS, {"invoiceIds": ["A"] * 25}).status_code == 200
    for body in (
        {"invoiceIds": ["A"] * 26},
        {"invoiceIds": []},
        {},
        {"invoiceIds": [""]},
        {"invoiceIds": ["x" * 256]},
        {"invoiceIds": [5]},
    ):
        response = post(sandbox_client, token, PAYMENTS, body)
        assert response.status_code == 400, body
        assert error_code(response) == "INVALID_REQUEST_PARAMETER"
