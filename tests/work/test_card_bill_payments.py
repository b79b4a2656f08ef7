"""The card-bill payment step on its own, against a fake Xero that keeps the payments it made:
recorded before the call, paid once whatever happens between Xero's answer and our commit (an
answer lost, a worker killed before or after the call), refusals kept with Xero's reason."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import select

from plugin.ledger.batches import CARD_PAYMENT
from plugin.models import BatchState
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.models import PostingBatch
from plugin.models import utcnow
from plugin.posting import PaymentIntent
from plugin.work.card_bill_payments import pay_card_bills
from plugin.work.card_payment_model import CardPayment
from plugin.work.card_payment_model import CardPaymentState
from plugin.xero.errors import XeroConnectionLost
from plugin.xero.models import ElementResult
from plugin.xero.models import XeroPayment

BILL_ID = "43b7a3a6-9a8d-4a03-980d-7b71d8f56413"
INTENT = PaymentIntent(
    target="Invoices",
    account={"Code": "800"},
    date="2026-03-04",
    amount=Decimal("474.81"),
    currency="EUR",
    account_currency="GBP",
    reference="302-1234567-7654321 TX1",
)
RATE = Decimal("1.163412")


@dataclass
class FakeXero:
    """Makes payments like Xero (its own rate); can lose the answer or refuse."""

    lose_answers: int = 0
    refuse: str | None = None
    in_flight: timedelta = timedelta(minutes=5)  # as XeroClient.in_flight by default
    made: list[dict[str, Any]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)

    def create_documents(self, endpoint: str, elements: list[dict[str, Any]], key: str) -> Any:
        assert endpoint == "Payments"
        self.keys.append(key)
        results = []
        for index, body in enumerate(elements):
            assert "CurrencyRate" not in body
            if self.refuse:
                results.append(ElementResult(index, False, None, [self.refuse], body))
                continue
            bank = (body["Amount"] / RATE).quantize(Decimal("0.01"))
            payment = {**body, "PaymentID": f"pay-{len(self.made) + 1}", "CurrencyRate": RATE}
            payment["BankAmount"] = bank
            self.made.append(payment)
            results.append(ElementResult(index, True, payment["PaymentID"], [], payment))
        if self.lose_answers:
            self.lose_answers -= 1
            raise XeroConnectionLost("No answer from Xero for PUT Payments")
        return results

    def payments_for_invoice(self, invoice_id: str) -> list[XeroPayment]:
        return [
            XeroPayment.model_validate(p)
            for p in self.made
            if p["Invoice"]["InvoiceID"] == invoice_id
        ]

    def payments_for_credit_note(self, credit_note_id: str) -> list[XeroPayment]:
        return []


@pytest.fixture
def posted_bill(db_session):
    org = Organisation(xero_tenant_id="tenant-fx", name="Thames")
    db_session.add(org)
    db_session.commit()
    batch = PostingBatch(
        organisation_id=org.id,
        idempotency_key="batch-key",
        endpoint="Invoices",
        state=BatchState.RECORDED,
        request_summary={"bodies": [{}], "card_payments": {"TX1": INTENT.as_json()}},
    )
    db_session.add(batch)
    db_session.commit()
    entry = LedgerEntry(
        organisation_id=org.id,
        amazon_transaction_id="TX1",
        amount=Decimal("474.81"),
        currency="EUR",
        state=EntryState.POSTED,
        xero_document_type="Invoices",
        xero_document_id=BILL_ID,
        batch_id=batch.id,
        settlement_state=CARD_PAYMENT,
    )
    db_session.add(entry)
    db_session.commit()
    return org.id, entry


def rows(db_session) -> list[CardPayment]:
    return list(db_session.exec(select(CardPayment)))


def test_pays_the_whole_bill_and_keeps_xeros_rate(db_session, posted_bill):
    org_id, entry = posted_bill
    xero = FakeXero()
    counts = pay_card_bills(db_session, org_id, xero)  # type: ignore[arg-type]
    assert counts.paid == 1
    (row,) = rows(db_session)
    assert row.state == CardPaymentState.PAID
    assert (row.currency_rate, row.bank_amount) == (RATE, Decimal("408.12"))
    assert xero.made[0]["Amount"] == Decimal("474.81")
    assert xero.made[0]["Account"] == {"Code": "800"}
    db_session.refresh(entry)
    assert (entry.settlement_state, entry.xero_payment_id) == ("card_paid", "pay-1")
    assert pay_card_bills(db_session, org_id, xero).paid == 0  # type: ignore[arg-type]
    assert len(xero.made) == 1


def later() -> datetime:
    """A run long enough after the send for Xero to have finished with it."""
    return utcnow() + FakeXero.in_flight + timedelta(seconds=1)


def test_a_lost_answer_is_found_in_xero_not_paid_again(db_session, posted_bill):
    org_id, _entry = posted_bill
    xero = FakeXero(lose_answers=1)
    assert pay_card_bills(db_session, org_id, xero).unknown == 1  # type: ignore[arg-type]
    assert rows(db_session)[0].state == CardPaymentState.SENT  # outcome unknown
    # Right away, Xero may still be working on it: left alone, nothing sent.
    assert pay_card_bills(db_session, org_id, xero).unknown == 1  # type: ignore[arg-type]
    assert len(xero.keys) == 1
    again = pay_card_bills(db_session, org_id, xero, now=later())  # type: ignore[arg-type]
    assert again.found == 1
    assert len(xero.made) == 1
    (row,) = rows(db_session)
    assert (row.state, row.xero_payment_id, row.currency_rate) == (
        CardPaymentState.PAID,
        "pay-1",
        RATE,
    )


def test_killed_before_the_call_it_is_sent_once(db_session, posted_bill):
    org_id, _entry = posted_bill
    xero = FakeXero()

    class Killed(BaseException):
        pass

    def killed(*_args: Any) -> Any:
        raise Killed

    real = xero.create_documents
    xero.create_documents = killed  # type: ignore[method-assign]
    with pytest.raises(Killed):
        pay_card_bills(db_session, org_id, xero)  # type: ignore[arg-type]
    db_session.rollback()
    (row,) = rows(db_session)
    assert row.state == CardPaymentState.SENT  # committed before the call
    xero.create_documents = real  # type: ignore[method-assign]
    # Nothing in Xero: the later run looks, finds no payment, and sends it (once).
    assert pay_card_bills(db_session, org_id, xero, now=later()).paid == 1  # type: ignore[arg-type]
    assert len(xero.made) == 1
    assert rows(db_session)[0].state == CardPaymentState.PAID


def test_killed_after_xeros_answer_it_is_recorded_from_xero(db_session, posted_bill):
    org_id, _entry = posted_bill
    xero = FakeXero()
    real = xero.create_documents

    class Killed(BaseException):
        pass

    def answer_then_die(*args: Any) -> Any:
        real(*args)
        raise Killed  # the worker dies before committing Xero's answer

    xero.create_documents = answer_then_die  # type: ignore[method-assign]
    with pytest.raises(Killed):
        pay_card_bills(db_session, org_id, xero)  # type: ignore[arg-type]
    db_session.rollback()
    xero.create_documents = real  # type: ignore[method-assign]
    assert pay_card_bills(db_session, org_id, xero, now=later()).found == 1  # type: ignore[arg-type]
    assert len(xero.made) == 1
    assert rows(db_session)[0].bank_amount == Decimal("408.12")


def test_a_refusal_is_kept_with_xeros_reason(db_session, posted_bill):
    org_id, entry = posted_bill
    xero = FakeXero(refuse="The payment Account could not be found or is archived.")
    assert pay_card_bills(db_session, org_id, xero).refused == 1  # type: ignore[arg-type]
    db_session.refresh(entry)
    assert entry.settlement_state == "card_refused"
    assert "could not be found or is archived" in (entry.reason or "")
    assert pay_card_bills(db_session, org_id, xero).refused == 0  # type: ignore[arg-type]
    assert len(xero.keys) == 1


def test_fifty_payments_go_in_one_call(db_session, posted_bill):
    org_id, first = posted_bill
    batch_id = first.batch_id
    batch = db_session.get(PostingBatch, batch_id)
    intents = {}
    for n in range(2, 61):
        intents[f"TX{n}"] = INTENT.as_json()
        db_session.add(
            LedgerEntry(
                organisation_id=org_id,
                amazon_transaction_id=f"TX{n}",
                amount=Decimal("474.81"),
                currency="EUR",
                state=EntryState.POSTED,
                xero_document_type="Invoices",
                xero_document_id=f"bill-{n}",
                batch_id=batch_id,
                settlement_state=CARD_PAYMENT,
            )
        )
    batch.request_summary = {
        **batch.request_summary,
        "card_payments": {"TX1": INTENT.as_json(), **intents},
    }
    db_session.add(batch)
    db_session.commit()
    xero = FakeXero()
    assert pay_card_bills(db_session, org_id, xero).paid == 60  # type: ignore[arg-type]
    assert len(xero.keys) == 2  # 50 + 10
    assert {p["Invoice"]["InvoiceID"] for p in xero.made} == {BILL_ID} | {
        f"bill-{n}" for n in range(2, 61)
    }
    assert {r.state for r in rows(db_session)} == {CardPaymentState.PAID}
