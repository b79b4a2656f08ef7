"""Review before posting, in the ledger (``plugin.ledger.review``): in review mode postable
entries wait in ``review`` (counted like every state), approval is one conditional move to
``ready`` (a second approval, or one racing it, moves nothing), an approved entry held for a
missing mapping posts once the mapping is fixed without being approved again, a coding chosen
in review is what posts, and switching the mode moves what it says it moves."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import select

from plugin import ledger
from plugin import posting
from plugin.db import session_scope
from plugin.ledger import review
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.models import utcnow
from tests.common.charts import chart_of
from tests.common.charts import mapping_of
from tests.common.charts import uk_chart
from tests.common.charts import uk_mapping
from tests.ledger.test_ledger import FakeXero
from tests.ledger.test_ledger import charges
from tests.ledger.test_ledger import entries
from tests.ledger.test_ledger import record


@pytest.fixture
def rules():
    return mapping_of(uk_mapping()), chart_of(uk_chart()), posting.PostingContext()


def states(db_session, org) -> dict[str, str]:
    db_session.expire_all()
    return {e.amazon_transaction_id: str(e.state) for e in entries(db_session, org)}


def by_tid(db_session, org, tid: str) -> LedgerEntry:
    return next(e for e in entries(db_session, org) if e.amazon_transaction_id == tid)


@pytest.fixture
def reviewing(db_session, org):
    stored = db_session.get(Organisation, org.id)
    review.use_review(db_session, stored, True)
    return stored


def test_review_mode_keeps_postable_entries_for_review_and_posts_none(
    db_session, org, reviewing, rules
):
    mapping, chart, context = rules
    record(
        db_session,
        org,
        [*charges(3), charges(1, "NEWCARD")[0] | {"paymentInstrumentLast4Digits": "9911"}],
    )
    counts = ledger.evaluate(db_session, org.id, mapping, chart, context)
    assert (counts.review, counts.ready, counts.held) == (3, 0, 1)
    assert sorted(states(db_session, org).values()) == ["held", "review", "review", "review"]
    assert ledger.counts_by_state(db_session, org.id) == {"review": 3, "held": 1}
    xero = FakeXero()
    assert ledger.post_ready(db_session, org.id, xero, mapping, chart, context).posted == 0
    assert xero.calls == 0
    # A second evaluation (every posting run) leaves them as they are, untouched.
    before = {e.id: e.updated_at for e in entries(db_session, org)}
    again = ledger.evaluate(db_session, org.id, mapping, chart, context, [EntryState.REVIEW])
    assert again.review == 3
    db_session.expire_all()
    assert {e.id: e.updated_at for e in entries(db_session, org)} == before


def test_approving_a_selection_posts_exactly_those_once(db_session, org, reviewing, rules):
    mapping, chart, context = rules
    record(db_session, org, charges(5))
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    chosen = [by_tid(db_session, org, f"TX000{i}").id for i in (1, 3)]
    assert sorted(review.approve(db_session, org.id, "user:1", chosen)) == sorted(chosen)
    assert review.approve(db_session, org.id, "user:1", chosen) == []  # the second click
    xero = FakeXero()
    assert ledger.post_ready(db_session, org.id, xero, mapping, chart, context).posted == 2
    assert {d["Reference"].split()[-1] for d in xero.documents.values()} == {"TX0001", "TX0003"}
    assert ledger.post_ready(db_session, org.id, xero, mapping, chart, context).posted == 0
    assert sorted(states(db_session, org).values()) == ["posted"] * 2 + ["review"] * 3


def test_approve_all_approves_what_the_page_showed(db_session, org, reviewing, rules):
    mapping, chart, context = rules
    record(db_session, org, charges(3))
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    shown = review.newest_in_review(db_session, org.id)
    later = by_tid(db_session, org, "TX0002")
    later.updated_at = utcnow() + timedelta(seconds=5)  # arrived after the page was shown
    db_session.add(later)
    db_session.commit()
    assert len(review.approve(db_session, org.id, "user:1", as_of=shown)) == 2
    assert states(db_session, org)["TX0002"] == "review"


def test_an_approved_entry_held_for_a_mapping_posts_once_fixed_without_a_second_approval(
    db_session, org, reviewing, rules
):
    mapping, chart, context = rules
    record(db_session, org, charges(2))
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    review.approve(db_session, org.id, "user:1", as_of=review.newest_in_review(db_session, org.id))
    unmapped = replace(mapping, payment_methods=())  # the card's mapping removed meanwhile
    xero = FakeXero()
    counts = ledger.post_ready(db_session, org.id, xero, unmapped, chart, context)
    assert (counts.posted, counts.held) == (0, 2)
    held = by_tid(db_session, org, "TX0000")
    assert held.state == EntryState.HELD
    assert held.reason_code == "unmapped_payment_method"
    counts = ledger.evaluate(db_session, org.id, mapping, chart, context)
    assert (counts.ready, counts.review) == (2, 0)  # approved once: not back to review
    assert ledger.post_ready(db_session, org.id, xero, mapping, chart, context).posted == 2
    assert len(xero.documents) == 2


def test_an_entry_in_review_that_can_no_longer_post_is_held_then_waits_again(
    db_session, org, reviewing, rules
):
    mapping, chart, context = rules
    record(db_session, org, charges(1))
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    unmapped = replace(mapping, payment_methods=())
    ledger.evaluate(db_session, org.id, unmapped, chart, context, [EntryState.REVIEW])
    assert states(db_session, org) == {"TX0000": "held"}
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    assert states(db_session, org) == {"TX0000": "review"}  # never approved: back for review


def test_the_coding_chosen_in_review_is_what_posts(db_session, org, reviewing, rules):
    mapping, chart, context = rules
    record(db_session, org, charges(2))
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    entry = by_tid(db_session, org, "TX0000")
    coding = posting.Coding((posting.LineCoding(account_code="425"),))
    review.set_coding(db_session, org.id, int(entry.id), coding, "user:1")
    assert review.coding_of(db_session, int(entry.id)) == coding
    review.approve(db_session, org.id, "user:1", as_of=review.newest_in_review(db_session, org.id))
    with pytest.raises(review.NotInReview):  # approved: its coding is settled
        review.set_coding(db_session, org.id, int(entry.id), None, "user:1")
    xero = FakeXero()
    ledger.post_ready(db_session, org.id, xero, mapping, chart, context)
    by_reference = {d["Reference"].split()[-1]: d for d in xero.documents.values()}
    assert by_reference["TX0000"]["LineItems"][0]["AccountCode"] == "425"
    assert by_reference["TX0001"]["LineItems"][0]["AccountCode"] == "461"  # as mapped


def test_coding_another_organisations_entry_is_refused(
    db_session, org, reviewing, rules, make_member
):
    mapping, chart, context = rules
    record(db_session, org, charges(1))
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    _, other = make_member("bob", "tenant-other", "Other Ltd")
    entry = by_tid(db_session, org, "TX0000")
    with pytest.raises(review.NotInReview):
        review.set_coding(db_session, other.id, int(entry.id), None, "user:2")
    assert review.approve(db_session, other.id, "user:2", [int(entry.id)]) == []


def test_switching_the_mode_moves_what_it_says(db_session, org, rules):
    mapping, chart, context = rules
    stored = db_session.get(Organisation, org.id)
    record(db_session, org, charges(2))
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    assert set(states(db_session, org).values()) == {"ready"}  # automatic: today's behaviour
    assert review.use_review(db_session, stored, True) == 2  # nothing posts unseen from now on
    assert set(states(db_session, org).values()) == {"review"}
    assert review.use_review(db_session, stored, False) == 0
    record(db_session, org, charges(1, "NEW"))
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    assert states(db_session, org) == {"TX0000": "review", "TX0001": "review", "NEW0000": "ready"}


def test_two_approve_alls_at_once_move_each_entry_once(app, db_session, org, reviewing, rules):
    mapping, chart, context = rules
    record(db_session, org, charges(60))
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    shown = review.newest_in_review(db_session, org.id)
    start = threading.Barrier(2)
    moved: list[list[int]] = []

    def approve_all() -> None:
        with session_scope(app) as session:
            start.wait()
            moved.append(review.approve(session, org.id, "user:1", as_of=shown))

    threads = [threading.Thread(target=approve_all) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first, second = moved
    assert not set(first) & set(second)
    assert len(first) + len(second) == 60
    xero = FakeXero()
    assert ledger.post_ready(db_session, org.id, xero, mapping, chart, context).posted == 60
    assert len(xero.documents) == 60
    assert ledger.counts_by_state(db_session, org.id) == {"posted": 60}
    found = db_session.exec(select(LedgerEntry.state).distinct()).all()
    assert found == [EntryState.POSTED]
