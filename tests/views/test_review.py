"""The review page (issue 16 point 4): the would-be documents, approving, changing one
purchase's coding, the posting mode, and the Manage tiles and filters that count purchases in
review; members only, CSRF on every form."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from plugin import ledger
from plugin.db import session_scope
from plugin.infra.queues import get_queue
from plugin.infra.queues import get_redis
from plugin.ledger import review
from plugin.ledger.review_model import EntryReview
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import OnboardingStep
from plugin.models import Organisation
from plugin.work.posting_run import load_rules
from plugin.work.posting_run import posting_context
from tests.common.amazon_payloads import uk_card_charge
from tests.common.charts import UK_CONTACT_ID
from tests.common.onboarding import HX
from tests.common.onboarding import make_org
from tests.common.onboarding import option_values
from tests.common.onboarding import record
from tests.common.onboarding import save_uk_mapping
from tests.common.onboarding import seed_chart
from tests.common.onboarding import selected
from tests.common.onboarding import text_of
from tests.common.web import sign_in_on

POSTS = ["/review/approve", "/review/mode", "/review/{entry}/coding"]


def in_review(app, org_id: int, count: int = 3) -> list[LedgerEntry]:
    """``count`` UK card charges of the org, evaluated in review mode."""
    record(
        app,
        org_id,
        [
            uk_card_charge(transaction_id=f"TX-R-{i}", date=f"2026-03-0{i + 1}T10:00:00.000Z")
            for i in range(count)
        ],
    )
    with session_scope(app) as db:
        org = db.get(Organisation, org_id)
        org.sync_enabled = True
        db.add(org)
        review.use_review(db, org, True)
        _client, mapping, chart = load_rules(app, db, org)
        ledger.evaluate(db, org_id, mapping, chart, posting_context(app, org))
        return list(
            db.exec(
                select(LedgerEntry)
                .where(LedgerEntry.organisation_id == org_id)
                .order_by(LedgerEntry.transaction_date.desc())  # type: ignore[union-attr]
            )
        )


@pytest.fixture
def reviewing(app, client, make_member, db_session, redis_client):
    user, org = make_org(make_member, db_session, step=OnboardingStep.DONE)
    seed_chart(get_redis(app), org.id)
    save_uk_mapping(app, org.id)
    sign_in_on(app, client, user)
    return org, in_review(app, org.id)


def test_each_purchase_is_shown_as_the_document_it_becomes(client, reviewing):
    org, entries = reviewing
    assert {e.state for e in entries} == {EntryState.REVIEW}
    page = text_of(client.get(f"/orgs/{org.id}/review"))
    assert "3 purchases waiting for your review" in page
    assert "Approve all 3" in page
    first = entries[0]
    item = page.split(f'id="review-item-{first.id}"', 1)[1].split("</article>", 1)[0]
    assert "<dd>Spend money</dd>" in item
    assert "<dd>Amazon Business</dd>" in item
    assert f"{first.order_id} {first.amazon_transaction_id}" in item  # the Reference
    assert "<td>461 Printing &amp; Stationery</td><td>20% (VAT on Expenses)</td>" in item
    fragment = text_of(client.get(f"/orgs/{org.id}/review", headers=HX))
    assert fragment.startswith('<div id="review-list"')


def test_manage_counts_them_as_waiting_for_review_not_to_post(client, reviewing):
    org, _entries = reviewing
    manage = text_of(client.get(f"/orgs/{org.id}/manage"))
    assert "3 purchases are waiting for your review." in manage
    assert re.search(r'id="review-tile"><span class="tile-number">3</span>', manage)
    tiles = re.search(
        r'<span class="tile-number">(\d+)</span><span class="tile-label">Waiting to post', manage
    )
    assert tiles.group(1) == "0"
    attention = text_of(client.get(f"/orgs/{org.id}/manage/entries", headers=HX))
    assert "Nothing is held or refused. 3 purchases wait for your review" in attention
    assert "Every imported purchase is posted or on its way" not in attention
    listed = text_of(client.get(f"/orgs/{org.id}/manage/entries?state=review", headers=HX))
    assert len(re.findall(r'<tr id="entry-', listed)) == 3
    assert "Waiting for your review" in listed


def test_approving_one_moves_it_and_starts_posting(app, client, reviewing):
    org, entries = reviewing
    answer = client.post(f"/orgs/{org.id}/review/approve", data={"only": entries[0].id}, headers=HX)
    assert answer.status_code == 200
    body = text_of(answer)
    assert "Approved 1 purchase: posting to Xero now." in body
    assert "2 purchases waiting for your review" in body
    assert answer.headers["HX-Trigger"] == "manage-changed"
    assert f"post-{org.id}" in get_queue("high", app).job_ids
    with session_scope(app) as db:
        assert db.get(LedgerEntry, entries[0].id).state == EntryState.READY


def test_approving_the_ticked_with_none_ticked_says_so(client, reviewing):
    org, _entries = reviewing
    answer = client.post(f"/orgs/{org.id}/review/approve", data={}, headers=HX)
    assert "Tick the purchases you want to approve first." in text_of(answer)
    assert "3 purchases waiting for your review" in text_of(answer)


def test_approve_all_without_the_pages_moment_is_refused(client, reviewing):
    org, _entries = reviewing
    assert client.post(f"/orgs/{org.id}/review/approve", data={"all": "1"}).status_code == 400
    bad = client.post(f"/orgs/{org.id}/review/approve", data={"all": "1", "as_of": "soon"})
    assert bad.status_code == 400


def test_changing_one_purchases_coding(app, client, reviewing):
    org, entries = reviewing
    entry = entries[0]
    form = text_of(client.get(f"/orgs/{org.id}/review/{entry.id}/coding", headers=HX))
    assert selected(form, "lines-0-account") == "461"  # what the mapping gives
    assert "090" not in option_values(form, "lines-0-account")  # no bank account offered
    assert "INPUT2" in option_values(form, "lines-0-tax_type")
    data = {"lines-0-account": "425", "lines-0-tax_type": "INPUT2", "action": "save"}
    saved = client.post(f"/orgs/{org.id}/review/{entry.id}/coding", data=data, headers=HX)
    assert saved.status_code == 200
    body = text_of(saved)
    assert "Coding saved" in body
    assert "<td>425 Postage, Freight &amp; Courier</td>" in body
    assert "Coded by hand for this purchase" in body
    with session_scope(app) as db:
        stored = db.exec(select(EntryReview).where(EntryReview.entry_id == entry.id)).one()
        assert stored.coding == {
            "lines": [{"account_code": "425", "tax_type": None, "tracking": None}]
        }
        assert stored.approved_at is None
    forged = {**data, "lines-0-account": "090"}
    refused = client.post(f"/orgs/{org.id}/review/{entry.id}/coding", data=forged, headers=HX)
    assert refused.status_code == 400
    assert "Account 090 cannot take this purchase." in text_of(refused)
    approve = {**data, "action": "approve"}
    done = client.post(f"/orgs/{org.id}/review/{entry.id}/coding", data=approve, headers=HX)
    assert "Coding saved. Approved 1 purchase" in text_of(done)
    late = client.post(f"/orgs/{org.id}/review/{entry.id}/coding", data=data, headers=HX)
    assert late.status_code == 409
    assert "no longer waiting for review" in text_of(late)


def test_switching_back_to_automatic_leaves_the_waiting_ones_for_review(app, client, reviewing):
    org, _entries = reviewing
    answer = client.post(f"/orgs/{org.id}/review/mode", data={"review": "0"}, headers=HX)
    body = text_of(answer)
    assert (
        "Purchases post to Xero by themselves again. The 3 purchases waiting for your review "
        "stay here until you approve them."
    ) in body
    assert "Review purchases before posting" in body
    with session_scope(app) as db:
        assert ledger.counts_by_state(db, org.id) == {"review": 3}
        assert review.mode_of(db.get(Organisation, org.id)) == review.AUTOMATIC


def test_another_organisations_purchases_are_404(client, reviewing, make_member, app):
    _org, entries = reviewing
    _stranger, other = make_member("user-2", "tenant-2", "Hudson Supplies Inc")
    assert client.get(f"/orgs/{other.id}/review").status_code == 404
    assert client.get(f"/orgs/{other.id}/review/{entries[0].id}/coding").status_code == 404
    only = {"only": entries[0].id}
    assert client.post(f"/orgs/{other.id}/review/approve", data=only).status_code == 404
    assert client.post(f"/orgs/{other.id}/review/mode", data={"review": "0"}).status_code == 404


def test_one_organisations_page_cannot_approve_anothers_purchases(
    client, reviewing, make_member, app, db_session
):
    org, _entries = reviewing
    same_user, second = make_member(
        "alice", "tenant-2", "Second Ltd", base_currency="GBP", amazon_contact_id=UK_CONTACT_ID
    )
    sign_in_on(app, client, same_user)  # a new membership ends the user's sessions
    seed_chart(get_redis(app), second.id)
    save_uk_mapping(app, second.id)
    theirs = in_review(app, second.id, count=1)[0]
    assert theirs.state == EntryState.REVIEW
    answer = client.post(f"/orgs/{org.id}/review/approve", data={"only": theirs.id}, headers=HX)
    assert "Nothing to approve" in text_of(answer)
    assert client.get(f"/orgs/{org.id}/review/{theirs.id}/coding").status_code == 404
    with session_scope(app) as db:
        assert db.get(LedgerEntry, theirs.id).state == EntryState.REVIEW


@pytest.mark.parametrize("path", POSTS)
def test_every_post_needs_the_csrf_token(app_config, make_app, make_member, db_session, path):
    app_config["WTF_CSRF_ENABLED"] = True
    app = make_app(app_config)
    user, org = make_org(make_member, db_session, step=OnboardingStep.DONE)
    client = sign_in_on(app, app.test_client(), user)
    response = client.post(f"/orgs/{org.id}" + path.format(entry=1), data={"review": "1"})
    assert response.status_code == 400
    assert "This form has expired" in text_of(response)
