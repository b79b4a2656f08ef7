"""The ledger entry page Xero documents link to: state and reason in plain words, the Xero
document, amounts and line items; members only."""

from __future__ import annotations

import pytest
from sqlmodel import select

from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import OnboardingStep
from tests.views.test_onboarding_helpers import make_org
from tests.views.test_onboarding_helpers import record
from tests.views.test_onboarding_helpers import text_of
from tests.views.test_onboarding_helpers import uk_transactions


@pytest.fixture
def ledger_org(app, client, make_member, db_session, sign_in):
    user, org = make_org(make_member, db_session, step=OnboardingStep.DONE)
    record(app, org.id, uk_transactions())
    sign_in(client, user)
    return org


def entry(db_session, org_id, transaction_id):
    return db_session.exec(
        select(LedgerEntry).where(
            LedgerEntry.organisation_id == org_id,
            LedgerEntry.amazon_transaction_id == transaction_id,
        )
    ).one()


def test_posted_entry_shows_its_xero_document_amounts_and_lines(client, ledger_org, db_session):
    posted = entry(db_session, ledger_org.id, "TX-CARD-1")
    posted.state = EntryState.POSTED
    posted.xero_document_type = "BankTransactions"
    posted.xero_document_id = "5e1f7f0a-0000-4000-8000-000000000001"
    posted.xero_reference = "203-9277085-5441169 TX-CARD-1"
    db_session.add(posted)
    db_session.commit()
    response = client.get(f"/orgs/{ledger_org.id}/entries/TX-CARD-1")
    page = text_of(response)
    assert response.status_code == 200
    assert "Transaction TX-CARD-1" in page
    assert "Posted to Xero." in page
    assert "Bank transaction (spend or receive money)" in page
    assert "5e1f7f0a-0000-4000-8000-000000000001" in page
    assert "GBP 43.18" in page
    assert "Visa ending 4242" in page
    assert "Pencils, #2, 18-Count" in page
    assert "shipping 2.99, discount -2.99" in page
    assert "20%" in page


def test_held_entry_shows_the_reason_in_plain_words(client, ledger_org, db_session):
    held = entry(db_session, ledger_org.id, "TX-AMEX-1")
    held.state = EntryState.HELD
    held.reason_code = "unmapped_payment_method"
    held.reason = "American Express ending 1005 is not mapped yet: map it in Manage Integrations."
    db_session.add(held)
    db_session.commit()
    page = text_of(client.get(f"/orgs/{ledger_org.id}/entries/TX-AMEX-1"))
    assert "Held" in page
    assert "something needs your attention" in page
    assert "American Express ending 1005 is not mapped yet" in page
    assert "Not in Xero yet" in page


def test_unknown_transaction_is_404(client, ledger_org):
    assert client.get(f"/orgs/{ledger_org.id}/entries/NOPE").status_code == 404


def test_only_members_see_an_entry(app, make_member, db_session, ledger_org, sign_in):
    stranger, _ = make_org(make_member, db_session, user="eve", tenant="tenant-eve")
    other = sign_in(app.test_client(), stranger)
    response = other.get(f"/orgs/{ledger_org.id}/entries/TX-CARD-1")
    assert response.status_code == 404
    assert "TX-CARD-1" not in text_of(response)
    signed_out = app.test_client().get(f"/orgs/{ledger_org.id}/entries/TX-CARD-1")
    assert signed_out.status_code == 302  # to sign in, then back here
    assert "next=" in signed_out.headers["Location"]
