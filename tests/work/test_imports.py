"""Jobs and their services: range validation, one run per organisation, progress, re-queue on
429, scheduled syncs, Pay by Invoice payments, and the operator commands."""

from __future__ import annotations

from datetime import date
from datetime import timedelta

import pytest
import requests
from rq.job import Job
from sqlmodel import select

from plugin.db import session_scope
from plugin.infra.locks import AlreadyRunning
from plugin.infra.locks import org_lock
from plugin.infra.locks import running_holder
from plugin.infra.queues import get_queue
from plugin.infra.queues import get_redis
from plugin.models import EntryState
from plugin.models import ImportRun
from plugin.models import ImportTrigger
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.models import utcnow
from plugin.work.imports import ImportRangeError
from plugin.work.imports import import_queue
from plugin.work.imports import start_import
from plugin.work.imports import validate_range
from tests.common.pipeline import assert_exactly_once
from tests.common.pipeline import finish_setup
from tests.common.pipeline import import_days
from tests.common.pipeline import ledger_entries
from tests.common.pipeline import sandbox_documents

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("start", "end", "trigger", "message"),
    [
        (TODAY - timedelta(days=400), TODAY, ImportTrigger.HISTORICAL, "That range is 401 days"),
        (date(2015, 4, 27), date(2015, 5, 1), ImportTrigger.HISTORICAL, "before 28 April 2015"),
        (TODAY, TODAY - timedelta(days=1), ImportTrigger.MANUAL, "after the end date"),
        (TODAY, TODAY + timedelta(days=1), ImportTrigger.MANUAL, "in the future"),
    ],
)
def test_bad_ranges_are_refused_with_a_clear_message(start, end, trigger, message):
    with pytest.raises(ImportRangeError, match=message):
        validate_range(start, end, trigger, TODAY)


@pytest.mark.parametrize("trigger", [ImportTrigger.MANUAL, ImportTrigger.HISTORICAL])
def test_the_wizard_and_manage_follow_one_rule_a_year_at_a_time(trigger):
    """Issue 15 point 8: the wizard's history and Manage's import accept the same ranges."""
    first = TODAY - timedelta(days=400)
    start, end = validate_range(first, first + timedelta(days=365), trigger, TODAY)
    assert start.date() == first
    assert end.date() == first + timedelta(days=365)
    with pytest.raises(ImportRangeError, match="That range is 401 days"):
        validate_range(first, TODAY, trigger, TODAY)


def test_scheduled_syncs_are_not_bound_by_the_request_rule():
    """A sync after a long pause may cover more than a year (it is not a person's request)."""
    start, _end = validate_range(TODAY - timedelta(days=500), TODAY, "scheduled", TODAY)
    assert start.date() == TODAY - timedelta(days=500)


def test_a_second_run_for_the_same_org_reports_the_running_one(app, make_member):
    _, org = make_member()
    redis = get_redis(app)
    with org_lock(redis, org.id, "import-41"):
        with pytest.raises(AlreadyRunning) as busy, session_scope(app) as db:
            start_import(db, app, db.get(Organisation, org.id), TODAY, TODAY, "manual", "test")
        assert busy.value.job_id == "import-41"
        assert busy.value.run_id == 41
    assert running_holder(redis, org.id) is None


def test_import_reports_progress_in_job_meta(pipeline, run_jobs):
    app, _client, org = pipeline
    run = import_days(app, org, days=30)
    run_jobs()
    job = Job.fetch(run.rq_job_id, connection=get_redis(app))
    progress = job.get_meta(refresh=True)["progress"]
    with session_scope(app) as db:
        stored = db.get(ImportRun, run.id)
    assert progress["done"] is True
    assert progress["fetched"] == stored.fetched > 0
    assert progress["new"] == stored.new


def test_a_xero_429_requeues_the_posting_job_instead_of_sleeping(pipeline, sandbox, run_jobs):
    app, _client, org = pipeline
    import_days(app, org, days=30)
    run_jobs()
    finish_setup(app, org, include_new_card=True)
    requests.post(
        f"{sandbox.url}/_sandbox/faults",
        json={"service": "xero", "queue": {"kind": "429", "count": 1, "path_contains": "Invoices"}},
        timeout=5,
    )
    job = get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    run_jobs()
    job.refresh()
    assert job.return_value()["requeued_in"] >= 1
    scheduled = get_queue("default", app).scheduled_job_registry.get_job_ids()
    assert f"post-later-{org.id}" in scheduled
    # Every worker waits for Retry-After; pretend it has passed, then run the delayed job.
    redis = get_redis(app)
    assert redis.exists(f"ratelimit:xero:blocked:{org.xero_tenant_id}")
    redis.delete(f"ratelimit:xero:blocked:{org.xero_tenant_id}")
    later = Job.fetch(f"post-later-{org.id}", connection=redis)
    get_queue("default", app).enqueue_job(later)
    run_jobs()
    assert_exactly_once(app, sandbox, org)
    assert not [e for e in ledger_entries(app, org) if e.state == EntryState.READY]


