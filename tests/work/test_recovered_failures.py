"""Recovered work does not look failed (issue 18, point 9).

A killed worker's job ends in RQ's failed registry (``AbandonedJobError``) even though recovery
resumes its work under a new job id. Recovery records on the killed job which job took the work
over (``job.meta["resumed_by"]``), and ``/healthz`` counts only the failures nobody recovered.
The moments are built by hand (real Redis, real database), as in tests/work/test_recovery.py.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from rq.job import Job
from rq.job import JobStatus

from jobs.recovery import resume_interrupted
from plugin.infra.queues import QUEUE_NAMES
from plugin.infra.queues import get_queue
from plugin.infra.queues import get_redis
from plugin.models import EntryState
from plugin.models import ImportRun
from plugin.models import ImportTrigger
from plugin.models import LedgerEntry
from plugin.models import OnboardingStep
from plugin.models import RunState
from plugin.models import utcnow
from plugin.work.recovery import RESUMED_BY


def dead_worker(app) -> str:
    """The name of a worker whose process has ended (RQ's hash for it still there)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    client = get_redis(app)
    client.hset(
        "rq:worker:killed",
        mapping={"pid": process.pid, "hostname": socket.gethostname(), "queues": "high"},
    )
    client.expire("rq:worker:killed", 600)
    return "killed"


def started_on(app, queue_name: str, job_id: str, func: str, worker: str) -> Job:
    """A job taken by ``worker`` (status ``started``, in the started registry) and not ended."""
    queue = get_queue(queue_name, app)
    job = queue.enqueue(func, 1, job_id=job_id)
    queue.remove(job)
    client = get_redis(app)
    client.hset(job.key, mapping={"status": JobStatus.STARTED, "worker_name": worker})
    # The worker's heartbeat stopped long ago: RQ's next clean-up takes the job for abandoned.
    client.zadd(queue.started_job_registry.key, {f"{job_id}:execution-1": 1})
    return job


def rq_notices_the_dead_worker(app) -> None:
    """What RQ's maintenance does: abandoned started jobs go to the failed registry."""
    for name in QUEUE_NAMES:
        get_queue(name, app).started_job_registry.cleanup()


def failed_jobs(client) -> dict[str, int]:
    response = client.get("/healthz")
    assert response.status_code == 200
    return response.get_json()["failed_jobs"]


def killed_import(app, db_session, org) -> ImportRun:
    run = ImportRun(
        organisation_id=org.id,
        trigger=ImportTrigger.HISTORICAL,
        range_start=utcnow() - timedelta(days=3),
        range_end=utcnow(),
        state=RunState.RUNNING,
        created_at=utcnow() - timedelta(seconds=600),
    )
    db_session.add(run)
    db_session.flush()
    run.rq_job_id = f"import-{run.id}"
    db_session.commit()
    started_on(app, "high", run.rq_job_id, "jobs.imports.import_range", dead_worker(app))
    return run


@pytest.mark.parametrize("first", ["rq-notices-first", "recovery-first"])
def test_a_killed_import_that_recovery_resumed_is_not_an_unrecovered_failure(
    app, client, db_session, org, first
):
    run = killed_import(app, db_session, org)
    killed_id = str(run.rq_job_id)
    if first == "rq-notices-first":
        rq_notices_the_dead_worker(app)
        assert failed_jobs(client) == {"unrecovered": 1, "resumed": 0}
    assert resume_interrupted()["imports"] == [run.id]
    rq_notices_the_dead_worker(app)

    killed = Job.fetch(killed_id, connection=get_redis(app))
    assert killed.get_status() == JobStatus.FAILED
    assert "AbandonedJobError" in (killed.latest_result().exc_string or "")
    assert killed.meta[RESUMED_BY] == f"import-{run.id}-resume-1"
    assert killed.id in get_queue("high", app).failed_job_registry.get_job_ids()
    assert failed_jobs(client) == {"unrecovered": 0, "resumed": 1}


def test_an_import_recovery_gave_up_on_stays_an_unrecovered_failure(app, client, db_session, org):
    app.config["IMPORT_RESUME_LIMIT"] = 0
    run = killed_import(app, db_session, org)
    rq_notices_the_dead_worker(app)
    assert resume_interrupted()["given_up"] == [run.id]
    assert RESUMED_BY not in Job.fetch(str(run.rq_job_id), connection=get_redis(app)).meta
    assert failed_jobs(client) == {"unrecovered": 1, "resumed": 0}


def test_a_killed_posting_run_that_recovery_resumed_is_not_an_unrecovered_failure(
    app, client, db_session, org
):
    org.onboarding_step = OnboardingStep.DONE
    org.sync_enabled = True
    db_session.add(org)
    db_session.add(
        LedgerEntry(organisation_id=org.id, amazon_transaction_id="T-1", state=EntryState.READY)
    )
    db_session.commit()
    killed_id = f"retry-{org.id}"
    started_on(app, "high", killed_id, "jobs.posting.post_ready", dead_worker(app))
    rq_notices_the_dead_worker(app)
    assert failed_jobs(client) == {"unrecovered": 1, "resumed": 0}

    assert resume_interrupted()["posting"] == [org.id]
    assert Job.fetch(killed_id, connection=get_redis(app)).meta[RESUMED_BY] == f"post-{org.id}"
    assert failed_jobs(client) == {"unrecovered": 0, "resumed": 1}


def test_the_benchmarks_count_failures_by_the_healthz_rule(app, client, db_session, org):
    """``scripts/benchlib.failed_jobs`` (the benchmarks' "failed jobs" verdict) counts what
    /healthz counts as unrecovered: a killed import that recovery resumed is not a failure, an
    import recovery gave up on is."""
    import importlib
    import types

    benchlib = importlib.import_module("scripts.benchlib")
    stack = types.SimpleNamespace(app=app)
    resumed = killed_import(app, db_session, org)
    resume_interrupted()
    rq_notices_the_dead_worker(app)
    assert benchlib.failed_jobs(stack) == []
    assert benchlib.resumed_jobs(stack) == 1

    app.config["IMPORT_RESUME_LIMIT"] = 0
    db_session.refresh(resumed)
    resumed.state = RunState.SUCCEEDED
    db_session.add(resumed)
    db_session.commit()
    given_up = killed_import(app, db_session, org)
    rq_notices_the_dead_worker(app)
    assert resume_interrupted()["given_up"] == [given_up.id]
    failures = benchlib.failed_jobs(stack)
    assert [f.split(":")[0] for f in failures] == [given_up.rq_job_id]
    assert "AbandonedJobError" in failures[0]
    assert failed_jobs(client) == {"unrecovered": 1, "resumed": 1}
