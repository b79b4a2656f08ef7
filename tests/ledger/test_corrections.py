"""Corrections of posted documents against a mocked Xero (``responses``, the real client):
applied in place with the document's line ids, held when reconciled or paid, voided/deleted on
cancellation, never sent twice when an answer is lost, back to pending on a rate limit."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import requests
from sqlmodel import select

from plugin import ledger
from plugin.amazon.models import parse_transactions_page
from plugin.ledger.correction_model import Correction
from plugin.ledger.correction_model import CorrectionState
from plugin.ledger.corrections import apply_corrections
from plugin.models import AuditEvent
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import utcnow
from plugin.posting import PostingContext
from plugin.xero.errors import XeroRateLimited
from tests.common.amazon_payloads import uk_card_charge
from tests.common.amazon_payloads import uk_line
from tests.common.charts import chart_of
from tests.common.charts import mapping_of
from tests.common.charts import uk_chart
from tests.common.charts import uk_mapping
from tests.common.xero import API

DOC = "6f0c3a5e-0000-4000-8000-000000000001"
BT_URL = f"{API}/BankTransactions/{DOC}"
BILL_URL = f"{API}/Invoices/{DOC}"


@pytest.fixture
def rules():
    return mapping_of(uk_mapping()), chart_of(uk_chart()), PostingContext()


def record(db_session, org, *transactions):
    page = parse_transactions_page({"transactions": list(transactions)}, "test page")
    return ledger.record_page(db_session, org.id, None, page)


def settled(principal="30.00"):
    """The same charge, settled for another amount (one pack fewer, say)."""
    line = uk_line("0.20", principal, shipping="2.99", discount="-2.99", unit_price="15.00")
    return uk_card_charge(transaction_id="TX1", lines=[line])


def cancelled():
    charge = uk_card_charge(transaction_id="TX1", lines=[])
    charge["amount"] = {"currencyCode": "GBP", "amount": "0.00"}
    return charge


@pytest.fixture
def posted(db_session, org):
    """A charge posted as a bank transaction (``DOC``)."""
    record(db_session, org, uk_card_charge(transaction_id="TX1"))
    entry = db_session.exec(select(LedgerEntry)).one()
    entry.state = EntryState.POSTED
    entry.xero_document_type = "BankTransactions"
    entry.xero_document_id = DOC
    db_session.add(entry)
    db_session.commit()
    return entry


def document(status="AUTHORISED", reconciled=False, lines=None, **extra):
    return {
        "BankTransactionID": DOC,
        "Status": status,
        "IsReconciled": reconciled,
        "Total": 43.18,
        "LineItems": lines
        if lines is not None
        else [{"LineItemID": "line-1", "Description": "Pencils", "LineAmount": 35.98}],
        **extra,
    }


def answer(lines):
    return {"BankTransactions": [document(lines=lines)]}


def echo(request):
    """Xero's answer to an update: the lines sent, with their ids."""
    sent = json.loads(request.body)["BankTransactions"][0]
    return 200, {}, json.dumps(answer(sent["LineItems"]))


def corrections(db_session):
    return list(db_session.exec(select(Correction).order_by(Correction.id)))


def run(db_session, org, xero, rules, now=None):
    mapping, chart, context = rules
    return apply_corrections(db_session, org.id, xero, mapping, chart, context, now=now)


def test_a_change_is_recorded_once_and_nothing_is_sent_while_importing(db_session, org, posted):
    counts = record(db_session, org, settled())
    again = record(db_session, org, settled())
    assert (counts.flagged, again.flagged, again.already_known) == (1, 0, 1)
    [correction] = corrections(db_session)
    assert correction.state == CorrectionState.PENDING
    assert correction.before_payload["amount"]["amount"] == "43.18"
    assert correction.after_payload["amount"]["amount"] != "43.18"
    db_session.refresh(posted)
    assert posted.needs_review is True
    assert posted.raw_payload["amount"]["amount"] == "43.18"  # until Xero has the new version


def test_an_unreconciled_document_is_updated_in_place_with_its_line_ids(
    db_session, org, posted, xero, http, rules
):
    record(db_session, org, settled())
    http.get(BT_URL, json={"BankTransactions": [document()]})
    http.add_callback("POST", BT_URL, callback=echo)
    counts = run(db_session, org, xero, rules)
    assert (counts.applied, counts.held) == (1, 0)
    sent = http.calls[1].request
    body = json.loads(sent.body)["BankTransactions"][0]
    assert body["LineItems"][0]["LineItemID"] == "line-1"
    [correction] = corrections(db_session)
    assert sent.headers["Idempotency-Key"] == correction.idempotency_key
    assert correction.state == CorrectionState.APPLIED
    assert str(correction.before_document["LineItems"][0]["LineAmount"]) == "35.98"
    db_session.refresh(posted)
    assert (posted.needs_review, str(posted.amount)) == (False, "36.00")
    audit = db_session.exec(select(AuditEvent).where(AuditEvent.action == "correction_applied"))
    [event] = list(audit)
    assert event.detail["entry"] == "TX1"
    assert event.actor == "Amazon Business feed"
    assert event.detail["before"]["LineItems"]
    assert event.detail["after"]["LineItems"]


def test_a_reconciled_document_is_never_touched(db_session, org, posted, xero, http, rules):
    record(db_session, org, settled())
    http.get(BT_URL, json={"BankTransactions": [document(reconciled=True)]})
    counts = run(db_session, org, xero, rules)
    assert (counts.applied, counts.held) == (0, 1)
    assert [c.request.method for c in http.calls] == ["GET"]
    [correction] = corrections(db_session)
    assert correction.state == CorrectionState.HELD
    db_session.refresh(posted)
    assert posted.reason_code == "changed_after_reconciled"
    assert "GBP 43.18 to GBP 36.00" in posted.reason
    assert "un-reconcile" in posted.reason
    assert posted.raw_payload["amount"]["amount"] == "43.18"
    assert run(db_session, org, xero, rules).held == 0  # decided: not looked at again