def test_sync_all_queues_one_sync_per_enabled_org_and_imports_since_last_sync(
    pipeline,
    sandbox,
    run_jobs,
):
    app, _client, org = pipeline
    finish_setup(app, org, include_new_card=True)
    with session_scope(app) as db:
        stored = db.get(Organisation, org.id)
        stored.last_synced_at = utcnow() - timedelta(days=10)
        db.add(stored)
        db.commit()
    fan_out = get_queue("default", app).enqueue("jobs.sync.sync_all")
    # Not the low queue: its PDF attachments wait about a minute for the sandbox's reports
    # (test_pdf_invoices_are_attached_once covers them with a faster sandbox clock).
    run_jobs(queues=("high", "default"))
    fan_out.refresh()
    assert fan_out.return_value() == {"organisations": 1, "queued": 1, "failed": 0}
    with session_scope(app) as db:
        run = db.exec(select(ImportRun)).one()
        stored = db.get(Organisation, org.id)
    assert run.trigger == ImportTrigger.SCHEDULED
    assert (utcnow() - run.range_start).days == 13  # last sync minus the 3-day overlap
    assert stored.last_synced_at > utcnow() - timedelta(minutes=5)
    assert_exactly_once(app, sandbox, org)


def test_closed_pay_by_invoice_bills_get_one_payment(pipeline, sandbox, run_jobs):
    app, _client, org = pipeline
    import_days(app, org, days=90)
    run_jobs()
    finish_setup(app, org, include_new_card=True)
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    run_jobs()
    bills = [e for e in ledger_entries(app, org) if e.xero_document_type == "Invoices"]
    assert bills, "the sandbox generates Pay by Invoice purchases"
    # 35 days on: past most due dates (a 60-day jump would expire Xero's refresh token).
    requests.post(f"{sandbox.url}/_sandbox/clock", json={"advance_seconds": 35 * 86400}, timeout=5)
    results = []
    for _ in range(2):  # a second run pays nothing twice
        job = get_queue("low", app).enqueue("jobs.settlements.check_invoice_payments", org.id)
        run_jobs()
        job.refresh()
        results.append(job.return_value())
    assert results[0]["paid"] > 0, results
    assert results[1]["paid"] == 0, results
    paid = [e for e in ledger_entries(app, org) if e.settlement_state == "paid"]
    assert paid
    payments = requests.get(
        f"{sandbox.url}/_sandbox/xero/documents", params={"tenant": org.xero_tenant_id}, timeout=5
    ).json()["Payments"]
    assert len(payments) == len([e for e in paid if e.xero_payment_id])
    assert {p["Invoice"]["InvoiceID"] for p in payments} == {
        e.xero_document_id for e in paid if e.xero_payment_id
    }
    credit_notes = [e for e in ledger_entries(app, org) if e.xero_document_type == "CreditNotes"]
    assert credit_notes, "the sandbox generates Pay by Invoice refunds"
    assert {e.settlement_state for e in credit_notes} <= {"allocated", "unallocated"}
    documents = sandbox_documents(sandbox, org)
    allocations = [a for note in documents["CreditNotes"] for a in note.get("Allocations") or []]
    allocated = [e for e in credit_notes if e.settlement_state == "allocated"]
    assert len(allocations) == len(allocated)  # one allocation each, none repeated
    assert allocated, "a refund of an open Pay by Invoice bill is allocated to it"


