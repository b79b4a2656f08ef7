"""Foreign-currency card purchases end to end: the Thames UK org buys on amazon.de with its GBP
cards; mapped with ``bill_paid_from_account`` each EUR purchase is posted to the sandbox as a
EUR bill (or credit note) and paid from the GBP card account at the sandbox's own rate, once,
even when the payment's answer is lost."""

from __future__ import annotations

from collections import Counter
from datetime import date
from datetime import timedelta
from decimal import Decimal

import requests
from sqlmodel import select

from plugin.db import session_scope
from plugin.infra.queues import get_queue
from plugin.models import EntryState
from plugin.work.card_payment_model import CardPayment
from plugin.work.card_payment_model import CardPaymentState
from plugin.xero.client import XeroClient
from sandbox.xero.rates import to_base
from sandbox.xero.rates import xero_rate
from tests.common.e2e import amazon_connect
from tests.common.pipeline import assert_exactly_once
from tests.common.pipeline import finish_setup
from tests.common.pipeline import import_days
from tests.common.pipeline import ledger_entries
from tests.common.pipeline import sandbox_documents

CHOICE = "bill_paid_from_account"
CARD_CODES = {"800", "801", "091"}


def connect_de(pipeline):
    app, client, org = pipeline
    answer = amazon_connect(client, org.id, "DE", "buyer-admin-uk@example.com")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return app, org


def eur_card_entries(app, org):
    return [
        e
        for e in ledger_entries(app, org)
        if e.currency == "EUR" and "invoice" not in str(e.payment_method_key).lower()
    ]


def payments_by_document(documents):
    found = Counter()
    for payment in documents["Payments"]:
        target = payment.get("Invoice") or payment.get("CreditNote")
        found[target.get("InvoiceID") or target.get("CreditNoteID")] += 1
    return found


def check_paid_once(app, sandbox, org):
    """Every EUR card entry is a posted bill or credit note with exactly one payment from its
    GBP card account at the sandbox's rate for its date; totals exact to the cent."""
    entries = eur_card_entries(app, org)
    assert entries, "the sandbox's DE store should have EUR card purchases"
    assert {e.state for e in entries} == {EntryState.POSTED}, Counter(e.reason for e in entries)
    documents = sandbox_documents(sandbox, org)
    by_id = {d["InvoiceID"]: d for d in documents["Invoices"]}
    by_id |= {d["CreditNoteID"]: d for d in documents["CreditNotes"]}
    per_document = payments_by_document(documents)
    payments = {p["PaymentID"]: p for p in documents["Payments"]}
    with session_scope(app) as db:
        rows = {r.ledger_entry_id: r for r in db.exec(select(CardPayment))}
    for entry in entries:
        assert entry.xero_document_type in ("Invoices", "CreditNotes")
        assert entry.settlement_state == "card_paid", entry.reason
        document = by_id[entry.xero_document_id]
        assert document["CurrencyCode"] == "EUR"
        assert Decimal(str(document["Total"])) == abs(entry.amount)
        assert document["Status"] == "PAID"
        assert per_document[entry.xero_document_id] == 1, "paid more than once"
        row = rows[entry.id]
        assert row.state == CardPaymentState.PAID
        payment = payments[row.xero_payment_id]
        assert payment["Account"]["Code"] in CARD_CODES
        assert Decimal(str(payment["Amount"])) == abs(entry.amount)
        rate = xero_rate("GBP", "EUR", row.payment_date)
        assert row.currency_rate == rate
        assert row.bank_amount == to_base(abs(entry.amount), rate)
        assert Decimal(str(payment["BankAmount"])) == row.bank_amount
        assert row.payment_date == date.fromisoformat(
            document["DateString"][:10]
        )  # paid the day it was bought
    return entries


def test_eur_card_purchases_post_as_bills_paid_from_the_card(pipeline, sandbox, run_jobs):
    app, org = connect_de(pipeline)
    import_days(app, org)
    run_jobs()
    finish_setup(app, org, include_new_card=True)  # foreign_currency left at "hold"
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    run_jobs()
    held = Counter(e.reason_code for e in eur_card_entries(app, org))
    assert held
    assert set(held) == {"bank_account_currency"}, held

    finish_setup(app, org, include_new_card=True, foreign_currency=CHOICE)
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id, True)
    run_jobs()
    check_paid_once(app, sandbox, org)
    assert not [e for e in ledger_entries(app, org) if e.reason_code == "bank_account_currency"]
    assert_exactly_once(app, sandbox, org)


def test_a_lost_payment_answer_never_pays_twice(pipeline, sandbox, run_jobs, monkeypatch):
    # The next run may look the payment up at once (no in-flight horizon to wait out).
    monkeypatch.setattr(XeroClient, "in_flight", property(lambda _client: timedelta(0)))
    app, org = connect_de(pipeline)
    finish_setup(app, org, include_new_card=True, foreign_currency=CHOICE)
    requests.post(
        f"{sandbox.url}/_sandbox/faults",
        json={
            "service": "xero",
            "queue": {"kind": "drop_after_write", "count": 1, "path_contains": "Payments"},
        },
        timeout=5,
    )
    import_days(app, org)
    run_jobs()
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    run_jobs()
    injected = requests.get(f"{sandbox.url}/_sandbox/faults", timeout=5).json()
    assert injected["xero"]["injected"].get("drop_after_write") == 1
    # Xero did make the payments whose answer was lost; a later run finds them in Xero
    # instead of paying again (the import queues one posting run, the test another).
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    run_jobs()
    check_paid_once(app, sandbox, org)
    assert_exactly_once(app, sandbox, org)
