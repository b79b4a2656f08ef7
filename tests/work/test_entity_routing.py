"""Routing an imported page by legal entity (``plugin.work.entity_routing``), on the database:
what the organisation taking an entity imports is left to it; what nobody takes is kept (and
held); what this organisation recorded before keeps coming here (Amazon's changes)."""

from __future__ import annotations

from sqlmodel import select

from plugin.amazon.legal_entity_table import LegalEntity
from plugin.amazon.models import TransactionsPage
from plugin.amazon.models import parse_transaction
from plugin.models import AmazonConnection
from plugin.models import AuditEvent
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.work.entity_routing import EntityRouting
from tests.common.amazon_payloads import uk_card_charge

KEY = "payer:amzn1.account.PAYER"
LTD, SCOT, IRL = "Thames Stationery Ltd", "Thames Stationery (Scotland) Ltd", "Thames Ireland"


def page_of(*pairs: tuple[str, str]) -> TransactionsPage:
    items = tuple(
        parse_transaction(uk_card_charge(transactionId=tid, legalEntityName=entity))
        for tid, entity in pairs
    )
    return TransactionsPage(transactions=items, failures=(), next_page_token=None, in_order=items)


def test_a_page_keeps_only_what_belongs_here(db_session, make_member):
    _, thames = make_member("alice", "tenant-thames", "Thames Stationery Ltd")
    _, scotland = make_member("fiona", "tenant-scot", "Thames Stationery (Scotland) Ltd")
    connections = {}
    for org in (thames, scotland):
        connections[org.id] = AmazonConnection(
            organisation_id=org.id, store="UK", region="EU", account_key=KEY
        )
        db_session.add(connections[org.id])
    db_session.add(LegalEntity(account_key=KEY, name=LTD, organisation_id=thames.id))
    db_session.add(LegalEntity(account_key=KEY, name=SCOT, organisation_id=scotland.id))
    # T9: recorded (and posted) by Thames while it took Scotland.
    db_session.add(
        LedgerEntry(
            organisation_id=thames.id,
            amazon_transaction_id="T9",
            transaction_type="CHARGE",
            amount="43.18",
            currency="GBP",
            raw_payload={},
            state=EntryState.POSTED,
        )
    )
    db_session.commit()
    routing = EntityRouting(db_session, thames.id, connections[thames.id])
    page = routing.route(page_of(("T1", LTD), ("T2", SCOT), ("T3", IRL), ("T9", SCOT)))
    assert [t.transaction_id for t in page.transactions] == ["T1", "T3", "T9"]
    assert [t.transaction_id for t in page.in_order] == ["T1", "T3", "T9"]
    assert routing.here == ["T1"]
    assert routing.left == {SCOT: 1}
    # IRL is new; the account is shared, so nobody takes it by itself.
    assert db_session.get(LegalEntity, 3).name == IRL
    assert db_session.get(LegalEntity, 3).organisation_id is None
    routing.finish()
    db_session.commit()
    audit = db_session.exec(select(AuditEvent)).all()
    assert [e.detail["legal_entities"] for e in audit if e.action.startswith("import_left")] == [
        {SCOT: 1}
    ]
