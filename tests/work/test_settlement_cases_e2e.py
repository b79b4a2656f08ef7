"""Pay by Invoice settlement cases end to end (issue 13 point 5), against the sandbox's Xero
(which keeps AmountDue and RemainingCredit and refuses over-allocation and over-payment) and
Amazon (which reports the invoices Closed), through the real settlement job:

- a credit note posted before its bill waits, and is allocated when the bill posts, the bill
  then paid only what is left;
- a credit note bigger than what its bill still owes (part paid by hand in Xero) gives at most
  what is due; the rest stays on it as RemainingCredit and it is not called allocated;
- a bill part paid by hand before settlement is paid exactly the rest;
- payments are dated the org's calendar day (London, New York, Berlin) the invoice was first
  seen Closed, near midnight UTC.
"""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from sqlmodel import col
from sqlmodel import select

from plugin.db import session_scope
from plugin.infra.queues import get_queue
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.models import utcnow
from plugin.posting.dates import today_in
from plugin.work.settlement_table import SettlementStep
from plugin.xero.wiring import xero_client
from sandbox.xero.xerojson import ms_date
from tests.common.amazon_payloads import UK_MARKETPLACE
from tests.common.amazon_payloads import line_item
from tests.common.amazon_payloads import transaction
from tests.common.pipeline import import_days
from tests.common.pipeline import ledger_entries
from tests.common.pipeline import sandbox_documents
from tests.common.purchases_e2e import thames_tenant
from tests.common.settlement import BY_HAND
from tests.common.settlement import assert_settled_once
from tests.common.settlement import d
from tests.common.settlement import pay_by_hand
from tests.common.settlement import posted_and_closed
from tests.common.settlement import settle
from tests.common.settlement import settle_through_limits
from tests.common.settlement import settlement_verdict
from tests.common.settlement import steps


def _pbi(entries, kind):
    return [
        e
        for e in entries
        if e.xero_document_type == kind and "invoice" in str(e.payment_method_key).lower()
    ]


def _notes_and_their_bills(app, org):
    """(credit note, the bill it refunds) of each posted Pay by Invoice credit note."""
    entries = ledger_entries(app, org)
    bills = _pbi(entries, "Invoices")
    pairs = []
    for note in _pbi(entries, "CreditNotes"):
        same_order = [b for b in bills if b.order_id == note.order_id]
        if len(same_order) == 1:
            pairs.append((note, same_order[0]))
    assert pairs, "the sandbox's purchases have Pay by Invoice refunds"
    return pairs


def _xero_bill(sandbox, org, xero_id):
    return next(b for b in sandbox_documents(sandbox, org)["Invoices"] if b["InvoiceID"] == xero_id)


def _xero_note(sandbox, org, xero_id):
    notes = sandbox_documents(sandbox, org)["CreditNotes"]
    return next(n for n in notes if n["CreditNoteID"] == xero_id)


def test_a_credit_note_posted_before_its_bill_is_allocated_when_the_bill_posts(
    pipeline, sandbox, run_jobs
):
    app, _client, org = pipeline
    import_days(app, org, days=90)
    run_jobs()
    # The refunds' bills are not in the ledger yet (as if bought before the imported range).
    with session_scope(app) as db:
        entries = list(db.exec(select(LedgerEntry).where(LedgerEntry.organisation_id == org.id)))
        refunded = {
            e.order_id
            for e in entries
            if e.transaction_type == "REFUND" and "invoice" in str(e.payment_method_key).lower()
        }
        late = [e for e in entries if e.transaction_type == "CHARGE" and e.order_id in refunded]
        assert late
        late_ids = {e.amazon_transaction_id for e in late}
        for entry in late:
            db.delete(entry)
        db.commit()
    posted_and_closed(app, org, sandbox, run_jobs, imported=True)
    first = settle(app, org, run_jobs)
    assert first["allocated"] == 0, first
    waiting = _pbi(ledger_entries(app, org), "CreditNotes")
    assert waiting
    assert {n.settlement_state for n in waiting} == {"waiting_for_bill"}

    import_days(app, org, days=90)  # the bills arrive
    run_jobs()
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    run_jobs()
    arrived = [e for e in ledger_entries(app, org) if e.amazon_transaction_id in late_ids]
    assert arrived
    assert {e.settlement_state for e in arrived} == {"awaiting_payment"}
    second = settle(app, org, run_jobs)
    assert second["allocated"] == len(waiting), second
    for note, bill in _notes_and_their_bills(app, org):
        xbill = _xero_bill(sandbox, org, bill.xero_document_id)
        xnote = _xero_note(sandbox, org, note.xero_document_id)
        assert note.settlement_state == "allocated", note.reason
        assert d(xbill["AmountCredited"]) == d(xnote["Total"])
        paid = [
            p
            for p in sandbox_documents(sandbox, org)["Payments"]
            if p["Invoice"]["InvoiceID"] == bill.xero_document_id
        ]
        assert [d(p["Amount"]) for p in paid] == [d(xbill["Total"]) - d(xnote["Total"])]
    assert_settled_once(app, sandbox, org)


