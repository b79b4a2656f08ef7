"""The ledger entry page Xero documents link to: state and reason in plain words, the Xero
document, amounts and line items; members only."""

from __future__ import annotations

import pytest
from sqlmodel import select

from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import OnboardingStep
from tests.common.onboarding import make_org
from tests.common.onboarding import record
from tests.common.onboarding import text_of
from tests.common.onboarding import uk_transactions


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
    assert "<h1" in page
    assert "Pencils, #2, 18-Count from Amazon.com Services LLC</h1>" in page
    assert "<strong>GBP 43.18</strong> · 4 Mar 2026" in page
    assert "TX-CARD-1" in page  # still shown, below the heading
    assert "Posted to Xero." in page
    assert "Bank transaction (spend or receive money)" in page
    assert "5e1f7f0a-0000-4000-8000-000000000001" in page
    assert "2026-03-04" not in page  # dates as every page writes them
    assert "GBP 43.18" in page
    assert "Visa ending 4242" in page
    assert "Pencils, #2, 18-Count" in page
    assert "shipping 2.99, discount -2.99" in page
    assert "20%" in page


def test_a_card_bill_shows_its_payment_and_the_rate_xero_used(client, ledger_org, db_session):
    from datetime import date
    from decimal import Decimal

    from plugin.work.card_payment_model import CardPayment
    from plugin.work.card_payment_model import CardPaymentState

    posted = entry(db_session, ledger_org.id, "TX-CARD-1")
    posted.state = EntryState.POSTED
    posted.xero_document_type = "Invoices"
    posted.xero_document_id = "5e1f7f0a-0000-4000-8000-000000000002"
    posted.settlement_state = "card_paid"
    db_session.add(posted)
    db_session.commit()
    page = text_of(client.get(f"/orgs/{ledger_org.id}/entries/TX-CARD-1"))
    assert "Rate used" not in page  # no payment recorded: nothing to show
    db_session.add(
        CardPayment(
            organisation_id=ledger_org.id,
            ledger_entry_id=posted.id,
            target="Invoices",
            xero_document_id=posted.xero_document_id,
            account={"Code": "800"},
            payment_date=date(2026, 3, 4),
            amount=Decimal("474.81"),
            currency="EUR",
            account_currency="GBP",
            idempotency_key="k-entry-page",
            state=CardPaymentState.PAID,
            xero_payment_id="9a8b7c6d-0000-4000-8000-000000000003",
            currency_rate=Decimal("1.163412"),
            bank_amount=Decimal("408.12"),
        )
    )
    db_session.commit()
    page = text_of(client.get(f"/orgs/{ledger_org.id}/entries/TX-CARD-1"))
    assert "Paid from the card account" in page
    assert "1 GBP = 1.163412 EUR" in page
    assert "GBP 408.12" in page
    assert "EUR 474.81" in page
    assert "9a8b7c6d-0000-4000-8000-000000000003" in page


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


# --- Posted by hand ------------------------------------------------------------------------------


def hold(db_session, org_id, transaction_id, state=EntryState.HELD):
    held = entry(db_session, org_id, transaction_id)
    held.state = state
    held.reason_code = "bank_account_currency"
    held.reason = "Map this payment method to a EUR account, or post it by hand."
    db_session.add(held)
    db_session.commit()
    return held


