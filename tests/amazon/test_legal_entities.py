"""Legal entities of an Amazon Business account in the database (issue 16 point 3): one
organisation per legal entity at most, held by the database itself (SQLite and PostgreSQL),
taken by itself for an organisation alone on its account, and shown to members of other
organisations without naming what they may not see."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from plugin import ledger
from plugin.amazon import legal_entities as store
from plugin.amazon.legal_entity_table import LegalEntity
from plugin.db import session_scope
from plugin.models import AmazonConnection
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import Membership
from plugin.posting import Document
from plugin.posting import PostingContext
from plugin.posting import translate
from plugin.posting.legal_entities import IN_OTHER_BOOKS
from plugin.posting.legal_entities import NOT_TAKEN
from plugin.posting.legal_entities import OTHER_ORGANISATION
from tests.common.amazon_payloads import uk_card_charge
from tests.common.charts import chart_of
from tests.common.charts import mapping_of
from tests.common.charts import uk_chart
from tests.common.charts import uk_mapping

KEY = "payer:amzn1.account.PAYER"
LTD, SCOT = "Thames Stationery Ltd", "Thames Stationery (Scotland) Ltd"


@pytest.fixture
def two_orgs(db_session, make_member):
    """Two organisations of two different users, both connected to the account (UK store)."""
    alice, thames = make_member("alice", "tenant-thames", "Thames Stationery Ltd")
    bob, scotland = make_member("bob", "tenant-scot", "Thames Scotland Books")
    for org in (thames, scotland):
        db_session.add(
            AmazonConnection(
                organisation_id=org.id,
                name="Amazon Business UK",
                store="UK",
                region="EU",
                account_key=KEY,
            )
        )
    db_session.commit()
    return (alice, thames), (bob, scotland)


def test_the_database_refuses_a_second_row_for_one_legal_entity(db_session, two_orgs):
    (_, thames), (_, scotland) = two_orgs
    db_session.add(LegalEntity(account_key=KEY, name=SCOT, organisation_id=thames.id))
    db_session.commit()
    db_session.add(LegalEntity(account_key=KEY, name=SCOT, organisation_id=scotland.id))
    with pytest.raises(IntegrityError):
        db_session.commit()
    db_session.rollback()
    owners = db_session.exec(select(LegalEntity.organisation_id)).all()
    assert owners == [thames.id]


def test_of_two_organisations_taking_one_entity_at_once_one_wins(app, db_session, two_orgs):
    """Both read it untaken; the database's conditional update lets only the first through."""
    (_, thames), (_, scotland) = two_orgs
    db_session.add(LegalEntity(account_key=KEY, name=SCOT))
    db_session.commit()
    with session_scope(app) as first, session_scope(app) as second:
        seen_first = first.exec(select(LegalEntity)).one()
        seen_second = second.exec(select(LegalEntity)).one()
        assert seen_first.organisation_id is None is seen_second.organisation_id
        assert store.take(first, thames.id, SCOT, "alice") is True
        with pytest.raises(store.EntityTaken) as refused:
            store.take(second, scotland.id, SCOT, "bob")
    assert "already taken by another Xero organisation" in refused.value.message
    assert "Thames Stationery Ltd" not in refused.value.message.replace(SCOT, "")
    db_session.expire_all()
    assert db_session.exec(select(LegalEntity)).one().organisation_id == thames.id


def test_released_it_can_be_taken_by_the_other(db_session, two_orgs):
    (_, thames), (_, scotland) = two_orgs
    db_session.add(LegalEntity(account_key=KEY, name=SCOT, organisation_id=thames.id))
    db_session.commit()
    assert store.release(db_session, scotland.id, SCOT, "bob") is False  # not its own
    assert store.release(db_session, thames.id, SCOT, "alice") is True
    assert store.take(db_session, scotland.id, SCOT, "bob") is True
    assert store.takers(db_session, KEY) == {SCOT: scotland.id}


def test_an_organisation_alone_on_its_account_takes_what_it_sees(db_session, make_member):
    _, org = make_member()
    db_session.add(
        AmazonConnection(organisation_id=org.id, store="UK", region="EU", account_key=KEY)
    )
    db_session.commit()
    store.note_seen(db_session, KEY, org.id, {LTD, SCOT})
    assert store.takers(db_session, KEY) == {LTD: org.id, SCOT: org.id}


def test_once_an_account_is_shared_a_new_entity_waits_to_be_chosen(db_session, two_orgs):
    _, (_, scotland) = two_orgs
    store.note_seen(db_session, KEY, scotland.id, {SCOT})
    assert store.takers(db_session, KEY) == {SCOT: None}
    scope = store.scope_for(db_session, scotland.id)
    assert scope is not None
    assert SCOT not in scope.taken_here


