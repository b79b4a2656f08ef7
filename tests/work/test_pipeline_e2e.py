"""The whole pipeline against the sandbox over real HTTP, with real RQ workers: install, connect
Amazon Business, import 90 days, map, post; re-import posts nothing; a new card holds its
purchases until it is mapped; "accept the write, then drop the connection" never duplicates."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import requests
from rq.job import Job

from plugin.db import session_scope
from plugin.infra.queues import get_queue
from plugin.infra.queues import get_redis
from plugin.models import EntryState
from plugin.models import ImportRun
from plugin.models import RunState
from plugin.models import utcnow
from plugin.xero.client import XeroClient
from tests.common.pipeline import NEW_CARD
from tests.common.pipeline import assert_exactly_once
from tests.common.pipeline import finish_setup
from tests.common.pipeline import import_days
from tests.common.pipeline import ledger_entries
from tests.common.pipeline import sandbox_documents


def test_import_map_post_reimport_and_new_card(pipeline, sandbox, run_jobs):
    app, _client, org = pipeline
    run = import_days(app, org)
    run_jobs()
    with session_scope(app) as db:
        finished = db.get(ImportRun, run.id)
        assert finished.state == RunState.SUCCEEDED, finished.error
        assert finished.fetched > 0
        assert finished.new == finished.fetched
    entries = ledger_entries(app, org)
    assert entries
    assert {e.state for e in entries} <= {EntryState.FETCHED, EntryState.HELD}
    assert sandbox_documents(sandbox, org)["BankTransactions"] == []  # set-up not finished

    finish_setup(app, org)
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    run_jobs()
    entries = ledger_entries(app, org)
    posted = assert_exactly_once(app, sandbox, org)
    held = [e for e in entries if e.state == EntryState.HELD]
    assert posted
    assert {e.state for e in entries} <= {EntryState.POSTED, EntryState.HELD}
    new_card = [e for e in entries if e.payment_method_key == NEW_CARD]
    assert new_card, "the sandbox's late new card should appear in 90 days"
    assert {e.reason_code for e in new_card} == {"unmapped_payment_method"}
    held_codes = Counter(e.reason_code for e in held)
    assert held_codes["unmapped_payment_method"] == len(new_card)

    # Re-importing the same range posts nothing new.
    rerun = import_days(app, org)
    run_jobs()
    with session_scope(app) as db:
        again = db.get(ImportRun, rerun.id)
        assert again.new == 0
        assert again.already_known == again.fetched
    assert len(assert_exactly_once(app, sandbox, org)) == len(posted)

    # Mapping the new card releases its purchases, which post by themselves.
    finish_setup(app, org, include_new_card=True)
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id, True)
    run_jobs()
    after = assert_exactly_once(app, sandbox, org)
    assert len(after) == len(posted) + len(new_card)
    assert all(
        e.state == EntryState.POSTED
        for e in ledger_entries(app, org)
        if e.payment_method_key == NEW_CARD
    )


def test_accept_then_drop_never_duplicates(pipeline, sandbox, run_jobs, monkeypatch):
    """The answer to a batch is lost: its entries wait, claimed, and a posting run is scheduled
    for when the batch can no longer be in flight; that run finds it in Xero, sends nothing."""
    app, _client, org = pipeline
    finish_setup(app, org, include_new_card=True)
    requests.post(
        f"{sandbox.url}/_sandbox/faults",
        json={
            "service": "xero",
            "queue": {"kind": "drop_after_write", "count": 1, "path_contains": "BankTransactions"},
        },
        timeout=5,
    )
    import_days(app, org, days=30)
    run_jobs()
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    run_jobs()
    injected = requests.get(f"{sandbox.url}/_sandbox/faults", timeout=5).json()
    assert injected["xero"]["injected"].get("drop_after_write") == 1
    in_doubt = [e for e in ledger_entries(app, org) if e.state == EntryState.POSTING]
    assert in_doubt
    registry = get_queue("default", app).scheduled_job_registry
    lookup = f"post-lookup-{org.id}"
    assert lookup in registry.get_job_ids()
    wait = (registry.get_scheduled_time(lookup) - utcnow()).total_seconds()
    assert 290 < wait <= 301  # the default horizon: five minutes after the send
    # Five minutes on: the scheduled run looks the batches up (nothing is sent again).
    monkeypatch.setattr(XeroClient, "in_flight", property(lambda _client: timedelta(0)))
    get_redis(app).zrem(registry.key, lookup)
    get_queue("default", app).enqueue_job(Job.fetch(lookup, connection=get_redis(app)))
    run_jobs()
    posted = assert_exactly_once(app, sandbox, org)
    assert posted
    assert all(e.state in (EntryState.POSTED, EntryState.HELD) for e in ledger_entries(app, org))


def test_a_purchase_posted_by_hand_is_never_posted_by_the_app(pipeline, sandbox, run_jobs):
    """The user posts a held purchase in Xero themselves and marks it so on its page; mapping
    its card later posts the others, never that one. Taking the mark back posts it once."""
    app, client, org = pipeline
    import_days(app, org)
    run_jobs()
    finish_setup(app, org)  # the new card is not mapped: its purchases are held
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    run_jobs()
    held = [e for e in ledger_entries(app, org) if e.payment_method_key == NEW_CARD]
    assert len(held) >= 2
    assert {e.state for e in held} == {EntryState.HELD}
    by_hand = held[0].amazon_transaction_id
    marked = client.post(f"/orgs/{org.id}/entries/{by_hand}/posted-by-hand")
    assert marked.status_code == 302

    finish_setup(app, org, include_new_card=True)
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id, True)
    run_jobs()
    references = [d["Reference"] for d in sandbox_documents(sandbox, org)["BankTransactions"]]
    assert not [r for r in references if r.split()[-1] == by_hand]
    states = {e.amazon_transaction_id: e.state for e in ledger_entries(app, org)}
    assert states[by_hand] == EntryState.BY_HAND
    assert all(states[e.amazon_transaction_id] == EntryState.POSTED for e in held[1:])
    assert_exactly_once(app, sandbox, org)

    assert client.post(f"/orgs/{org.id}/entries/{by_hand}/posted-by-hand/undo").status_code == 302
    run_jobs()  # the posting run the undo queued
    references = [d["Reference"] for d in sandbox_documents(sandbox, org)["BankTransactions"]]
    assert len([r for r in references if r.split()[-1] == by_hand]) == 1
    assert {e.state for e in ledger_entries(app, org) if e.payment_method_key == NEW_CARD} == {
        EntryState.POSTED
    }
    assert_exactly_once(app, sandbox, org)