def test_a_credit_note_bigger_than_what_is_due_gives_at_most_that(pipeline, sandbox, run_jobs):
    app, _client, org = pipeline
    posted_and_closed(app, org, sandbox, run_jobs)
    note, bill = _notes_and_their_bills(app, org)[0]
    xbill = _xero_bill(sandbox, org, bill.xero_document_id)
    still_owed = Decimal("10.00")
    by_hand = d(xbill["Total"]) - still_owed
    pay_by_hand(app, org, bill.xero_document_id, by_hand)

    settle(app, org, run_jobs)
    xnote = _xero_note(sandbox, org, note.xero_document_id)
    xbill = _xero_bill(sandbox, org, bill.xero_document_id)
    allocations = xnote.get("Allocations") or []
    assert [d(a["Amount"]) for a in allocations] == [still_owed]
    assert d(xnote["RemainingCredit"]) == d(xnote["Total"]) - still_owed
    assert d(xbill["AmountDue"]) == 0
    [refreshed] = [e for e in ledger_entries(app, org) if e.id == note.id]
    assert refreshed.settlement_state == "credit_left", refreshed.reason
    assert f"{d(xnote['Total']) - still_owed}" in str(refreshed.reason)
    ours = [
        p
        for p in sandbox_documents(sandbox, org)["Payments"]
        if p["Invoice"]["InvoiceID"] == bill.xero_document_id and p["Reference"] != BY_HAND
    ]
    assert ours == []  # nothing was left to pay
    assert_settled_once(app, sandbox, org, by_hand={bill.xero_document_id: by_hand})


def test_a_bill_part_paid_by_hand_is_paid_exactly_the_rest(pipeline, sandbox, run_jobs):
    app, _client, org = pipeline
    posted_and_closed(app, org, sandbox, run_jobs)
    noted = {b.id for _n, b in _notes_and_their_bills(app, org)}
    bill = next(b for b in _pbi(ledger_entries(app, org), "Invoices") if b.id not in noted)
    total = d(_xero_bill(sandbox, org, bill.xero_document_id)["Total"])
    by_hand = Decimal("20.01")
    pay_by_hand(app, org, bill.xero_document_id, by_hand)

    settle(app, org, run_jobs)
    payments = [
        p
        for p in sandbox_documents(sandbox, org)["Payments"]
        if p["Invoice"]["InvoiceID"] == bill.xero_document_id
    ]
    assert sorted(d(p["Amount"]) for p in payments) == sorted([by_hand, total - by_hand])
    assert d(_xero_bill(sandbox, org, bill.xero_document_id)["AmountDue"]) == 0
    assert_settled_once(app, sandbox, org, by_hand={bill.xero_document_id: by_hand})


def _xero_day(value: str) -> date:
    millis = int(value.split("(")[1].split("+")[0])
    return datetime.fromtimestamp(millis / 1000, UTC).date()


TODAY = utcnow().date()
LATE = datetime.combine(TODAY, time(23, 30), UTC)  # 23:30 UTC: tomorrow in Berlin
EARLY = datetime.combine(TODAY + timedelta(days=1), time(3, 30), UTC)  # still today in New York


@pytest.mark.parametrize(
    ("timezone", "seen", "paid_on"),
    [
        pytest.param("GMTSTANDARDTIME", LATE, TODAY, id="london-late"),
        pytest.param("W.EUROPESTANDARDTIME", LATE, TODAY + timedelta(days=1), id="berlin-late"),
        pytest.param("EASTERNSTANDARDTIME", LATE, TODAY, id="new-york-late"),
        pytest.param("GMTSTANDARDTIME", EARLY, TODAY + timedelta(days=1), id="london-early"),
        pytest.param("EASTERNSTANDARDTIME", EARLY, TODAY, id="new-york-early"),
    ],
)
def test_payments_are_dated_the_org_s_day_the_invoice_was_first_seen_closed(
    pipeline, sandbox, run_jobs, monkeypatch, timezone, seen, paid_on
):
    app, _client, org = pipeline
    posted_and_closed(app, org, sandbox, run_jobs)
    with session_scope(app) as db:
        stored = db.get(Organisation, org.id)
        stored.timezone = timezone  # as GET /Organisation would give it for this org
        db.add(stored)
        db.commit()
    monkeypatch.setattr(
        "plugin.work.settlements.today_in", lambda zone, now=None: today_in(zone, now=seen)
    )
    settle(app, org, run_jobs)
    payments = [p for p in sandbox_documents(sandbox, org)["Payments"] if p["Reference"] != BY_HAND]
    assert payments
    assert {_xero_day(p["Date"]) for p in payments} == {paid_on}
    payment_steps = [s for s in steps(app, org) if s.kind == "payment"]
    assert {s.on_date for s in payment_steps} == {paid_on}
    # A later run (another day) keeps the first-seen day: nothing is re-planned or re-dated.
    monkeypatch.setattr(
        "plugin.work.settlements.today_in",
        lambda zone, now=None: today_in(zone, now=seen + timedelta(days=3)),
    )
    settle(app, org, run_jobs)
    with session_scope(app) as db:
        on_dates = set(
            db.exec(select(SettlementStep.on_date).where(col(SettlementStep.kind) == "payment"))
        )
    assert on_dates == {paid_on}
    assert settlement_verdict(app, sandbox, org).sound


