"""The entries list finds purchases by the buyer's purchase order number and name (part of it,
any case), within the organisation only; each row shows them."""

from __future__ import annotations

import pytest

from plugin.manage.entries import EntryFilter
from plugin.manage.entries import list_entries
from plugin.models import OnboardingStep
from tests.common.amazon_payloads import uk_card_charge
from tests.common.amazon_payloads import uk_line
from tests.common.onboarding import HX
from tests.common.onboarding import make_org
from tests.common.onboarding import record
from tests.common.onboarding import text_of


def charge(tid: str, po: str, buyer: str) -> dict:
    return uk_card_charge(
        transaction_id=tid,
        lines=[
            uk_line(purchaseOrderNumber=po),
            uk_line(order_line_item_id="2", purchaseOrderNumber=""),
        ],
        buyer={"id": "amzn1.account.B", "name": buyer, "email": "b@example.com"},
    )


@pytest.fixture
def org_with_buyers(app, client, make_member, db_session, sign_in):
    user, org = make_org(make_member, db_session, step=OnboardingStep.DONE)
    record(
        app,
        org.id,
        [
            charge("TX-A", "PO-7781", "Jane Buyer"),
            charge("TX-B", "PO-1200", "Sam_Patel"),
            charge("TX-C", "", "Jane Buyer"),
        ],
    )
    _, other = make_org(
        make_member, db_session, user="mallory", tenant="tenant-other", step=OnboardingStep.DONE
    )
    record(app, other.id, [charge("TX-OTHER", "PO-7781", "Jane Buyer")])
    sign_in(client, user)
    return org


def ids(session, org_id, **wanted) -> list[str]:
    page = list_entries(session, org_id, EntryFilter(state="all", **wanted))
    return sorted(row.amazon_transaction_id for row in page.rows)


@pytest.mark.parametrize(
    ("wanted", "found"),
    [
        ({"purchase_order": "po-7781"}, ["TX-A"]),
        ({"purchase_order": "PO-"}, ["TX-A", "TX-B"]),
        ({"buyer": "jane"}, ["TX-A", "TX-C"]),
        ({"buyer": "jane", "purchase_order": "7781"}, ["TX-A"]),
        ({"buyer": "_"}, ["TX-B"]),  # a LIKE wildcard is matched as itself
        ({"purchase_order": "PO-9999"}, []),
        ({}, ["TX-A", "TX-B", "TX-C"]),
    ],
)
def test_the_list_filters_by_purchase_order_and_buyer(db_session, org_with_buyers, wanted, found):
    assert ids(db_session, org_with_buyers.id, **wanted) == found


def test_the_page_filters_and_shows_them(client, org_with_buyers):
    url = f"/orgs/{org_with_buyers.id}/manage/entries"
    page = text_of(client.get(url, query_string={"state": "all", "po": "7781"}, headers=HX))
    assert "TX-A" in page
    assert "TX-B" not in page
    assert "TX-OTHER" not in page
    assert "PO PO-7781 · bought by Jane Buyer" in page
    assert 'value="7781"' in page
    nothing = text_of(
        client.get(url, query_string={"state": "attention", "buyer": "Nobody"}, headers=HX)
    )
    assert "matching the purchase order or buyer" in nothing