def test_a_held_entry_can_be_marked_posted_by_hand(app, client, ledger_org, db_session):
    from plugin.models import AuditEvent

    held = hold(db_session, ledger_org.id, "TX-AMEX-1")
    page = text_of(client.get(f"/orgs/{ledger_org.id}/entries/TX-AMEX-1"))
    assert "I posted it in Xero by hand" in page
    response = client.post(f"/orgs/{ledger_org.id}/entries/TX-AMEX-1/posted-by-hand")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/orgs/{ledger_org.id}/entries/TX-AMEX-1")
    db_session.refresh(held)
    assert held.state == EntryState.BY_HAND
    assert held.reason_code == "posted_by_hand"
    assert held.reason.startswith("Posted in Xero by hand (marked by ")
    assert held.reason.endswith(
        "It had been held: Map this payment method to a EUR account, or post it by hand."
    )
    page = text_of(client.get(f"/orgs/{ledger_org.id}/entries/TX-AMEX-1"))
    assert "Marked as posted by hand. This app will never post it." in page
    assert "Posted by hand" in page
    assert "It is not in Xero: post it" in page
    assert "Posted by hand, not linked here" in page
    assert "Not in Xero yet" not in page
    assert "I posted it in Xero by hand" not in page
    events = db_session.exec(
        select(AuditEvent).where(AuditEvent.action == "entry_posted_by_hand")
    ).all()
    assert [e.detail["transaction"] for e in events] == ["TX-AMEX-1"]
    assert events[0].actor.startswith("user:")
    listing = text_of(client.get(f"/orgs/{ledger_org.id}/manage/entries?state=by_hand"))
    assert "Posted by hand" in listing
    assert f"/orgs/{ledger_org.id}/entries/TX-AMEX-1" in listing
    status = text_of(client.get(f"/orgs/{ledger_org.id}/manage/status"))
    assert "(+1 by hand)" in status
    attention = text_of(client.get(f"/orgs/{ledger_org.id}/manage/entries"))
    assert f"/orgs/{ledger_org.id}/entries/TX-AMEX-1" not in attention


def test_only_held_or_failed_entries_can_be_marked(client, ledger_org, db_session):
    ready = hold(db_session, ledger_org.id, "TX-CARD-1", state=EntryState.READY)
    page = text_of(client.get(f"/orgs/{ledger_org.id}/entries/TX-CARD-1"))
    assert "I posted it in Xero by hand" not in page
    client.post(f"/orgs/{ledger_org.id}/entries/TX-CARD-1/posted-by-hand")
    db_session.refresh(ready)
    assert ready.state == EntryState.READY
    page = text_of(client.get(f"/orgs/{ledger_org.id}/entries/TX-CARD-1"))
    assert "Nothing changed: this purchase is no longer held" in page
    failed = hold(db_session, ledger_org.id, "TX-AMEX-1", state=EntryState.FAILED)
    client.post(f"/orgs/{ledger_org.id}/entries/TX-AMEX-1/posted-by-hand")
    db_session.refresh(failed)
    assert failed.state == EntryState.BY_HAND
    assert "It had been refused by Xero: " in failed.reason


def test_taking_the_mark_back_queues_posting(app, client, ledger_org, db_session):
    from plugin.infra.queues import get_queue

    held = hold(db_session, ledger_org.id, "TX-AMEX-1")
    client.post(f"/orgs/{ledger_org.id}/entries/TX-AMEX-1/posted-by-hand")
    response = client.post(f"/orgs/{ledger_org.id}/entries/TX-AMEX-1/posted-by-hand/undo")
    assert response.status_code == 302
    db_session.refresh(held)
    assert (held.state, held.reason_code, held.reason) == (EntryState.FETCHED, None, None)
    assert f"retry-{ledger_org.id}" in get_queue("high", app).job_ids
    page = text_of(client.get(f"/orgs/{ledger_org.id}/entries/TX-AMEX-1"))
    assert "The mark is taken back" in page
    again = client.post(f"/orgs/{ledger_org.id}/entries/TX-AMEX-1/posted-by-hand/undo")
    assert again.status_code == 302
    assert "Nothing changed: this purchase is not marked" in text_of(client.get(again.location))


def test_another_orgs_member_cannot_mark_an_entry(
    app, make_member, db_session, ledger_org, sign_in
):
    held = hold(db_session, ledger_org.id, "TX-AMEX-1")
    stranger, _ = make_org(make_member, db_session, user="eve", tenant="tenant-eve")
    other = sign_in(app.test_client(), stranger)
    assert other.post(f"/orgs/{ledger_org.id}/entries/TX-AMEX-1/posted-by-hand").status_code == 404
    db_session.refresh(held)
    assert held.state == EntryState.HELD


