"""No float on a money path: amounts reach Xero's wire, the ledger's JSON column and the
settlements with exactly their decimal digits (Xero mocked over HTTP)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from responses import matchers
from sqlmodel import Session

from plugin.models import BatchState
from plugin.models import LedgerEntry
from plugin.models import PostingBatch
from plugin.posting import json_amount
from plugin.work.settlement_steps import allocation_amount
from plugin.work.settlement_steps import cents
from plugin.work.settlement_steps import plan_step
from plugin.work.settlement_steps import send_payment
from plugin.work.settlement_table import StepKind
from plugin.xero.client import XeroClient
from tests.common.xero import API

JSON = "application/json"


def wire_text(http, index: int = -1) -> str:
    body = http.calls[index].request.body
    return body.decode() if isinstance(body, bytes) else str(body)


def test_a_body_with_decimal_sums_reaches_the_wire_with_exactly_its_digits(
    xero: XeroClient, http
) -> None:
    amount = json_amount(Decimal("0.1") + Decimal("0.2"))  # 0.30000000000000004 as floats
    big = json_amount(Decimal("98765432109.87"))
    http.put(
        f"{API}/BankTransactions",
        body='{"BankTransactions": [{"BankTransactionID": "bt-1"}]}',
        content_type=JSON,
        match=[matchers.header_matcher({"Content-Type": JSON})],
    )
    line = {"Quantity": 3, "UnitAmount": Decimal("0.10"), "LineAmount": amount}
    xero.create_documents("BankTransactions", [{"LineItems": [line], "Total": big}], "k")
    text = wire_text(http)
    assert '"UnitAmount": 0.10' in text
    assert '"LineAmount": 0.30}' in text
    assert '"Total": 98765432109.87' in text
    assert "0.30000000000000004" not in text
    sent = json.loads(text, parse_float=Decimal)["BankTransactions"][0]
    assert sent["LineItems"][0]["LineAmount"] == Decimal("0.30")


def test_an_allocation_sends_its_decimal_amount_and_reads_the_answer_exactly(
    xero: XeroClient, http
) -> None:
    http.put(
        f"{API}/CreditNotes/cn-1/Allocations",
        body='{"Allocations": [{"Amount": 0.30, "Date": "/Date(1769817600000+0000)/"}]}',
        content_type=JSON,
        match=[matchers.header_matcher({"Idempotency-Key": "alloc-1"})],
    )
    allocation = xero.allocate_credit_note(
        "cn-1", "inv-1", Decimal("0.30"), date(2026, 1, 31), idempotency_key="alloc-1"
    )
    assert '"Amount": 0.30' in wire_text(http)
    assert '"Date": "2026-01-31"' in wire_text(http)
    assert (allocation.amount, allocation.date) == (Decimal("0.30"), date(2026, 1, 31))


def test_a_settlement_pays_exactly_the_amount_due_under_its_recorded_key(
    xero: XeroClient, http, db_session: Session, org
) -> None:
    entry = LedgerEntry(
        organisation_id=org.id,
        amazon_transaction_id="T7",
        xero_document_id="inv-1",
        invoice_number="US1PBI0000417",
    )
    db_session.add(entry)
    db_session.commit()
    step = plan_step(
        db_session, org.id, StepKind.PAYMENT, entry.id, entry.id, on_date=date(2026, 1, 31)
    )
    key = f"abx-payment-{org.id}-{entry.id}-g1"
    http.put(
        f"{API}/Payments",
        body='{"Payments": [{"PaymentID": "pay-1", "StatusAttributeString": "OK"}]}',
        content_type=JSON,
        match=[matchers.header_matcher({"Idempotency-Key": key})],
    )
    assert send_payment(db_session, xero, step, entry, "090", Decimal("1234.57"))
    payment = json.loads(wire_text(http), parse_float=Decimal)["Payments"][0]
    assert payment["Amount"] == Decimal("1234.57")
    assert '"Amount": 1234.57,' in wire_text(http)
    assert payment["Account"] == {"Code": "090"}
    assert payment["Date"] == "2026-01-31"
    assert (step.state, step.xero_id, step.amount) == ("done", "pay-1", Decimal("1234.57"))


def test_allocations_take_what_the_credit_covers_to_the_cent_half_up() -> None:
    assert allocation_amount(Decimal("0.30"), Decimal("10.10")) == Decimal("0.30")
    assert allocation_amount(Decimal("25.00"), Decimal("10.10")) == Decimal("10.10")
    assert allocation_amount(Decimal("0"), Decimal("10.10")) == Decimal("0.00")
    # float round() would give 2.67 for 2.675 (binary 2.67499...); Decimal half-up gives 2.68
    assert cents(Decimal("2.675")) == Decimal("2.68")
    assert cents(Decimal("-2.675")) == Decimal("-2.68")
    assert cents(Decimal("1.005")) == Decimal("1.01")


def test_the_ledgers_json_column_keeps_request_amounts_exact(db_session: Session, org) -> None:
    bodies = [{"LineItems": [{"LineAmount": Decimal("0.30"), "Quantity": 1}]}]
    batch = PostingBatch(
        organisation_id=org.id,
        idempotency_key="k-1",
        endpoint="BankTransactions",
        state=BatchState.PENDING,
        member_entry_ids=[1],
        request_summary={"bodies": bodies, "transaction_ids": ["T1"]},
    )
    db_session.add(batch)
    db_session.commit()
    batch_id = batch.id
    db_session.expunge_all()
    stored = db_session.get(PostingBatch, batch_id)
    assert stored is not None
    amount = stored.request_summary["bodies"][0]["LineItems"][0]["LineAmount"]
    assert (type(amount), str(amount)) == (Decimal, "0.30")
