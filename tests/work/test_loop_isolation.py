"""Every job that loops over organisations goes on past one that fails in the middle (issue 18,
point 5's rule, "the same rule for every job that loops over organisations"): the scheduled
sync fan-out, the contact checks, the digests and recovery (its imports and its posting runs).
Three organisations each time, the middle one failing; the first and the last are served."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from jobs.notifications import send_digests
from jobs.recovery import resume_interrupted
from plugin.infra.queues import get_queue
from plugin.models import EntryState
from plugin.models import ImportRun
from plugin.models import ImportTrigger
from plugin.models import LedgerEntry
from plugin.models import OnboardingStep
from plugin.models import RunState
from plugin.models import utcnow
from plugin.notify import digest
from plugin.work import contact_checks
from plugin.work import recovery
from plugin.work import scheduled


@pytest.fixture
def three_orgs(make_member):
    """Three organisations (first, middle, last), each with its own member."""
    return [
        make_member(f"user-{i}", f"tenant-{i}", f"Org {i} Ltd", **fields)[1]
        for i, fields in enumerate(
            [{"sync_enabled": True, "amazon_contact_id": f"c-{i}"} for i in range(3)]
        )
    ]


def failing_for(org_id, real):
    """``enqueue_once`` that fails for one organisation's job."""

    def enqueue_once(queue, func, job_id, *args, **kwargs):
        if args and args[0] == org_id:
            raise RuntimeError("cannot queue")
        return real(queue, func, job_id, *args, **kwargs)

    return enqueue_once


def test_sync_all_goes_past_a_failing_organisation(app, db_session, three_orgs, monkeypatch):
    first, middle, last = three_orgs
    monkeypatch.setattr(
        "plugin.work.scheduled.enqueue_once", failing_for(middle.id, scheduled.enqueue_once)
    )
    assert scheduled.sync_all(db_session, app) == {"organisations": 3, "queued": 2, "failed": 1}
    assert get_queue("default", app).job_ids == [f"sync-{first.id}", f"sync-{last.id}"]


def test_contact_checks_go_past_a_failing_organisation(app, db_session, three_orgs, monkeypatch):
    first, middle, last = three_orgs
    monkeypatch.setattr(
        "plugin.work.contact_checks.enqueue_once",
        failing_for(middle.id, contact_checks.enqueue_once),
    )
    assert contact_checks.queue_contact_checks(db_session, app) == {"enqueued": 2, "failed": 1}
    assert get_queue("default", app).job_ids == [
        f"contact-check-{first.id}",
        f"contact-check-{last.id}",
    ]


def test_digests_go_past_a_failing_organisation(app, make_member, monkeypatch):
    orgs = [
        make_member(f"user-{i}", f"tenant-{i}", f"Org {i} Ltd", status="needs_reconnect")[1]
        for i in range(3)
    ]
    real = digest.snapshot_of

    def snapshot_of(session, org):
        if org.id == orgs[1].id:
            raise RuntimeError("unreadable data")
        return real(session, org)

    monkeypatch.setattr("plugin.notify.digest.snapshot_of", snapshot_of)
    assert send_digests() == {"emails": 2, "organisations_skipped": 0, "failed": 1}


def interrupted_run(db_session, org) -> ImportRun:
    run = ImportRun(
        organisation_id=org.id,
        trigger=ImportTrigger.HISTORICAL,
        range_start=utcnow() - timedelta(days=3),
        range_end=utcnow(),
        state=RunState.RUNNING,
        created_at=utcnow() - timedelta(seconds=600),
        rq_job_id=f"import-lost-{org.id}",
    )
    db_session.add(run)
    db_session.commit()
    return run


def test_recovery_resumes_the_imports_of_the_others_when_one_fails(
    app, db_session, three_orgs, monkeypatch, caplog
):
    runs = [interrupted_run(db_session, org) for org in three_orgs]
    middle = three_orgs[1]
    real = recovery._queue_again

    def queue_again(session, app, client, run):
        if run.organisation_id == middle.id:
            raise RuntimeError("this organisation's run cannot be read")
        return real(session, app, client, run)

    monkeypatch.setattr(recovery, "_queue_again", queue_again)
    with caplog.at_level(logging.ERROR, logger="plugin.work.recovery"):
        result = resume_interrupted()
    assert result["imports"] == [runs[0].id, runs[2].id]
    assert result["failed"] == [middle.id]
    assert f"(org {middle.id}) failed" in caplog.text


def test_recovery_resumes_the_posting_of_the_others_when_one_fails(
    app, db_session, three_orgs, monkeypatch
):
    for org in three_orgs:
        org.onboarding_step = OnboardingStep.DONE
        db_session.add(org)
        db_session.add(
            LedgerEntry(
                organisation_id=org.id, amazon_transaction_id=f"T-{org.id}", state=EntryState.READY
            )
        )
    db_session.commit()
    first, middle, last = three_orgs
    real = recovery.ready_to_post

    def ready_to_post(org):
        if org.id == middle.id:
            raise RuntimeError("this organisation's settings cannot be read")
        return real(org)

    monkeypatch.setattr(recovery, "ready_to_post", ready_to_post)
    result = resume_interrupted()
    assert result["posting"] == [first.id, last.id]
    assert result["failed"] == [middle.id]
    assert sorted(get_queue("high", app).job_ids) == sorted([f"post-{first.id}", f"post-{last.id}"])