def test_the_page_shows_the_charge_identifier(client, ledger_org, db_session):
    """Amazon's chargeIdentifier ties a purchase to its card statement line: stored at import,
    shown on the entry page (issue 13 point 7)."""
    posted = entry(db_session, ledger_org.id, "TX-CARD-1")
    assert posted.charge_identifier == "RA5RE0N60"  # from the payload's chargeIdentifier
    page = text_of(client.get(f"/orgs/{ledger_org.id}/entries/TX-CARD-1"))
    assert "<dt>Card charge</dt><dd><code>RA5RE0N60</code>" in page


def _post_with_batch(db_session, org, transaction_id, body):
    from plugin.models import PostingBatch

    posted = entry(db_session, org.id, transaction_id)
    batch = PostingBatch(
        organisation_id=org.id,
        idempotency_key=f"key-{transaction_id}",
        endpoint="BankTransactions",
        state="recorded",
        member_entry_ids=[posted.id],
        request_summary={"bodies": [body], "transaction_ids": [transaction_id]},
    )
    db_session.add(batch)
    db_session.flush()
    posted.state = EntryState.POSTED
    posted.batch_id = batch.id
    posted.xero_document_type = "BankTransactions"
    posted.xero_document_id = "5e1f7f0a-0000-4000-8000-00000000000a"
    db_session.add(posted)
    db_session.commit()
    return posted


def test_a_posted_entry_shows_each_line_as_sent_and_links_to_xero_in_its_org(
    app, client, ledger_org, db_session
):
    """Issue 15 point 6: each line's account and tax, as posted; the Xero deep link opens the
    document in the organisation of its short code (stored from Xero's Organisation)."""
    from plugin.models import Organisation

    body = {
        "LineItems": [
            {
                "Description": "Pencils, #2, 18-Count (ASIN B07, order 203)",
                "Quantity": 2,
                "LineAmount": "35.98",
                "AccountCode": "429",
                "TaxType": "INPUT2",
                "TaxAmount": "7.20",
            },
            {
                "Description": "Shipping",
                "Quantity": 1,
                "LineAmount": "2.99",
                "AccountCode": "425",
                "TaxType": "NONE",
                "TaxAmount": "0.00",
            },
        ]
    }
    _post_with_batch(db_session, ledger_org, "TX-CARD-1", body)
    org = db_session.get(Organisation, ledger_org.id)
    org.settings = {"xero_short_code": "!tHm5S"}
    db_session.add(org)
    db_session.commit()
    page = text_of(client.get(f"/orgs/{ledger_org.id}/entries/TX-CARD-1"))
    assert "Lines in Xero" in page
    assert '<td>429</td><td>INPUT2</td><td class="num">7.20</td>' in page
    assert "<td>425</td><td>No tax</td>" in page
    link = (
        "https://go.xero.com/organisationlogin/default.aspx?shortcode=%21tHm5S&amp;redirecturl="
        "%2FBank%2FViewTransaction.aspx%3FbankTransactionID%3D5e1f7f0a-0000-4000-8000-00000000000a"
    )
    assert f'href="{link}"' in page
    assert "Open in Xero" in page


def test_account_and_tax_names_come_from_the_cached_chart(app, client, ledger_org, db_session):
    import simplejson

    from plugin.infra.keys import chart_cache_key
    from plugin.infra.queues import get_redis

    body = {
        "LineItems": [
            {"Description": "Pencils", "Quantity": 1, "LineAmount": "35.98",
             "AccountCode": "429", "TaxType": "INPUT2", "TaxAmount": "7.20"}
        ]
    }  # fmt: skip
    _post_with_batch(db_session, ledger_org, "TX-CARD-1", body)
    parts = {
        "Organisation": {"BaseCurrency": "GBP", "ShortCode": "!cached"},
        "Accounts": [
            {"Code": "429", "Name": "General Expenses", "Type": "EXPENSE", "Status": "ACTIVE"}
        ],
        "TaxRates": [
            {"TaxType": "INPUT2", "Name": "20% (VAT on Expenses)", "Status": "ACTIVE",
             "EffectiveRate": "20.0000", "CanApplyToExpenses": True}
        ],
        "Currencies": [],
        "TrackingCategories": [],  # cached since tracking is read (older charts are refetched)
    }  # fmt: skip
    get_redis(app).set(chart_cache_key(ledger_org.id), simplejson.dumps(parts))
    page = text_of(client.get(f"/orgs/{ledger_org.id}/entries/TX-CARD-1"))
    assert "<td>429 General Expenses</td><td>20% (VAT on Expenses)</td>" in page
    assert "shortcode=%21cached" in page  # the chart's short code when none is stored


