"""The bank-feed guard (issue 14 point 1): a card purchase that may already be in Xero as a
document this app did not create is held as ``possible_duplicate``, linked to that document,
with one look-up per card account and date window per posting run."""

from __future__ import annotations

from datetime import date
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from plugin import ledger
from plugin import posting
from plugin.ledger.bank_feed_guard import BankFeedGuard
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.posting.bank_feed import CardDocument
from plugin.posting.bank_feed import FeedDocument
from plugin.posting.bank_feed import match
from tests.common.amazon_payloads import uk_card_charge
from tests.ledger.test_ledger import FakeXero
from tests.ledger.test_ledger import entries
from tests.ledger.test_ledger import record
from tests.ledger.test_ledger import rules  # noqa: F401 (fixture)


def charge(transaction_id: str, day: str = "2026-03-04") -> dict:
    return uk_card_charge(transaction_id=transaction_id, date=f"{day}T10:15:42.120Z")


def document_of(db_session, org, rules, transaction_id):  # noqa: F811
    mapping, chart, context = rules
    entry = db_session.exec(
        select(LedgerEntry).where(LedgerEntry.amazon_transaction_id == transaction_id)
    ).one()
    return posting.translate(ledger.parsed(entry), mapping, chart, context)


def from_the_bank_feed(xero, document, days_later: int = 2, reference="AMAZON MKTPLACE PMTS"):
    """A spend money a bank rule made from the card's statement line: same account, type and
    total as the purchase, dated when the charge settled; no Url, no tag of ours."""
    day = date.fromisoformat(document.body["Date"]) + timedelta(days=days_later)
    xero.documents[f"feed-{len(xero.documents)}"] = {
        "endpoint": "BankTransactions",
        "Type": document.body["Type"],
        "BankAccount": document.body["BankAccount"],
        "Date": day.isoformat(),
        "Total": str(document.total),
        "Reference": reference,
        "Status": "AUTHORISED",
    }


def test_a_purchase_already_entered_from_the_bank_feed_is_held_and_linked(
    db_session,
    org,
    rules,  # noqa: F811
):
    mapping, chart, context = rules
    record(db_session, org, [charge(f"TX{i:03d}", f"2026-03-{4 + i % 20:02d}") for i in range(60)])
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    xero = FakeXero()
    doubled = document_of(db_session, org, rules, "TX007")
    # Same day (TX027 shares it and the amount: the earlier purchase takes the line).
    from_the_bank_feed(xero, doubled, days_later=0)
    counts = ledger.post_ready(db_session, org.id, xero, mapping, chart, context)
    held = [e for e in entries(db_session, org) if e.state == EntryState.HELD]
    assert [e.amazon_transaction_id for e in held] == ["TX007"]
    assert held[0].reason_code == "possible_duplicate"
    assert held[0].duplicate_of == "feed-0"
    assert "Possibly already in Xero: a spend money transaction of" in held[0].reason
    assert "AMAZON MKTPLACE PMTS" in held[0].reason
    assert counts.posted == 59  # every other purchase, in two batches of 50 and 9
    assert xero.lookups == 1  # one query for the card account, for the whole run


def test_documents_this_app_created_are_never_taken_for_the_bank_feed(
    db_session,
    org,
    rules,  # noqa: F811
):
    """A second purchase of the same amount, posted after the first: the first one's document
    (ours, by its id and its tag) is no reason to hold it."""
    mapping, chart, context = rules
    xero = FakeXero()
    record(db_session, org, [charge("TXA")])
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    ledger.post_ready(db_session, org.id, xero, mapping, chart, context)
    record(db_session, org, [charge("TXB", "2026-03-05")])
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    counts = ledger.post_ready(db_session, org.id, xero, mapping, chart, context)
    assert counts.posted == 1
    assert {e.state for e in entries(db_session, org)} == {EntryState.POSTED}


def test_one_bank_feed_line_stands_for_one_purchase_only(
    db_session,
    org,
    rules,  # noqa: F811
):
    """Two identical purchases, one statement line in Xero: one is held (the nearer date), the
    other is posted (it is the one missing from Xero)."""
    mapping, chart, context = rules
    record(db_session, org, [charge("TXA", "2026-03-04"), charge("TXB", "2026-03-06")])
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    xero = FakeXero()
    from_the_bank_feed(xero, document_of(db_session, org, rules, "TXB"), days_later=1)
    counts = ledger.post_ready(db_session, org.id, xero, mapping, chart, context)
    states = {e.amazon_transaction_id: e.state for e in entries(db_session, org)}
    assert states == {"TXA": EntryState.POSTED, "TXB": EntryState.HELD}
    assert counts.posted == 1


def test_a_purchase_the_user_cleared_is_posted(db_session, org, rules):  # noqa: F811
    mapping, chart, context = rules
    record(db_session, org, [charge("TXA")])
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    xero = FakeXero()
    from_the_bank_feed(xero, document_of(db_session, org, rules, "TXA"))
    ledger.post_ready(db_session, org.id, xero, mapping, chart, context)
    entry = entries(db_session, org)[0]
    assert entry.state == EntryState.HELD
    entry.duplicate_cleared = True  # "It is a different purchase: post it"
    entry.state = EntryState.READY
    db_session.add(entry)
    db_session.commit()
    counts = ledger.post_ready(db_session, org.id, xero, mapping, chart, context)
    assert counts.posted == 1


