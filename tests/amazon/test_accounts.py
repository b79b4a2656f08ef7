"""Which Amazon Business account a connection belongs to: one account per organisation; several
organisations of one account share its key (issue 16 point 3)."""

from __future__ import annotations

import pytest

from plugin.amazon.accounts import AccountConflict
from plugin.amazon.accounts import AccountIdentity
from plugin.amazon.accounts import claim_account
from plugin.amazon.accounts import identify_account
from plugin.amazon.models import parse_transaction
from plugin.models import AmazonConnection
from tests.common.amazon_payloads import transaction


def tx(payer="amzn1.account.PAYER", buyer="amzn1.account.BUYER", entity="Thames Stationery Ltd"):
    raw = transaction(legalEntityName=entity)
    raw["payer"] = {"id": payer, "name": "Eleanor"} if payer else None
    raw["buyer"] = {"id": buyer, "name": "Callum"} if buyer else None
    if raw["payer"] is None:
        del raw["payer"]
    if raw["buyer"] is None:
        del raw["buyer"]
    parsed = parse_transaction(raw)
    assert not hasattr(parsed, "reason"), parsed
    return parsed


def test_identity_is_anchored_on_the_most_frequent_payer():
    identity = identify_account(
        [
            tx(payer="amzn1.account.B", entity="Thames Stationery (Scotland) Ltd"),
            tx(payer="amzn1.account.A", buyer="amzn1.account.C"),
            tx(payer="amzn1.account.A"),
        ]
    )
    assert identity.key == "payer:amzn1.account.A"
    assert identity.payer_ids == {"amzn1.account.A", "amzn1.account.B"}
    assert identity.buyer_ids == {"amzn1.account.BUYER", "amzn1.account.C"}
    assert identity.legal_entities == {
        "Thames Stationery Ltd",
        "Thames Stationery (Scotland) Ltd",
    }
    assert AccountIdentity.from_json(identity.to_json()) == identity


def test_identity_without_payers_falls_back_to_buyers_and_none_without_either():
    assert identify_account([tx(payer=None, buyer="amzn1.account.Z")]).key == (
        "buyer:amzn1.account.Z"
    )
    assert identify_account([tx(payer=None, buyer=None)]) is None
    assert identify_account([]) is None


def test_ties_are_broken_the_same_way_every_time():
    one = identify_account([tx(payer="amzn1.account.B"), tx(payer="amzn1.account.A")])
    two = identify_account([tx(payer="amzn1.account.A"), tx(payer="amzn1.account.B")])
    assert one.key == two.key == "payer:amzn1.account.A"


@pytest.fixture
def connect(db_session, make_member):
    """``connect(org, store)`` → a saved AmazonConnection."""

    def make(org, store="UK"):
        connection = AmazonConnection(
            organisation_id=org.id, name=f"Amazon Business {store}", store=store, region="EU"
        )
        db_session.add(connection)
        db_session.commit()
        return connection

    return make


def test_claim_records_the_identity(db_session, make_member, connect):
    _, org = make_member()
    uk = connect(org)
    identity = identify_account([tx()])
    claim_account(db_session, uk, identity)
    db_session.commit()
    db_session.expire_all()
    stored = db_session.get(AmazonConnection, uk.id)
    assert stored.account_key == "payer:amzn1.account.PAYER"
    assert AccountIdentity.from_json(stored.account_identity).payer_ids == {"amzn1.account.PAYER"}


def test_nothing_to_claim_is_a_no_op(db_session, make_member, connect):
    _, org = make_member()
    uk = connect(org)
    assert claim_account(db_session, uk, identify_account([])) is None
    assert uk.account_key is None


def test_a_second_store_of_the_same_account_shares_the_key(db_session, make_member, connect):
    _, org = make_member()
    uk, de = connect(org, "UK"), connect(org, "DE")
    claim_account(db_session, uk, identify_account([tx(payer="amzn1.account.P1")]))
    # DE's most frequent payer differs, but a shared buyer proves it is the same account.
    claim_account(
        db_session,
        de,
        identify_account(
            [tx(payer="amzn1.account.P2", buyer="amzn1.account.BUYER")] * 2
            + [tx(payer="amzn1.account.P1")]
        ),
    )
    db_session.commit()
    assert de.account_key == uk.account_key == "payer:amzn1.account.P1"


def test_a_store_of_a_different_account_in_the_same_org_is_refused(
    db_session, make_member, connect
):
    _, org = make_member()
    uk, de = connect(org, "UK"), connect(org, "DE")
    claim_account(db_session, uk, identify_account([tx()]))
    other = identify_account(
        [tx(payer="amzn1.account.OTHER", buyer="amzn1.account.OTHERB", entity="Hudson Design LLC")]
    )
    with pytest.raises(AccountConflict, match="different Amazon Business account") as caught:
        claim_account(db_session, de, other)
    assert "Hudson Design LLC" in caught.value.message
    assert "Amazon Business UK" in caught.value.message
    assert de.account_key is None


def test_a_second_org_on_the_same_account_shares_its_key(db_session, make_member, connect):
    """Issue 16 point 3: several organisations may connect one Amazon Business account (each
    takes its own legal entities), so the second one adopts the first one's key."""
    _, thames = make_member("alice", "tenant-thames", "Thames Stationery Ltd")
    _, scotland = make_member("bob", "tenant-scot", "Thames Stationery (Scotland) Ltd")
    first = connect(thames)
    claim_account(db_session, first, identify_account([tx()]))
    db_session.commit()
    second = connect(scotland)
    # Its most frequent payer differs; a shared buyer shows it is the same account.
    claim_account(
        db_session,
        second,
        identify_account([tx(payer="amzn1.account.X", buyer="amzn1.account.BUYER")]),
    )
    db_session.commit()
    assert second.account_key == first.account_key


def test_a_store_reconnected_to_another_account_is_refused(db_session, make_member, connect):
    _, org = make_member()
    uk = connect(org)
    claim_account(db_session, uk, identify_account([tx()]))
    with pytest.raises(AccountConflict, match="from the one it was connected to"):
        claim_account(
            db_session, uk, identify_account([tx(payer="amzn1.account.N", buyer="amzn1.account.M")])
        )


def test_later_claims_extend_the_identity(db_session, make_member, connect):
    _, org = make_member()
    uk = connect(org)
    claim_account(db_session, uk, identify_account([tx()]))
    merged = claim_account(
        db_session,
        uk,
        identify_account([tx(payer="amzn1.account.NEWPAYER")]),  # shares the buyer
    )
    assert merged.payer_ids == {"amzn1.account.PAYER", "amzn1.account.NEWPAYER"}
    assert uk.account_key == "payer:amzn1.account.PAYER"