def test_a_held_entry_shows_where_each_line_would_go_and_the_fix_as_a_link(
    client, ledger_org, db_session
):
    held = entry(db_session, ledger_org.id, "TX-AMEX-1")
    held.state = EntryState.HELD
    held.reason_code = "unmapped_payment_method"
    held.reason = (
        "Payment method American Express ending 1005 is not mapped to a Xero account yet. "
        "Map it under Payment methods."
    )
    db_session.add(held)
    db_session.commit()
    page = text_of(client.get(f"/orgs/{ledger_org.id}/entries/TX-AMEX-1"))
    assert (
        f'<a class="button button-primary" href="/orgs/{ledger_org.id}/mapping#payment-methods">'
        "Map the payment method</a>"
    ) in page
    assert "Retry now" in page
    assert "Account and tax rate: where each line goes under your mapping as it is now." in page


def test_retry_sends_the_entry_back_and_its_page_follows_it(app, client, ledger_org, db_session):
    """Retry on the entry page: back to be posted, a posting run queued; the page polls its
    state and, held again, says so with the reason."""
    from plugin.infra.queues import get_queue

    held = hold(db_session, ledger_org.id, "TX-AMEX-1")
    response = client.post(f"/orgs/{ledger_org.id}/entries/TX-AMEX-1/retry")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/entries/TX-AMEX-1?retried=1")
    db_session.refresh(held)
    assert held.state == EntryState.FETCHED
    assert get_queue("high", app).count == 1
    page = text_of(client.get(response.headers["Location"]))
    assert "Checking it again after your retry" in page
    assert 'hx-trigger="every 2s"' in page
    held.state = EntryState.HELD
    held.reason = "Payment method American Express ending 1005 is not mapped."
    db_session.add(held)
    db_session.commit()
    state = text_of(client.get(f"/orgs/{ledger_org.id}/entries/TX-AMEX-1/state?retried=1"))
    assert "Still held after your retry." in state
    assert "American Express ending 1005 is not mapped." in state
    assert "every 2s" not in state  # settled: polling stops


def test_retry_is_refused_while_xero_is_disconnected(app, client, ledger_org, db_session):
    from plugin.infra.queues import get_queue

    held = hold(db_session, ledger_org.id, "TX-AMEX-1")
    ledger_org.status = "disconnected"
    db_session.add(ledger_org)
    db_session.commit()
    page = text_of(client.get(f"/orgs/{ledger_org.id}/entries/TX-AMEX-1"))
    assert "disabled" in page
    assert "reconnect to Xero</a> to retry" in page
    response = client.post(
        f"/orgs/{ledger_org.id}/entries/TX-AMEX-1/retry",
        follow_redirects=True,
    )
    assert "Xero is disconnected: reconnect to Xero before retrying." in text_of(response)
    db_session.refresh(held)
    assert held.state == EntryState.HELD
    assert get_queue("high", app).count == 0


def test_the_entry_pages_forms_say_what_happened_next_to_them(client, ledger_org, db_session):
    """Issue 15 point 1 on the entry page: the answer of its forms is in its state section,
    by the forms, not at the top of the page."""
    hold(db_session, ledger_org.id, "TX-AMEX-1")
    page = text_of(
        client.post(
            f"/orgs/{ledger_org.id}/entries/TX-AMEX-1/posted-by-hand", follow_redirects=True
        )
    )
    state = page[page.index('<div id="entry-state"') :]
    assert state.index('data-place="entry">Marked as posted by hand.') < state.index("</div>")
    assert 'role="status" data-place="entry">Marked as posted by hand.' in page
    assert '<div class="flashes"' not in page
    again = text_of(
        client.post(
            f"/orgs/{ledger_org.id}/entries/TX-AMEX-1/posted-by-hand", follow_redirects=True
        )
    )
    assert 'role="alert" data-place="entry">Nothing changed: this purchase is no longer held' in (
        again
    )
