"""Rolling back a posting run end to end against the live sandbox (issue 14 point 4): a posting
run that posted purchases fetched earlier is in the history; rolling it back deletes or voids
the documents it created, leaves a reconciled one (listed with the reason), and puts the
purchases back to waiting, or holds them when asked (a wrong mapping), so that the next posting
run does not post them again until they are retried. Posting again makes one new document
each: never twice."""

from __future__ import annotations

import pytest
import requests
from sqlmodel import select

from plugin.db import session_scope
from plugin.infra.queues import get_queue
from plugin.ledger.correction_model import Correction
from plugin.ledger.posting_run_model import PostingCause
from plugin.ledger.posting_run_model import PostingRun
from plugin.ledger.posting_run_model import cause_of_job
from plugin.ledger.rollbacks import HELD_AFTER_ROLLBACK
from plugin.models import EntryState
from plugin.models import Membership
from plugin.models import Organisation
from plugin.models import PostingBatch
from plugin.models import User
from tests.common.pipeline import assert_exactly_once
from tests.common.pipeline import finish_setup
from tests.common.pipeline import import_days
from tests.common.pipeline import ledger_entries
from tests.common.web import sign_in_on
from tests.work.test_rollback_e2e import documents_by_id


@pytest.fixture
def sandbox_config():
    """60 Amazon transactions; a minute limit a rollback of them all does not reach."""
    return {"SANDBOX_AMAZON_TRANSACTIONS": 60, "SANDBOX_XERO_MINUTE_LIMIT": 1000}


@pytest.fixture
def app_config(app_config):
    app_config["XERO_MINUTE_LIMIT"] = 1000
    return app_config


def posting_runs(app) -> list[PostingRun]:
    with session_scope(app) as db:
        return list(db.exec(select(PostingRun).order_by(PostingRun.id)))


def test_the_cause_of_a_posting_run_comes_from_its_job():
    assert cause_of_job("post-7") == PostingCause.SYNC
    assert cause_of_job("post-7-next") == PostingCause.SYNC
    assert cause_of_job("retry-7") == PostingCause.RETRY
    assert cause_of_job("remap-7") == PostingCause.MAPPING
    assert cause_of_job("post-later-7-again") == PostingCause.LATER
    assert cause_of_job("post-lookup-7") == PostingCause.LATER


def test_a_posting_run_is_rolled_back_held_and_posted_again_once(pipeline, sandbox, run_jobs):
    app, client, org = pipeline
    import_days(app, org, days=30)
    run_jobs()
    assert posting_runs(app) == []  # nothing posted yet: no posting run in the history
    finish_setup(app, org, include_new_card=True)
    remap = f"remap-{org.id}"  # the job id of a mapping change's posting run
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id, True, job_id=remap)
    run_jobs()
    (run,) = posting_runs(app)
    posted = [e for e in ledger_entries(app, org) if e.state == EntryState.POSTED]
    assert run.state == "succeeded"
    assert run.cause == PostingCause.MAPPING
    assert run.posted == len(posted) > 10
    with session_scope(app) as db:  # every batch names its run
        batches = list(db.exec(select(PostingBatch)))
    assert batches
    assert all(b.request_summary["posting_run"] == run.id for b in batches)

    # A run with nothing to post leaves no row.
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    run_jobs()
    assert len(posting_runs(app)) == 1

    kept = next(e for e in posted if e.xero_document_type == "BankTransactions")
    answer = requests.post(
        f"{sandbox.url}/_sandbox/xero/documents/{kept.xero_document_id}/reconcile",
        json={},
        timeout=10,
    )
    assert answer.status_code == 200
    history = client.get(f"/orgs/{org.id}/manage/history").get_data(as_text=True)
    url = f"/orgs/{org.id}/manage/postings/{run.id}/rollback"
    assert "Posting runs" in history
    assert url in history
    assert "Mapping change" in history

    page = client.get(url).get_data(as_text=True)
    assert f"Roll back this posting run ({len(posted)} documents)" in page
    assert 'value="hold" checked' in page  # a mapping change's run: held by default
    started = client.post(url, data={"afterwards": "hold"}, headers={"HX-Request": "true"})
    assert started.status_code == 200
    assert "Rollback started" in started.get_data(as_text=True)
    run_jobs()

    documents = documents_by_id(sandbox, org)
    old_ids = {e.amazon_transaction_id: e.xero_document_id for e in posted}
    removed = [t for t, d in old_ids.items() if documents[d]["Status"] in ("DELETED", "VOIDED")]
    left = [t for t in old_ids if t not in removed]
    assert kept.amazon_transaction_id in left
    assert len(removed) >= len(posted) // 2
    entries = {e.amazon_transaction_id: e for e in ledger_entries(app, org)}
    for transaction_id in left:  # reconciled, or a bill already paid: untouched, with why
        assert entries[transaction_id].state == EntryState.POSTED
        assert entries[transaction_id].reason_code == "rollback_held"
    for transaction_id in removed:
        assert entries[transaction_id].state == EntryState.HELD
        assert entries[transaction_id].reason_code == HELD_AFTER_ROLLBACK
        assert entries[transaction_id].xero_document_id is None
        assert "press Retry" in entries[transaction_id].reason
    page = client.get(url).get_data(as_text=True)
    assert "Removed from Xero; held until you retry it" in page
    assert "Left in Xero" in page
    assert "reconciled with a bank statement line" in page
    assert "Roll back this posting run" not in page

    # Posting runs (hourly, a mapping change) leave the held ones alone; rolling back again
    # does nothing.
    client.post(url, data={"afterwards": "hold"})
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id, True)
    run_jobs()
    entries = {e.amazon_transaction_id: e for e in ledger_entries(app, org)}
    assert all(entries[t].state == EntryState.HELD for t in removed)
    with session_scope(app) as db:
        rollbacks = list(db.exec(select(Correction)))
    assert len(rollbacks) == len(posted)
    assert all(c.posting_run_id == run.id and c.import_run_id is None for c in rollbacks)

    # Retry sends them back: posted again, one new document each.
    retried = client.post(
        f"/orgs/{org.id}/manage/entries/retry", data={"reason": HELD_AFTER_ROLLBACK}
    )
    assert retried.status_code in (200, 302, 303)
    run_jobs()
    entries = {e.amazon_transaction_id: e for e in ledger_entries(app, org)}
    for transaction_id in removed:
        assert entries[transaction_id].state == EntryState.POSTED
        assert entries[transaction_id].xero_document_id != old_ids[transaction_id]
    assert_exactly_once(app, sandbox, org)
    second = posting_runs(app)[-1]
    assert second.cause == PostingCause.RETRY
    assert second.posted == len(removed)