def test_a_cancellation_deletes_the_bank_transaction(db_session, org, posted, xero, http, rules):
    record(db_session, org, cancelled())
    http.get(BT_URL, json={"BankTransactions": [document()]})
    http.post(BT_URL, json={"BankTransactions": [document(status="DELETED")]})
    assert run(db_session, org, xero, rules).applied == 1
    assert json.loads(http.calls[1].request.body) == {"BankTransactions": [{"Status": "DELETED"}]}
    db_session.refresh(posted)
    assert posted.reason_code == "amazon_cancelled"
    assert posted.state == EntryState.CANCELLED  # posted, then deleted in Xero
    assert str(posted.amount) == "0.00"


def test_a_paid_bill_is_held_with_what_to_do(db_session, org, posted, xero, http, rules):
    posted.xero_document_type = "Invoices"
    db_session.add(posted)
    db_session.commit()
    record(db_session, org, cancelled())
    paid = {"InvoiceID": DOC, "Status": "PAID", "AmountPaid": 43.18, "LineItems": []}
    http.get(BILL_URL, json={"Invoices": [paid]})
    assert run(db_session, org, xero, rules).held == 1
    db_session.refresh(posted)
    assert "payment" in posted.reason
    assert "void the bill" in posted.reason


def test_a_lost_answer_is_looked_up_and_never_sent_twice(
    db_session, org, posted, xero, http, rules
):
    record(db_session, org, settled())
    http.get(BT_URL, json={"BankTransactions": [document()]})
    http.post(BT_URL, body=requests.ConnectionError("dropped after write"))
    assert run(db_session, org, xero, rules).unknown == 1
    [correction] = corrections(db_session)
    assert correction.state == CorrectionState.SENT
    sent_lines = json.loads(http.calls[1].request.body)["BankTransactions"][0]["LineItems"]
    # Within the in-flight horizon: nothing is read or sent.
    assert run(db_session, org, xero, rules).unknown == 1
    assert len(http.calls) == 2
    # After it: the document is read, shows the change, and is recorded; no second POST.
    later = utcnow() + xero.in_flight + timedelta(seconds=1)
    http.get(BT_URL, json=answer(sent_lines))
    counts = run(db_session, org, xero, rules, now=later)
    assert counts.applied == 1
    assert [c.request.method for c in http.calls] == ["GET", "POST", "GET"]
    db_session.refresh(correction)
    assert correction.state == CorrectionState.APPLIED


def test_a_lost_request_that_never_arrived_is_sent_again_with_a_new_key(
    db_session, org, posted, xero, http, rules
):
    record(db_session, org, settled())
    http.get(BT_URL, json={"BankTransactions": [document()]})
    http.post(BT_URL, body=requests.ConnectionError("lost before Xero"))
    run(db_session, org, xero, rules)
    [correction] = corrections(db_session)
    first_key = correction.idempotency_key
    later = utcnow() + xero.in_flight + timedelta(seconds=1)
    http.get(BT_URL, json={"BankTransactions": [document()]})  # still the old lines
    http.get(BT_URL, json={"BankTransactions": [document()]})  # read again before sending
    http.add_callback("POST", BT_URL, callback=echo)
    assert run(db_session, org, xero, rules, now=later).applied == 1
    db_session.refresh(correction)
    assert correction.state == CorrectionState.APPLIED
    assert correction.idempotency_key != first_key
    assert correction.attempts == 2
    assert [c.request.method for c in http.calls].count("POST") == 2


def test_a_rate_limit_puts_it_back_and_stops(db_session, org, posted, xero, http, rules):
    record(db_session, org, settled())
    http.get(BT_URL, json={"BankTransactions": [document()]})
    http.post(BT_URL, status=429, headers={"Retry-After": "30"}, json={})
    with pytest.raises(XeroRateLimited):
        run(db_session, org, xero, rules)
    [correction] = corrections(db_session)
    assert correction.state == CorrectionState.PENDING


def test_xeros_refusal_is_held_with_its_message(db_session, org, posted, xero, http, rules):
    record(db_session, org, settled())
    http.get(BT_URL, json={"BankTransactions": [document()]})
    refusal = {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": [{"ValidationErrors": [{"Message": "The document date is locked."}]}],
    }
    http.post(BT_URL, status=400, json=refusal)
    assert run(db_session, org, xero, rules).held == 1
    db_session.refresh(posted)
    assert posted.reason_code == "correction_held"
    assert "The document date is locked." in posted.reason


def test_a_change_of_an_entry_still_posting_waits(db_session, org, posted, xero, http, rules):
    posted.state = EntryState.POSTING
    db_session.add(posted)
    db_session.commit()
    record(db_session, org, settled())
    assert run(db_session, org, xero, rules).waiting == 1
    assert len(http.calls) == 0


def test_a_change_of_an_entry_found_never_posted_is_simply_taken(
    db_session, org, posted, xero, http, rules
):
    posted.state = EntryState.POSTING
    db_session.add(posted)
    db_session.commit()
    record(db_session, org, settled())
    posted.state = EntryState.READY  # recovery found its batch never reached Xero
    db_session.add(posted)
    db_session.commit()
    assert run(db_session, org, xero, rules).applied == 1
    assert len(http.calls) == 0
    db_session.refresh(posted)
    assert (posted.state, str(posted.amount)) == (EntryState.FETCHED, "36.00")
    [correction] = corrections(db_session)
    assert correction.state == CorrectionState.APPLIED