def test_a_payment_whose_first_seen_day_is_locked_is_dated_the_org_s_today(
    pipeline, sandbox, run_jobs, monkeypatch
):
    """Seen Closed three days ago, refused then because that day is now in a locked period:
    the payment is not refused for ever, it is dated the org's today (as allocations are)."""
    app, _client, org = pipeline
    posted_and_closed(app, org, sandbox, run_jobs)
    seen = datetime.combine(TODAY - timedelta(days=3), time(12), UTC)
    lock = TODAY - timedelta(days=2)
    tenant = thames_tenant(sandbox)
    with sandbox.sandbox.lock:
        tenant.period_lock_date = lock
        tenant.organisation["PeriodLockDate"] = ms_date(lock)
    with session_scope(app) as db:
        stored = db.get(Organisation, org.id)
        stored.period_lock_date = lock  # as GET /Organisation now says
        db.add(stored)
        db.commit()
    with monkeypatch.context() as patched:
        patched.setattr(
            "plugin.work.settlements.today_in", lambda zone, now=None: today_in(zone, now=seen)
        )
        settle_through_limits(app, org, sandbox, run_jobs)
    with session_scope(app) as db:  # those steps were planned then, three days ago
        for step in db.exec(select(SettlementStep)):
            step.created_at = seen
            db.add(step)
        db.commit()
    settle_through_limits(app, org, sandbox, run_jobs)  # a later run, today
    payments = [p for p in sandbox_documents(sandbox, org)["Payments"] if p["Reference"] != BY_HAND]
    assert payments
    assert {_xero_day(p["Date"]) for p in payments} == {today_in(None)}
    paid = [e for e in _pbi(ledger_entries(app, org), "Invoices") if e.xero_payment_id]
    assert paid
    wrong = [e.reason for e in paid if f"as {seen.date()} (the day" not in str(e.reason)]
    assert wrong == []
    assert_settled_once(app, sandbox, org)


def test_a_refund_after_its_bill_was_paid_keeps_all_its_credit(pipeline, sandbox, run_jobs):
    """Amazon refunds a line after the bill was paid in full: the credit note has no open bill
    to take its credit, so all of it stays as RemainingCredit and it is called unallocated
    (nothing is allocated to a paid bill, nothing paid twice)."""
    app, _client, org = pipeline
    import_days(app, org, days=90)
    run_jobs()
    with session_scope(app) as db:  # the refunds come later (not in the ledger yet)
        refunds = list(
            db.exec(
                select(LedgerEntry).where(
                    LedgerEntry.organisation_id == org.id,
                    LedgerEntry.transaction_type == "REFUND",
                )
            )
        )
        late_ids = {
            e.amazon_transaction_id
            for e in refunds
            if "invoice" in str(e.payment_method_key).lower()
        }
        assert late_ids
        for entry in refunds:
            db.delete(entry)
        db.commit()
    posted_and_closed(app, org, sandbox, run_jobs, imported=True)
    settle_through_limits(app, org, sandbox, run_jobs)
    assert_settled_once(app, sandbox, org)  # every bill paid in full

    import_days(app, org, days=90)  # the refunds arrive
    run_jobs()
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    run_jobs()
    result = settle_through_limits(app, org, sandbox, run_jobs)
    assert result["allocated"] == 0, result
    assert result["paid"] == 0, result
    notes = [e for e in ledger_entries(app, org) if e.amazon_transaction_id in late_ids]
    assert notes
    assert {n.settlement_state for n in notes} == {"unallocated"}, [n.reason for n in notes]
    for note in notes:
        xnote = _xero_note(sandbox, org, note.xero_document_id)
        assert d(xnote["RemainingCredit"]) == d(xnote["Total"]) > 0
        assert not xnote.get("Allocations")
        assert f"{d(xnote['Total']):.2f}" in str(note.reason)
    assert_settled_once(app, sandbox, org)