def test_rolled_back_to_waiting_posts_again_with_the_next_run(pipeline, sandbox, run_jobs):
    app, client, org = pipeline
    import_days(app, org, days=20)
    run_jobs()
    finish_setup(app, org, include_new_card=True)
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    run_jobs()
    (run,) = posting_runs(app)
    assert run.cause == PostingCause.SYNC
    posted = {e.amazon_transaction_id: e for e in ledger_entries(app, org) if e.xero_document_id}
    url = f"/orgs/{org.id}/manage/postings/{run.id}/rollback"
    assert 'value="post" checked' in client.get(url).get_data(as_text=True)
    client.post(url, data={"afterwards": "post"})
    run_jobs()
    entries = ledger_entries(app, org)
    waiting = [e for e in entries if e.reason_code == "rolled_back"]
    assert waiting
    assert all(e.state == EntryState.FETCHED for e in waiting)
    assert "with the posting run that posted it" in waiting[0].reason
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    run_jobs()
    for entry in ledger_entries(app, org):
        if entry.amazon_transaction_id in {e.amazon_transaction_id for e in waiting}:
            assert entry.state == EntryState.POSTED
            assert entry.xero_document_id != posted[entry.amazon_transaction_id].xero_document_id
    assert_exactly_once(app, sandbox, org)


def test_another_orgs_member_cannot_see_or_start_a_posting_rollback(pipeline, run_jobs):
    app, _client, org = pipeline
    with session_scope(app) as db:
        run = PostingRun(organisation_id=org.id, state="succeeded", posted=1)
        stranger = User(xero_user_id="stranger", email="stranger@example.com", name="S")
        other = Organisation(xero_tenant_id="tenant-other", name="Other Ltd")
        db.add_all([run, stranger, other])
        db.commit()
        db.add(Membership(user_id=stranger.id, organisation_id=other.id))
        db.commit()
        other_id, run_id = other.id, run.id
        intruder = app.test_client()
        sign_in_on(app, intruder, stranger)
    url = f"/orgs/{org.id}/manage/postings/{run_id}/rollback"
    assert intruder.get(url).status_code in (403, 404)
    assert intruder.post(url).status_code in (403, 404)
    assert intruder.get(f"/orgs/{other_id}/manage/postings/{run_id}/rollback").status_code == 404
    with session_scope(app) as db:
        assert list(db.exec(select(Correction))) == []