def test_another_organisation_is_named_only_to_its_members(db_session, two_orgs):
    (alice, thames), (bob, scotland) = two_orgs
    db_session.add(LegalEntity(account_key=KEY, name=LTD, organisation_id=thames.id))
    db_session.add(LegalEntity(account_key=KEY, name=SCOT))
    db_session.commit()
    for_bob = {row.name: row for row in store.rows_for(db_session, scotland.id, bob.id)}
    assert for_bob[LTD].taken_elsewhere
    assert for_bob[LTD].other_name is None  # bob is not a member of Thames
    assert for_bob[SCOT].untaken
    # alice becomes a member of the Scotland organisation too: she may see Thames's name.
    db_session.add(Membership(user_id=alice.id, organisation_id=scotland.id))
    db_session.commit()
    for_alice = {row.name: row for row in store.rows_for(db_session, scotland.id, alice.id)}
    assert for_alice[LTD].other_name == "Thames Stationery Ltd"


def _entry(org_id, tid, entity, state=EntryState.HELD, code=NOT_TAKEN):
    return LedgerEntry(
        organisation_id=org_id,
        amazon_transaction_id=tid,
        transaction_type="CHARGE",
        amount="10.00",
        currency="GBP",
        raw_payload={"transactionId": tid, "legalEntityName": entity},
        state=state,
        reason_code=code,
    )


def test_copies_held_for_an_untaken_entity_leave_when_its_taker_has_them(db_session, two_orgs):
    (_, thames), (_, scotland) = two_orgs
    db_session.add(LegalEntity(account_key=KEY, name=SCOT))
    db_session.add_all(
        [
            _entry(thames.id, "T1", SCOT),  # held at Thames: Scotland not taken there
            _entry(thames.id, "T2", SCOT),  # ... but Scotland never imported T2
            _entry(scotland.id, "T1", SCOT),
            _entry(thames.id, "T3", LTD, state=EntryState.POSTED, code=None),
            _entry(scotland.id, "T3", LTD),
        ]
    )
    db_session.commit()
    scope = store.scope_for(db_session, scotland.id, ["T1", "T3"])
    assert scope is not None
    assert scope.in_other_books == {"T3"}  # posted at Thames; T1 is only held there
    assert store.take(db_session, scotland.id, SCOT, "bob") is True
    left = db_session.exec(
        select(LedgerEntry.organisation_id, LedgerEntry.amazon_transaction_id)
    ).all()
    assert sorted(left) == sorted(
        [(thames.id, "T2"), (scotland.id, "T1"), (thames.id, "T3"), (scotland.id, "T3")]
    )


def _charge(org_id, tid, entity, state=EntryState.FETCHED, **fields):
    raw = uk_card_charge(transactionId=tid, legalEntityName=entity)
    return LedgerEntry(
        organisation_id=org_id,
        amazon_transaction_id=tid,
        transaction_type="CHARGE",
        amount="43.18",
        currency="GBP",
        raw_payload=raw,
        state=state,
        **fields,
    )


def test_an_entity_moved_after_posting_never_posts_its_purchases_twice(db_session, two_orgs):
    """Thames posted T1 while it took Scotland, then gave Scotland up; the Scotland organisation
    takes it and evaluates its copy of T1: held, already in another organisation's books. Its
    own new purchase T2 is ready. Thames, meanwhile, holds its unposted T3 as no longer taken
    but still corrects its posted T1 (Amazon's changes go to the document where it is)."""
    (_, thames), (_, scotland) = two_orgs
    db_session.add(LegalEntity(account_key=KEY, name=SCOT, organisation_id=scotland.id))
    db_session.add_all(
        [
            _charge(thames.id, "T1", SCOT, EntryState.POSTED, xero_document_id="doc-1"),
            _charge(thames.id, "T3", SCOT),
            _charge(scotland.id, "T1", SCOT),
            _charge(scotland.id, "T2", SCOT),
        ]
    )
    db_session.commit()
    mapping, chart = mapping_of(uk_mapping()), chart_of(uk_chart())
    ledger.evaluate(db_session, scotland.id, mapping, chart, PostingContext())
    ledger.evaluate(db_session, thames.id, mapping, chart, PostingContext())
    db_session.expire_all()
    rows = db_session.exec(select(LedgerEntry)).all()
    outcome = {(e.organisation_id, e.amazon_transaction_id): (e.state, e.reason_code) for e in rows}
    assert outcome[(scotland.id, "T1")] == (EntryState.HELD, IN_OTHER_BOOKS)
    assert outcome[(scotland.id, "T2")] == (EntryState.READY, None)
    assert outcome[(thames.id, "T3")] == (EntryState.HELD, OTHER_ORGANISATION)
    assert outcome[(thames.id, "T1")] == (EntryState.POSTED, None)
    posted = [e for e in rows if e.amazon_transaction_id == "T1" and e.organisation_id == thames.id]
    context = ledger.context_for(db_session, thames.id, posted, PostingContext())
    assert isinstance(translate(ledger.parsed(posted[0]), mapping, chart, context), Document)