def _pbi_charge(transaction_id, invoice, line, shipment, principal, tax, when):
    return transaction(
        transaction_id=transaction_id,
        currency="GBP",
        marketplace=UK_MARKETPLACE,
        instrument="Pay by Invoice",
        last4=None,
        invoice_number=invoice,
        date=when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        feedDate=(when + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        lines=[
            line_item(
                currency="GBP",
                principal=principal,
                tax=tax,
                tax_rate="0.20",
                order_id=TWO_BILL_ORDER,
                order_line_item_id=line,
                shipmentId=shipment,
                title=f"Line {line}",
            )
        ],
    )


TWO_BILL_ORDER = "203-2222222-0000002"


def test_two_bills_in_one_order_the_refund_goes_to_the_bill_amazon_names(
    pipeline, sandbox, run_jobs
):
    """One order shipped and invoiced in two parts; Amazon refunds a line of the second. The
    credit goes to the second bill (the invoice Amazon's invoice details give for the refunded
    line), not to the order's first bill; the first is paid in full, the second what is left."""
    app, _client, org = pipeline
    now = utcnow() - timedelta(days=3)
    first = _pbi_charge("TwoBillsFirst01", "GBTWOBILLA01", "L1", "S1", "100.00", "20.00", now)
    second = _pbi_charge(
        "TwoBillsSecond1", "GBTWOBILLB01", "L2", "S2", "50.00", "10.00", now + timedelta(hours=1)
    )
    refund = _pbi_charge(
        "TwoBillsRefund1", "GBTWOBILLCM1", "L2", "S2", "-25.00", "-5.00", now + timedelta(hours=2)
    )
    refund["transactionType"] = "REFUND"
    requests.post(
        f"{sandbox.url}/_sandbox/amazon/transactions",
        json={"account": "thames", "store": "UK", "transactions": [first, second, refund]},
        timeout=10,
    ).raise_for_status()
    posted_and_closed(app, org, sandbox, run_jobs)
    # Past the latest Amazon reports a late invoice Closed (due + 13 days).
    requests.post(
        f"{sandbox.url}/_sandbox/clock", json={"advance_seconds": 10 * 86400}, timeout=5
    ).raise_for_status()
    settle_through_limits(app, org, sandbox, run_jobs)

    by_id = {e.amazon_transaction_id: e for e in ledger_entries(app, org)}
    bill_a, bill_b, note = (
        by_id[t] for t in ("TwoBillsFirst01", "TwoBillsSecond1", "TwoBillsRefund1")
    )
    assert note.settlement_state == "allocated", note.reason
    assert "invoice number" in str(note.reason)
    xnote = _xero_note(sandbox, org, note.xero_document_id)
    assert [a["Invoice"]["InvoiceID"] for a in xnote["Allocations"]] == [bill_b.xero_document_id]
    assert [d(a["Amount"]) for a in xnote["Allocations"]] == [Decimal("30.00")]
    payments = sandbox_documents(sandbox, org)["Payments"]
    paid = {
        bill.amazon_transaction_id: [
            d(p["Amount"]) for p in payments if p["Invoice"]["InvoiceID"] == bill.xero_document_id
        ]
        for bill in (bill_a, bill_b)
    }
    assert paid == {"TwoBillsFirst01": [Decimal("120.00")], "TwoBillsSecond1": [Decimal("30.00")]}
    assert_settled_once(app, sandbox, org)


def test_a_credit_note_voided_in_xero_is_not_called_allocated(pipeline, sandbox, run_jobs):
    """Someone voids a credit note in Xero before settlement: nothing is allocated from it,
    its bill is paid in full, and its reason says it is voided (not that its credit was
    allocated, nor that its credit stays on it)."""
    app, _client, org = pipeline
    posted_and_closed(app, org, sandbox, run_jobs)
    note, bill = _notes_and_their_bills(app, org)[0]
    with session_scope(app) as db:
        xero = xero_client(db.get(Organisation, org.id), app)
        xero.request(
            "POST",
            f"CreditNotes/{note.xero_document_id}",
            json_body={"CreditNotes": [{"Status": "VOIDED"}]},
        )
    assert _xero_note(sandbox, org, note.xero_document_id)["Status"] == "VOIDED"
    settle_through_limits(app, org, sandbox, run_jobs)
    [refreshed] = [e for e in ledger_entries(app, org) if e.id == note.id]
    assert refreshed.settlement_state == "unallocated", refreshed.reason
    assert "VOIDED" in str(refreshed.reason)
    assert "allocated to" not in str(refreshed.reason)
    xbill = _xero_bill(sandbox, org, bill.xero_document_id)
    paid = [
        d(p["Amount"])
        for p in sandbox_documents(sandbox, org)["Payments"]
        if p["Invoice"]["InvoiceID"] == bill.xero_document_id
    ]
    assert paid == [d(xbill["Total"])]
    assert_settled_once(app, sandbox, org)