def test_a_held_duplicate_evaluated_again_is_held_again(db_session, org, rules):  # noqa: F811
    """A mapping change sends held purchases back to be evaluated: the guard holds it again,
    linked to the same document (its own earlier link does not hide the document from it)."""
    mapping, chart, context = rules
    record(db_session, org, [charge("TXA")])
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    xero = FakeXero()
    from_the_bank_feed(xero, document_of(db_session, org, rules, "TXA"))
    ledger.post_ready(db_session, org.id, xero, mapping, chart, context)
    ledger.evaluate(db_session, org.id, mapping, chart, context, (EntryState.HELD,))
    assert entries(db_session, org)[0].state == EntryState.READY
    ledger.post_ready(db_session, org.id, xero, mapping, chart, context)
    entry = entries(db_session, org)[0]
    assert (entry.state, entry.duplicate_of) == (EntryState.HELD, "feed-0")


def card(tid: str, day: int, total: str = "43.18", kind: str = "SPEND", account: str = "code:090"):
    return CardDocument(tid, kind, account, date(2026, 3, day), Decimal(total))


def feed(xero_id: str, day: int, total: str = "43.18", kind: str = "SPEND", account="code:090"):
    return FeedDocument(xero_id, kind, account, date(2026, 3, day), Decimal(total))


@pytest.mark.parametrize(
    ("purchases", "candidates", "taken", "expected"),
    [
        ([card("A", 4)], [feed("X", 8)], (), {"A": "X"}),  # four days apart: still the same
        ([card("A", 4)], [feed("X", 9)], (), {}),  # five: not
        ([card("A", 4)], [feed("X", 4, total="43.19")], (), {}),  # a cent out
        ([card("A", 4)], [feed("X", 4, kind="RECEIVE")], (), {}),  # a refund is not a charge
        ([card("A", 4)], [feed("X", 4, account="code:091")], (), {}),  # another card
        ([card("A", 4)], [feed("X", 5)], ("X",), {}),  # linked to another purchase already
        ([card("A", 2), card("B", 6)], [feed("X", 5)], (), {"B": "X"}),  # the nearer date
        ([card("A", 4), card("B", 4)], [feed("X", 5)], (), {"A": "X"}),  # then the earlier one
        ([card("A", 4), card("B", 4)], [feed("X", 5), feed("Y", 3)], (), {"A": "X", "B": "Y"}),
    ],
)
def test_match(purchases, candidates, taken, expected):
    found = match(purchases, candidates, taken)
    assert {t: c.xero_id for t, c in found.items()} == expected


class DictCache:
    """A FeedCache in memory (Redis in the app: plugin.work.bank_feed_cache)."""

    def __init__(self) -> None:
        self.states: dict = {}

    def load(self, account):
        return self.states.get(account)

    def save(self, account, state):
        self.states[account] = state


def test_later_runs_ask_only_for_what_changed_and_still_see_the_line(
    db_session,
    org,
    rules,  # noqa: F811
):
    """A large import posts over many runs (the rate limit): each run after the first asks
    Xero for the account's documents changed since the last look, not the whole window, and
    still holds the purchase that matches a line seen by an earlier run; a line deleted since
    is forgotten."""
    mapping, chart, context = rules
    cache = DictCache()
    record(db_session, org, [charge("TXA", "2026-03-04")])
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    xero = FakeXero()
    feed_doc = document_of(db_session, org, rules, "TXA")
    ledger.post_ready(db_session, org.id, xero, mapping, chart, context, feed_cache=cache)
    assert xero.since is None  # the first look reads the window in full
    from_the_bank_feed(xero, feed_doc, days_later=1)  # a statement line arrives afterwards
    record(db_session, org, [charge("TXB", "2026-03-04")])
    ledger.evaluate(db_session, org.id, mapping, chart, context)

    class OnlyChanged(FakeXero):
        """Answers an If-Modified-Since look with what changed: here, the new line only."""

    later = OnlyChanged()
    later.documents = xero.documents
    ledger.post_ready(db_session, org.id, later, mapping, chart, context, feed_cache=cache)
    assert later.since is not None  # only what changed since the first run's look
    states = {e.amazon_transaction_id: e.state for e in entries(db_session, org)}
    assert states == {"TXA": EntryState.POSTED, "TXB": EntryState.HELD}
    (state,) = cache.states.values()
    assert list(state["docs"]) == ["feed-1"]  # the statement line, not our own document
    later.documents["feed-1"]["Status"] = "DELETED"  # the user deleted the bank rule's copy
    held = next(e for e in entries(db_session, org) if e.amazon_transaction_id == "TXB")
    held.state, held.duplicate_of = EntryState.READY, None
    db_session.add(held)
    db_session.commit()
    ledger.post_ready(db_session, org.id, later, mapping, chart, context, feed_cache=cache)
    assert {e.state for e in entries(db_session, org)} == {EntryState.POSTED}
    assert next(iter(cache.states.values()))["docs"] == {}


def test_a_guard_given_the_import_range_looks_once_whatever_the_pages(
    db_session,
    org,
    rules,  # noqa: F811
):
    """An import posting as it fetches calls the guard after each page, each page's purchases
    on other dates: with the import's range as its span, the first look covers every page (one
    look-up per card account), and a line dated by a later page is still found. Without the
    span, each page outside the window so far costs another look-up."""
    mapping, chart, context = rules
    pages = [["TXA"], ["TXB"], ["TXC"]]
    days = {"TXA": "2026-03-04", "TXB": "2026-02-10", "TXC": "2026-03-28"}

    def run(span):
        xero = FakeXero()
        guard = BankFeedGuard(db_session, org.id, xero, span=span) if span else None
        for page in pages:
            record(db_session, org, [charge(tid + str(bool(span)), days[tid]) for tid in page])
            ledger.evaluate(db_session, org.id, mapping, chart, context)
            ledger.post_ready(db_session, org.id, xero, mapping, chart, context, guard=guard)
        return xero.lookups

    assert run(span=(date(2026, 2, 1), date(2026, 3, 31))) == 1
    assert run(span=None) == 3  # the old way: one per page outside the window (the cost seen)