def test_operator_commands(pipeline, run_jobs):
    app, _client, org = pipeline
    runner = app.test_cli_runner()
    today = utcnow().date()
    result = runner.invoke(
        args=[
            "import",
            "--org",
            str(org.id),
            "--from",
            str(today - timedelta(days=20)),
            "--to",
            str(today),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "queued" in result.output
    run_jobs()
    status = runner.invoke(args=["status", "--org", org.xero_tenant_id])
    assert status.exit_code == 0, status.output
    assert "fetched" in status.output
    assert "last run" in status.output
    too_far = runner.invoke(
        args=["import", "--org", str(org.id), "--from", "2020-01-01", "--to", "2020-01-02"]
    )
    assert too_far.exit_code == 0 or "Error" in too_far.output  # manual: any range is allowed
    assert runner.invoke(args=["sync"]).exit_code == 0
    assert runner.invoke(args=["status", "--org", "nope"]).exit_code != 0


def test_pdf_invoices_are_attached_once(pipeline, sandbox, run_jobs):
    app, _client, org = pipeline
    import_days(app, org, days=20)
    run_jobs()
    finish_setup(app, org, include_new_card=True)
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    run_jobs()
    requests.post(f"{sandbox.url}/_sandbox/clock", json={"speed": 30}, timeout=5)  # reports

    def attach():
        job = get_queue("low", app).enqueue("jobs.attachments.attach_documents", org.id, 2)
        run_jobs()
        job.refresh()
        return job.return_value()

    assert attach()["attached"] == 2
    attached = [e for e in ledger_entries(app, org) if e.attachment_state == "attached"]
    # Forget that they were attached (a crash before our commit): no second copy is made.
    with session_scope(app) as db:
        for entry in attached:
            stored = db.get(LedgerEntry, entry.id)
            stored.attachment_state = None
            db.add(stored)
        db.commit()
    assert attach()["attached"] == 2
    documents = sandbox_documents(sandbox, org)
    by_id = {
        document[id_field]: document
        for endpoint, id_field in (
            ("BankTransactions", "BankTransactionID"),
            ("Invoices", "InvoiceID"),
            ("CreditNotes", "CreditNoteID"),
        )
        for document in documents[endpoint]
    }
    for entry in attached:
        files = [a["FileName"] for a in by_id[entry.xero_document_id]["Attachments"]]
        assert files == [f"Amazon-{entry.invoice_number}.pdf"]


def test_a_history_import_after_set_up_posts_by_itself_and_a_manual_one_waits(
    pipeline, sandbox, run_jobs
):
    """Set-up usually finishes while the history import runs (or the import is resumed after a
    crash): the import then queues the posting run itself. A manual import waits for the user
    ("Post N new")."""
    app, _client, org = pipeline
    finish_setup(app, org, include_new_card=True)
    import_days(app, org, days=30, trigger=ImportTrigger.MANUAL)
    run_jobs()
    states = {e.state for e in ledger_entries(app, org)}
    assert states == {EntryState.FETCHED}, states
    import_days(app, org, days=90, trigger=ImportTrigger.HISTORICAL)
    run_jobs()
    entries = ledger_entries(app, org)
    assert not [e for e in entries if e.state in (EntryState.FETCHED, EntryState.READY)]
    assert [e for e in entries if e.state == EntryState.POSTED]
    assert_exactly_once(app, sandbox, org)


def test_repeated_syncs_of_one_organisation_are_one_run(app, make_member):
    """Issue 19 point 4: hourly syncs behind a slow Xero used to pile up (one still queued 28
    minutes later). A scheduled import while one waits is that one, stretched to the new end."""
    _, org = make_member()
    with session_scope(app) as db:
        stored = db.get(Organisation, org.id)
        first = start_import(db, app, stored, TODAY - timedelta(days=3), TODAY, "scheduled", "t")
        again = start_import(
            db, app, stored, TODAY - timedelta(days=3), TODAY + timedelta(days=1), "scheduled", "t"
        )
        manual = start_import(db, app, stored, TODAY - timedelta(days=3), TODAY, "manual", "t")
        runs = list(db.exec(select(ImportRun).order_by(ImportRun.id)))
    assert again.id == first.id
    assert again.range_end.date() == TODAY + timedelta(days=1)
    assert manual.id != first.id  # a person's import is its own run
    assert len(runs) == 2
    queued = [j for j in get_queue("default", app).job_ids if j.startswith("import-")]
    queued += [j for j in get_queue("high", app).job_ids if j.startswith("import-")]
    assert sorted(queued) == sorted([f"import-{first.id}", f"import-{manual.id}"])


def test_an_import_that_finds_its_organisation_busy_comes_back_by_itself(pipeline, run_jobs):
    """It used to return "busy" and leave its run queued until the next recovery cycle (five
    minutes); now it queues itself again in 30 s and records that job on the run."""
    app, _client, org = pipeline
    redis = get_redis(app)
    run = import_days(app, org, days=30)
    with org_lock(redis, org.id, "post-1", ttl=60):  # a posting run holds the organisation
        run_jobs()
    with session_scope(app) as db:
        waiting = db.get(ImportRun, run.id)
    assert waiting.state == "queued"
    assert waiting.rq_job_id == f"import-{run.id}-later"
    queue = get_queue(import_queue(waiting.trigger), app)
    due = queue.scheduled_job_registry.get_scheduled_time(waiting.rq_job_id)
    assert 20 < (due - utcnow()).total_seconds() <= 31
    redis.zrem(queue.scheduled_job_registry.key, waiting.rq_job_id)  # thirty seconds on
    queue.enqueue_job(Job.fetch(waiting.rq_job_id, connection=redis))
    run_jobs()
    with session_scope(app) as db:
        assert db.get(ImportRun, run.id).state == "succeeded"
