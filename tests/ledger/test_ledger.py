"""The ledger: idempotent recording, evaluation, batches committed before the call, and recovery
of batches whose outcome is unknown (never a second Xero document for one transaction)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from plugin import ledger
from plugin.amazon.models import parse_transactions_page
from plugin.ledger import post as ledger_post
from plugin.ledger import record as ledger_record
from plugin.models import BatchState
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.models import PostingBatch
from plugin.models import utcnow
from plugin.posting import PostingContext
from plugin.posting.bank_feed import account_key
from plugin.xero.errors import XeroConnectionLost
from plugin.xero.errors import XeroRateLimited
from plugin.xero.errors import XeroServerError
from plugin.xero.models import ElementResult
from plugin.xero.models import XeroBankTransaction
from plugin.xero.models import XeroInvoice
from tests.common.amazon_payloads import uk_card_charge
from tests.common.amazon_payloads import uk_card_refund
from tests.common.amazon_payloads import uk_line
from tests.common.charts import chart_of
from tests.common.charts import mapping_of
from tests.common.charts import uk_chart
from tests.common.charts import uk_mapping


class FakeXero:
    """Xero's behaviour that matters here: idempotency keys replay; faults can be scripted.

    ``drop_after_write`` processes the request and then loses the answer (the case that makes
    careless clients post twice); ``refuse_with`` raises before processing.
    """

    in_flight = timedelta(minutes=5)  # what XeroClient.in_flight gives by default

    def __init__(self) -> None:
        self.documents: dict[str, dict] = {}  # xero id -> body
        self.replies: dict[str, list[ElementResult]] = {}
        self.calls = 0
        self.drop_after_write = 0
        self.refuse_with: Exception | None = None
        self.reject_references: set[str] = set()

    def create_documents(self, endpoint, elements, idempotency_key):
        self.calls += 1
        if self.refuse_with is not None:
            error, self.refuse_with = self.refuse_with, None
            raise error
        if idempotency_key in self.replies:
            return self.replies[idempotency_key]
        results = []
        for index, body in enumerate(elements):
            reference = body.get("Reference") or body.get("InvoiceNumber")
            if reference in self.reject_references:
                results.append(
                    ElementResult(index, False, None, ["Account code '999' is archived"])
                )
                continue
            xero_id = str(uuid.uuid4())
            self.documents[xero_id] = {"endpoint": endpoint, **body}
            results.append(ElementResult(index, True, xero_id))
        self.replies[idempotency_key] = results
        if self.drop_after_write:
            self.drop_after_write -= 1
            raise XeroConnectionLost("connection dropped after write")
        return results

    def find_bank_transactions_by_reference(self, references):
        return [
            XeroBankTransaction.model_validate({**body, "BankTransactionID": xero_id})
            for xero_id, body in self.documents.items()
            if body.get("Reference") in set(references)
        ]

    def find_invoices_by_numbers(self, numbers):
        return [
            XeroInvoice.model_validate({**body, "InvoiceID": xero_id, "AmountDue": Decimal(0)})
            for xero_id, body in self.documents.items()
            if body.get("InvoiceNumber") in set(numbers)
        ]

    def find_credit_notes(self, where):
        return []

    def find_bank_transactions_in(self, account, start, end, modified_since=None):
        self.lookups = getattr(self, "lookups", 0) + 1
        self.since = modified_since
        return [
            XeroBankTransaction.model_validate({**body, "BankTransactionID": xero_id})
            for xero_id, body in self.documents.items()
            if body.get("endpoint") == "BankTransactions"
            and account_key(body.get("BankAccount")) == account
            and start.isoformat() <= str(body.get("Date")) <= end.isoformat()
        ]

    def documents_for(self, transaction_id):
        return [d for d in self.documents.values() if transaction_id in str(d.get("Reference"))]


@pytest.fixture
def rules():
    return mapping_of(uk_mapping()), chart_of(uk_chart()), PostingContext()


def charges(count, prefix="TX"):
    return [uk_card_charge(transaction_id=f"{prefix}{i:04d}") for i in range(count)]


def record(db_session, org, transactions):
    page = parse_transactions_page({"transactions": transactions}, "test page")
    return ledger.record_page(db_session, org.id, None, page)


def entries(db_session, org):
    return list(db_session.exec(select(LedgerEntry).where(LedgerEntry.organisation_id == org.id)))


def test_recording_twice_adds_nothing(db_session, org):
    first = record(db_session, org, charges(3))
    second = record(db_session, org, charges(3))
    assert (first.new, first.already_known) == (3, 0)
    assert (second.new, second.already_known) == (0, 3)
    assert len(entries(db_session, org)) == 3


def test_changed_payload_updates_unposted_and_flags_posted(db_session, org):
    record(db_session, org, charges(2))
    posted = entries(db_session, org)[0]
    posted.state = EntryState.POSTED
    db_session.add(posted)
    db_session.commit()
    changed = [
        uk_card_charge(transaction_id=f"TX{i:04d}", invoice_number="CHANGED") for i in range(2)
    ]
    counts = record(db_session, org, changed)
    assert (counts.updated, counts.flagged) == (1, 1)
    by_id = {e.amazon_transaction_id: e for e in entries(db_session, org)}
    assert by_id["TX0000"].needs_review is True
    assert by_id["TX0000"].state == EntryState.POSTED
    assert by_id["TX0001"].invoice_number == "CHANGED"


def test_unreadable_transactions_are_kept_held_with_a_reason(db_session, org):
    bad = uk_card_charge(transaction_id="BAD1")
    bad["amount"] = {"currencyCode": "GBP", "amount": "twelve"}
    counts = record(db_session, org, [*charges(1), bad])
    assert counts.unreadable == 1
    held = next(e for e in entries(db_session, org) if e.amazon_transaction_id == "BAD1")
    assert held.state == EntryState.HELD
    assert held.reason_code == ledger.PARSE_ERROR
    assert "twelve" in held.reason


def test_evaluate_holds_unmapped_and_readies_the_rest(db_session, org, rules):
    mapping, chart, context = rules
    record(db_session, org, [*charges(2), uk_card_charge(transaction_id="NEWCARD", last4="9911")])
    counts = ledger.evaluate(db_session, org.id, mapping, chart, context)
    assert (counts.ready, counts.held) == (2, 1)
    new_card = next(e for e in entries(db_session, org) if e.amazon_transaction_id == "NEWCARD")
    assert new_card.reason_code == "unmapped_payment_method"
    assert "9911" in new_card.reason


def test_post_ready_posts_each_once_and_a_second_run_posts_nothing(db_session, org, rules):
    mapping, chart, context = rules
    record(db_session, org, charges(120))
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    xero = FakeXero()
    counts = ledger.post_ready(db_session, org.id, xero, mapping, chart, context)
    assert counts.posted == 120
    assert counts.batches == 3  # 50 + 50 + 20
    assert len(xero.documents) == 120
    again = ledger.post_ready(db_session, org.id, xero, mapping, chart, context)
    assert again.posted == 0
    assert xero.calls == 3
    assert all(
        e.state == EntryState.POSTED and e.xero_document_id for e in entries(db_session, org)
    )


def test_batch_is_committed_before_the_call(app, db_session, org, rules):
    mapping, chart, context = rules
    record(db_session, org, charges(2))
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    seen = {}

    class Inspecting(FakeXero):
        def create_documents(self, endpoint, elements, idempotency_key):
            from plugin.db import session_scope

            with session_scope(app) as other:  # another connection sees the committed batch
                batch = other.exec(select(PostingBatch)).one()
                seen["state"] = batch.state
                seen["key"] = batch.idempotency_key
                seen["members"] = len(batch.member_entry_ids)
            return super().create_documents(endpoint, elements, idempotency_key)

    ledger.post_ready(db_session, org.id, Inspecting(), mapping, chart, context)
    assert seen == {"state": BatchState.SENT, "key": seen["key"], "members": 2}


def test_accept_then_drop_is_never_sent_again_and_is_found_by_lookup(db_session, org, rules):
    """Issue 19 point 1: the answer to a batch was lost. Its entries stay claimed, nothing of it
    is sent again (not even with its key), and once it can no longer be in flight one query
    finds its documents."""
    mapping, chart, context = rules
    record(db_session, org, charges(10))
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    xero = FakeXero()
    xero.drop_after_write = 1
    counts = ledger.post_ready(db_session, org.id, xero, mapping, chart, context)
    assert counts.unknown_batches
    assert xero.calls == 1
    assert {e.state for e in entries(db_session, org)} == {EntryState.POSTING}
    soon = utcnow() + timedelta(minutes=1)
    ledger.post_ready(db_session, org.id, xero, mapping, chart, context, now=soon)
    assert xero.calls == 1  # in flight: neither looked up nor sent again
    lookup_at = ledger.next_lookup_at(db_session, org.id, xero.in_flight)
    assert lookup_at is not None
    assert soon < lookup_at <= utcnow() + xero.in_flight
    counts = ledger.post_ready(db_session, org.id, xero, mapping, chart, context, now=lookup_at)
    assert (counts.posted, counts.recovered, xero.calls, len(xero.documents)) == (0, 10, 1, 10)
    assert all(e.state == EntryState.POSTED for e in entries(db_session, org))
    assert db_session.exec(select(PostingBatch)).one().state == BatchState.ABANDONED
    assert ledger.next_lookup_at(db_session, org.id, xero.in_flight) is None


class ForgetsKeysAtOnce(FakeXero):
    """A Xero whose memory of Idempotency-Keys is shorter than anyone assumed: a request with a
    key it has already seen is processed again (the chaos run's 400-second clock skew)."""

    def create_documents(self, endpoint, elements, idempotency_key):
        self.replies.clear()
        return super().create_documents(endpoint, elements, idempotency_key)


def test_a_xero_that_forgets_keys_early_never_gets_a_duplicate(db_session, org, rules):
    """Issue 19 point 1, the failing case: before the fix the batch was re-sent with its key
    within the app's own 5-minute window and every document was created twice."""
    mapping, chart, context = rules
    record(db_session, org, charges(50))
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    xero = ForgetsKeysAtOnce()
    xero.drop_after_write = 1
    for minutes in (0, 1, 4, 6):  # runs at any time afterwards
        later = utcnow() + timedelta(minutes=minutes)
        ledger.post_ready(db_session, org.id, xero, mapping, chart, context, now=later)
    assert len(xero.documents) == 50
    assert xero.calls == 1
    assert all(e.state == EntryState.POSTED for e in entries(db_session, org))


class StillProcessing(FakeXero):
    """The first request is still being processed when the client gives up (a slow Xero): its
    documents appear only later, and a second request with the same key meanwhile is processed
    as a new one (Xero has not stored an answer for the key yet)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.pending: list[tuple[str, list, str]] = []

    def create_documents(self, endpoint, elements, idempotency_key):
        self.writes += 1
        if self.writes == 1:
            self.pending.append((endpoint, list(elements), idempotency_key))
            raise XeroConnectionLost("read time-out", timed_out=True)
        return super().create_documents(endpoint, elements, idempotency_key)

    def finish(self) -> None:
        for endpoint, elements, key in self.pending:
            FakeXero.create_documents(self, endpoint, elements, key)
        self.pending.clear()


def test_nothing_is_sent_while_the_original_request_may_still_be_in_flight(db_session, org, rules):
    """Issue 19 point 1: a concurrent same-key request could be processed twice by Xero; none
    is ever made, and the look-up waits until the original has finished."""
    mapping, chart, context = rules
    record(db_session, org, charges(5))
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    xero = StillProcessing()
    ledger.post_ready(db_session, org.id, xero, mapping, chart, context)
    ledger.post_ready(db_session, org.id, xero, mapping, chart, context)  # a second run at once
    assert xero.writes == 1
    assert not xero.documents
    xero.finish()  # Xero completes the first request, late
    later = utcnow() + xero.in_flight + timedelta(seconds=1)
    counts = ledger.post_ready(db_session, org.id, xero, mapping, chart, context, now=later)
    assert (counts.recovered, xero.writes, len(xero.documents)) == (5, 1, 5)
    assert all(e.state == EntryState.POSTED for e in entries(db_session, org))


def test_a_500_is_looked_up_at_once_and_only_the_missing_are_sent_again(db_session, org, rules):
    """Xero answered 500 after creating part of the batch: it has finished with the request,
    so the same run looks it up, records the ones found and sends the rest in a new batch with
    a new key."""
    mapping, chart, context = rules
    record(db_session, org, charges(4))
    ledger.evaluate(db_session, org.id, mapping, chart, context)

    class HalfThen500(FakeXero):
        def create_documents(self, endpoint, elements, idempotency_key):
            if self.calls == 0:
                self.calls += 1
                super().create_documents(endpoint, elements[:2], idempotency_key)
                self.calls -= 1
                raise XeroServerError("Xero failed with HTTP 500", 500)
            return super().create_documents(endpoint, elements, idempotency_key)

    xero = HalfThen500()
    counts = ledger.post_ready(db_session, org.id, xero, mapping, chart, context)
    assert (counts.recovered, counts.posted, len(xero.documents)) == (4, 2, 4)
    keys = [b.idempotency_key for b in db_session.exec(select(PostingBatch))]
    assert len(set(keys)) == 2
    assert all(e.state == EntryState.POSTED for e in entries(db_session, org))
    assert sorted(len(xero.documents_for(f"TX{i:04d}")) for i in range(4)) == [1, 1, 1, 1]


class Crash(Exception):
    """The worker process is gone."""


def crash_after_the_send(db_session, org, rules) -> FakeXero:
    """Post the ready entries to a Xero that takes them, and die before anything is recorded;
    return that Xero."""
    mapping, chart, context = rules
    xero = FakeXero()

    class DiesAfterWrite(FakeXero):
        def create_documents(self, endpoint, elements, idempotency_key):
            xero.create_documents(endpoint, elements, idempotency_key)
            raise Crash  # the process is gone before anything is recorded

    with pytest.raises(Crash):
        ledger.post_ready(db_session, org.id, DiesAfterWrite(), mapping, chart, context)
    db_session.rollback()
    return xero


def post_later_to_a_forgetful_xero(db_session, org, rules, xero):
    """Ten minutes on, post again to the same Xero, which has forgotten the key."""
    mapping, chart, context = rules
    fresh = FakeXero()
    fresh.documents = xero.documents
    later = utcnow() + timedelta(minutes=10)
    counts = ledger.post_ready(db_session, org.id, fresh, mapping, chart, context, now=later)
    return fresh, counts


def test_crash_after_send_is_recovered_by_lookup_after_the_window(db_session, org, rules):
    """The worker died between "sent" and "recorded", and came back too late to replay."""
    mapping, chart, context = rules
    record(db_session, org, charges(4))
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    xero = crash_after_the_send(db_session, org, rules)
    assert {e.state for e in entries(db_session, org)} == {EntryState.POSTING}
    fresh, counts = post_later_to_a_forgetful_xero(db_session, org, rules, xero)
    assert counts.posted == 0  # nothing posted again
    assert len(fresh.documents) == 4
    assert all(e.state == EntryState.POSTED for e in entries(db_session, org))


def test_lost_request_that_never_reached_xero_is_posted_again(db_session, org, rules):
    mapping, chart, context = rules
    record(db_session, org, charges(3))
    ledger.evaluate(db_session, org.id, mapping, chart, context)

    class LostOnTheWay(FakeXero):
        def create_documents(self, endpoint, elements, idempotency_key):
            raise XeroConnectionLost("timeout before Xero saw it")

    ledger.post_ready(db_session, org.id, LostOnTheWay(), mapping, chart, context)
    assert {e.state for e in entries(db_session, org)} == {EntryState.POSTING}
    xero = FakeXero()
    later = utcnow() + timedelta(minutes=10)
    counts = ledger.post_ready(db_session, org.id, xero, mapping, chart, context, now=later)
    assert counts.posted == 3
    assert len(xero.documents) == 3


def test_rate_limit_releases_the_batch_and_raises(db_session, org, rules):
    mapping, chart, context = rules
    record(db_session, org, charges(3))
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    xero = FakeXero()
    xero.refuse_with = XeroRateLimited(30, "minute")
    with pytest.raises(XeroRateLimited):
        ledger.post_ready(db_session, org.id, xero, mapping, chart, context)
    assert {e.state for e in entries(db_session, org)} == {EntryState.READY}
    assert db_session.exec(select(PostingBatch)).one().state == BatchState.ABANDONED
    assert ledger.post_ready(db_session, org.id, xero, mapping, chart, context).posted == 3


def test_xero_rejections_fail_with_the_reason_and_retry_releases_them(db_session, org, rules):
    mapping, chart, context = rules
    record(db_session, org, charges(3))
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    xero = FakeXero()
    rejected = next(
        e.raw_payload for e in entries(db_session, org) if e.amazon_transaction_id == "TX0001"
    )
    from plugin.amazon.models import parse_transaction
    from plugin.posting import bank_reference

    xero.reject_references = {bank_reference(parse_transaction(rejected))}
    counts = ledger.post_ready(db_session, org.id, xero, mapping, chart, context)
    assert (counts.posted, counts.failed) == (2, 1)
    failed = next(e for e in entries(db_session, org) if e.state == EntryState.FAILED)
    assert "archived" in failed.reason
    xero.reject_references = set()
    assert ledger.retry(db_session, org.id, [failed.id]) == 1
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    assert ledger.post_ready(db_session, org.id, xero, mapping, chart, context).posted == 1
    assert len(xero.documents) == 3


def test_refund_finds_its_charge_lines_in_the_ledger(db_session, org, rules):
    mapping, chart, context = rules
    record(db_session, org, [uk_card_charge(transaction_id="CHG1")])
    record(db_session, org, [uk_card_refund(transaction_id="REF1")])
    counts = ledger.evaluate(db_session, org.id, mapping, chart, context)
    assert counts.held == 0
    xero = FakeXero()
    ledger.post_ready(db_session, org.id, xero, mapping, chart, context)
    types = sorted(d["Type"] for d in xero.documents.values())
    assert types == ["RECEIVE", "SPEND"]


def test_a_second_posting_run_without_the_lock_never_sends_an_entry_twice(
    app, db_session, org, rules, monkeypatch
):
    """Redis restarted empty forgets the organisation's lock: two posting runs may then overlap.
    The batch claims its entries only while they are still ``ready``, so the run that comes
    second stops instead of sending them again."""
    from plugin.db import session_scope

    mapping, chart, context = rules
    record(db_session, org, charges(6))
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    xero = FakeXero()
    real_context_for = ledger.context_for
    overtaken = []

    def other_run_first(session, org_id, entries, base):
        if not overtaken:  # run A has read its entries; run B posts them all now
            overtaken.append(True)
            with session_scope(app) as other:
                ledger.post_ready(other, org_id, xero, mapping, chart, context)
        return real_context_for(session, org_id, entries, base)

    monkeypatch.setattr(ledger_post, "context_for", other_run_first)
    counts = ledger.post_ready(db_session, org.id, xero, mapping, chart, context)
    assert "Another posting run" in (counts.stopped or "")
    assert counts.posted == 0
    assert len(xero.documents) == 6  # one document per transaction
    db_session.expire_all()
    assert {e.state for e in entries(db_session, org)} == {EntryState.POSTED}
    assert len(db_session.exec(select(PostingBatch)).all()) == 1


# --- Posted by hand ------------------------------------------------------------------------------


def held_new_card(db_session, org, rules):
    """Two ready charges and one held (its card is not mapped)."""
    mapping, chart, context = rules
    record(db_session, org, [*charges(2), uk_card_charge(transaction_id="NEWCARD", last4="9911")])
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    return next(e for e in entries(db_session, org) if e.amazon_transaction_id == "NEWCARD")


def new_card_mapped():
    """The UK mapping with the held entry's card (Visa 9911) mapped too."""
    cards = [
        {"type": "Visa", "last4": last4, "treatment": "spend_money", "account_code": "800"}
        for last4 in ("4242", "9911")
    ]
    return mapping_of(uk_mapping(payment_methods=cards))


def test_an_entry_posted_by_hand_is_never_posted_after_its_reason_is_fixed(db_session, org, rules):
    _mapping, chart, context = rules
    held = held_new_card(db_session, org, rules)
    assert ledger.mark_posted_by_hand(db_session, org.id, held.id, "Ann") is True
    assert ledger.mark_posted_by_hand(db_session, org.id, held.id, "Ann") is False  # once
    # The card gets mapped; held and failed entries are retried and evaluated again.
    fixed = new_card_mapped()
    assert ledger.retry(db_session, org.id) == 0
    ledger.evaluate(db_session, org.id, fixed, chart, context)
    xero = FakeXero()
    counts = ledger.post_ready(db_session, org.id, xero, fixed, chart, context)
    assert counts.posted == 2
    assert xero.documents_for("NEWCARD") == []
    db_session.refresh(held)
    assert held.state == EntryState.BY_HAND
    # A changed payload from Amazon only flags it, as for a posted entry.
    changed = uk_card_charge(transaction_id="NEWCARD", last4="9911", invoice_number="CHANGED")
    assert record(db_session, org, [changed]).flagged == 1
    db_session.refresh(held)
    assert (held.state, held.needs_review) == (EntryState.BY_HAND, True)
    # Taken back, it is evaluated and posted once.
    assert ledger.unmark_posted_by_hand(db_session, org.id, held.id) is True
    ledger.evaluate(db_session, org.id, fixed, chart, context)
    assert ledger.post_ready(db_session, org.id, xero, fixed, chart, context).posted == 1
    assert len(xero.documents_for("NEWCARD")) == 1


def test_marking_another_orgs_entry_changes_nothing(db_session, org, rules):
    held = held_new_card(db_session, org, rules)
    other = Organisation(xero_tenant_id="t-other", name="Other Ltd", base_currency="GBP")
    db_session.add(other)
    db_session.commit()
    assert ledger.mark_posted_by_hand(db_session, other.id, held.id, "Eve") is False
    db_session.refresh(held)
    assert held.state == EntryState.HELD


def test_a_mark_made_while_evaluation_runs_is_kept(app, db_session, org, rules, monkeypatch):
    """The user marks the entry between the evaluation reading it (held) and writing its new
    state (ready, its card now mapped): the conditional write leaves the mark alone."""
    from plugin import posting
    from plugin.db import session_scope

    _mapping, chart, context = rules
    held = held_new_card(db_session, org, rules)
    fixed = new_card_mapped()
    real_translate = posting.translate

    def user_marks_meanwhile(transaction, *args):
        if transaction.transaction_id == "NEWCARD":
            with session_scope(app) as other:
                assert ledger.mark_posted_by_hand(other, org.id, held.id, "Ann")
        return real_translate(transaction, *args)

    monkeypatch.setattr(posting, "translate", user_marks_meanwhile)
    counts = ledger.evaluate(db_session, org.id, fixed, chart, context)
    assert (counts.ready, counts.changed_meanwhile) == (0, 1)
    monkeypatch.setattr(posting, "translate", real_translate)
    db_session.refresh(held)
    assert held.state == EntryState.BY_HAND
    xero = FakeXero()
    ledger.post_ready(db_session, org.id, xero, fixed, chart, context)
    assert xero.documents_for("NEWCARD") == []


def test_a_mark_made_while_a_changed_payload_is_recorded_is_kept(
    app, db_session, org, rules, monkeypatch
):
    from plugin.db import session_scope

    held = held_new_card(db_session, org, rules)
    real_descriptors = ledger_record._descriptors

    def user_marks_meanwhile(item):
        if getattr(item, "transaction_id", None) == "NEWCARD":
            with session_scope(app) as other:
                assert ledger.mark_posted_by_hand(other, org.id, held.id, "Ann")
        return real_descriptors(item)

    monkeypatch.setattr(ledger_record, "_descriptors", user_marks_meanwhile)
    changed = uk_card_charge(transaction_id="NEWCARD", last4="9911", invoice_number="CHANGED")
    counts = record(db_session, org, [changed])
    assert (counts.updated, counts.flagged) == (0, 1)
    db_session.refresh(held)
    assert (held.state, held.needs_review) == (EntryState.BY_HAND, True)


def test_a_retry_made_while_a_changed_payload_is_recorded_keeps_the_new_payload(
    app, db_session, org, rules, monkeypatch
):
    """The entry moved on meanwhile to a state not in Xero (a retry: held → fetched): the
    changed payload is still stored, not merely flagged."""
    from plugin.db import session_scope

    held = held_new_card(db_session, org, rules)
    real_descriptors = ledger_record._descriptors
    retried = []

    def user_retries_meanwhile(item):
        if getattr(item, "transaction_id", None) == "NEWCARD" and not retried:
            with session_scope(app) as other:
                retried.append(ledger.retry(other, org.id, [held.id]))
        return real_descriptors(item)

    monkeypatch.setattr(ledger_record, "_descriptors", user_retries_meanwhile)
    changed = uk_card_charge(transaction_id="NEWCARD", last4="9911", invoice_number="CHANGED")
    counts = record(db_session, org, [changed])
    assert retried == [1]
    assert (counts.updated, counts.flagged) == (1, 0)
    db_session.refresh(held)
    assert (held.state, held.invoice_number, held.needs_review) == (
        EntryState.FETCHED,
        "CHANGED",
        False,
    )


LONG_TITLE = "Archival storage box, acid-free, " * 134  # 4,422 characters
LONG_ORDER_ID = "203-" + "9" * 251  # 255 characters, the longest Amazon documents


def long_bill(transaction_id):
    return uk_card_charge(
        transaction_id=transaction_id,
        instrument="Pay by Invoice",
        last4=None,
        invoice_number="GB1PBI" + transaction_id,
        lines=[uk_line("0.20", "35.98", title=LONG_TITLE, order_id=LONG_ORDER_ID)],
    )


def long_card_charge(transaction_id):
    return uk_card_charge(
        transaction_id=transaction_id,
        lines=[uk_line("0.20", "35.98", title=LONG_TITLE, order_id=LONG_ORDER_ID)],
    )


@pytest.mark.parametrize(
    ("make", "endpoint"),
    [(long_bill, "Invoices"), (long_card_charge, "BankTransactions")],
    ids=["bill", "spend-money"],
)
def test_recovery_finds_documents_with_very_long_titles_and_order_ids(
    db_session, org, rules, make, endpoint
):
    """Issue 13 point 4: the transaction id survives every cut (Description 4,000, Reference
    255), so a crash after the send is recovered by lookup without posting again."""
    mapping, chart, context = rules
    record(db_session, org, [make(f"LONGTX{i:02d}") for i in range(3)])
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    assert {e.state for e in entries(db_session, org)} == {EntryState.READY}
    xero = crash_after_the_send(db_session, org, rules)
    bodies = list(xero.documents.values())
    assert {b["endpoint"] for b in bodies} == {endpoint}
    for body in bodies:
        first = body["LineItems"][0]["Description"]
        assert len(first) <= 4000
        assert len(body.get("Reference", "")) <= 255
    fresh, counts = post_later_to_a_forgetful_xero(db_session, org, rules, xero)
    assert counts.posted == 0
    assert len(fresh.documents) == 3  # nothing posted twice
    assert all(e.state == EntryState.POSTED for e in entries(db_session, org))
