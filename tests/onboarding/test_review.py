"""The review step: the preview's numbers are posting.summarise's for the same ledger, held
entries are grouped with their reasons, and Finish turns sync on and queues posting."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from rq.job import Job

from plugin import ledger
from plugin import posting
from plugin.db import session_scope
from plugin.infra.queues import get_redis
from plugin.models import OnboardingStep
from plugin.models import Organisation
from plugin.onboarding.review import pending_entries
from plugin.work.posting_run import posting_context
from tests.common.charts import chart_of
from tests.common.charts import mapping_of
from tests.common.charts import uk_chart
from tests.common.charts import uk_mapping
from tests.common.onboarding import make_org
from tests.common.onboarding import record
from tests.common.onboarding import save_uk_mapping
from tests.common.onboarding import seed_chart
from tests.common.onboarding import text_of
from tests.common.onboarding import uk_transactions


@pytest.fixture
def at_review(app, client, make_member, db_session, redis_client, sign_in):
    """A signed-in member of a UK org at the review step, with a ledger and a saved mapping."""
    user, org = make_org(make_member, db_session, step=OnboardingStep.REVIEW)
    seed_chart(redis_client, org.id)
    record(app, org.id, uk_transactions())
    save_uk_mapping(app, org.id)
    sign_in(client, user)
    return org


def expected_summary(app, org) -> posting.Summary:
    """What posting.summarise says for the org's ledger, computed here independently."""
    with session_scope(app) as session:
        entries = pending_entries(session, org.id)
        transactions = [ledger.parsed(e) for e in entries]
        stored = session.get(Organisation, org.id)
        context = posting_context(app, stored)
    plan = posting.translate_all(
        transactions, mapping_of(uk_mapping()), chart_of(uk_chart()), context
    )
    return posting.summarise(plan)


def row_of(page: str, kind: str) -> tuple[int, str]:
    match = re.search(
        rf'<tr data-kind="{kind}">\s*<th scope="row">[^<]*</th>\s*<td class="num">(\d+)</td>\s*'
        r'<td class="num[^"]*">(.*?)</td>',
        page,
        re.S,
    )
    assert match, kind
    return int(match.group(1)), match.group(2)


def test_review_numbers_match_posting_summarise(client, at_review, app):
    response = client.get(f"/orgs/{at_review.id}/setup/review")
    page = text_of(response)
    assert response.status_code == 200
    summary = expected_summary(app, at_review)
    kinds = {r.kind for r in summary.rows}
    assert {"spend_money", "receive_money", "bill"} <= kinds  # the ledger exercises them
    assert summary.held_count >= 1
    for kind in posting.DOCUMENT_KINDS:
        rows = [r for r in summary.rows if r.kind == kind]
        count, totals = row_of(page, kind)
        assert count == sum(r.count for r in rows), kind
        for row in rows:
            assert f"{row.currency} {row.total:,.2f}" in totals
    assert row_of(page, "held")[0] == summary.held_count
    spend = next(r for r in summary.rows if r.kind == "spend_money")
    assert spend.total == Decimal("86.36")  # two pencil orders of 35.98 + 7.20 VAT each


def test_held_entries_are_grouped_with_their_reasons(client, at_review):
    page = text_of(client.get(f"/orgs/{at_review.id}/setup/review"))
    assert 'data-code="unmapped_payment_method"' in page
    assert "American Express ending 1005" in page or "American Express" in page
    assert f'href="/orgs/{at_review.id}/entries/TX-AMEX-1"' in page
    # Named as the entry page names it (issue 15 point 6), not by its Amazon id.
    assert (
        'entries/TX-AMEX-1">Pencils, #2, 18-Count from Amazon.com Services LLC, GBP 43.18, '
        "4 Mar 2026</a>"
    ) in page


def test_mapping_summary_is_shown(client, at_review):
    page = text_of(client.get(f"/orgs/{at_review.id}/setup/review"))
    assert "Bill (Pay by Invoice), paid from 090 Business Bank Account" in page
    assert "Default account</td><td>429 General Expenses" in page
    assert "Not mapped: held" in page  # the Amex
    assert re.search(r'aria-current="step">.*?Review', page, re.S)


def test_finish_turns_sync_on_and_queues_posting(client, at_review, app, db_session):
    response = client.post(f"/orgs/{at_review.id}/setup/review")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/orgs/{at_review.id}/manage")
    db_session.expire_all()
    org = db_session.get(Organisation, at_review.id)
    assert org.onboarding_step == OnboardingStep.DONE
    assert org.sync_enabled is True
    job = Job.fetch(f"post-{org.id}", connection=get_redis(app))
    assert job.func_name == "jobs.posting.post_ready"
    assert job.args == (org.id,)
    assert job.origin == "high"
    with client.session_transaction() as session:
        flashes = session.get("_flashes", [])
    assert any("Set-up is finished" in message for _category, message in flashes)


def test_review_is_a_page_with_a_finish_button_and_a_way_back(client, at_review):
    page = text_of(client.get(f"/orgs/{at_review.id}/setup/review"))
    assert page.startswith("<!doctype html>")
    assert f'action="/orgs/{at_review.id}/setup/review"' in page
    assert "Finish and start posting" in page
    assert f'href="/orgs/{at_review.id}/setup/mapping"' in page


def test_xero_unavailable_on_review_is_explained(client, at_review, monkeypatch):
    from plugin.xero.errors import XeroConnectionLost

    def fail(*args, **kwargs):
        raise XeroConnectionLost("timed out")

    monkeypatch.setattr("plugin.mapping.page.cached_chart_document", fail)
    response = client.get(f"/orgs/{at_review.id}/setup/review")
    assert response.status_code == 503
    assert "Xero is not answering" in text_of(response)
    assert "Finish and start posting" in text_of(response)


def test_before_the_contact_exists_the_preview_still_counts_documents(
    client, at_review, db_session
):
    org = db_session.get(Organisation, at_review.id)
    org.amazon_contact_id = None  # Finish's first posting run sets it up
    db_session.add(org)
    db_session.commit()
    page = text_of(client.get(f"/orgs/{at_review.id}/setup/review"))
    assert row_of(page, "spend_money")[0] == 2
    assert 'data-code="missing_contact"' not in page
    assert "is set up in Xero when you finish" in page
