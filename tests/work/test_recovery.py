"""The recovery policy (plugin/work/recovery.py) tells interrupted imports from live ones.

Found by scripts/bench_many_orgs.py: a run committed a moment before its job reached Redis, or
whose job had started but not yet taken the organisation's lock, was taken for an interrupted
one and imported twice; the posting run waiting on the original then met a busy organisation.
These tests build each moment by hand (real Redis, real database) and check the verdict.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta

from rq.job import Job
from rq.job import JobStatus
from rq.utils import now as rq_now
from rq.utils import utcformat

from jobs.recovery import resume_interrupted
from plugin.infra.locks import running_holder
from plugin.infra.queues import JOB_HEARTBEAT_STALE_SECONDS
from plugin.infra.queues import enqueue_later
from plugin.infra.queues import enqueue_once
from plugin.infra.queues import get_queue
from plugin.infra.queues import get_redis
from plugin.infra.queues import job_alive
from plugin.infra.queues import worker_alive
from plugin.models import EntryState
from plugin.models import ImportRun
from plugin.models import ImportTrigger
from plugin.models import LedgerEntry
from plugin.models import OnboardingStep
from plugin.models import RunState
from plugin.models import utcnow
from plugin.work import imports
from plugin.work import recovery
from plugin.work.readiness import ready_to_post


def add_run(db_session, org, *, age_seconds: float = 0, job_id: str | None = None, state=None):
    run = ImportRun(
        organisation_id=org.id,
        trigger=ImportTrigger.HISTORICAL,
        range_start=utcnow() - timedelta(days=3),
        range_end=utcnow(),
        state=state or RunState.QUEUED,
        created_at=utcnow() - timedelta(seconds=age_seconds),
    )
    db_session.add(run)
    db_session.flush()
    run.rq_job_id = job_id if job_id is not None else f"import-{run.id}"
    db_session.commit()
    return run


def register_worker(client, name: str, pid: int, hostname: str | None = None) -> None:
    """The hash RQ keeps for a worker (``rq:worker:<name>``)."""
    client.hset(
        f"rq:worker:{name}",
        mapping={"pid": pid, "hostname": hostname or socket.gethostname(), "queues": "high"},
    )
    client.expire(f"rq:worker:{name}", 600)


def started_job(
    app,
    job_id: str,
    worker_name: str,
    func: str = "jobs.imports.import_range",
    beat_seconds_ago: float = 0,
):
    """A job a worker has taken (status ``started``, ``worker_name`` set, its last heartbeat
    ``beat_seconds_ago``) without running it."""
    queue = get_queue("high", app)
    job = queue.enqueue(func, 1, job_id=job_id)
    queue.remove(job)
    client = get_redis(app)
    beat = utcformat(rq_now() - timedelta(seconds=beat_seconds_ago))
    client.hset(
        job.key,
        mapping={"status": JobStatus.STARTED, "worker_name": worker_name, "last_heartbeat": beat},
    )
    return job


def record_ready_entry(db_session, org) -> LedgerEntry:
    """An entry a posting run left ``ready``."""
    entry = LedgerEntry(
        organisation_id=org.id, amazon_transaction_id="TX-READY", state=EntryState.READY
    )
    db_session.add(entry)
    db_session.commit()
    return entry


def dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def queued_imports(app) -> list[str]:
    return [j for j in get_queue("high", app).job_ids if j.startswith("import-")]


# --- Live or dead workers and jobs ---------------------------------------------------------------


def test_a_worker_is_alive_while_its_process_runs(app):
    client = get_redis(app)
    register_worker(client, "live", os.getpid())
    register_worker(client, "dead", dead_pid())
    register_worker(client, "elsewhere", 1, hostname="another-machine")
    assert worker_alive(client, "live") is True
    assert worker_alive(client, "dead") is False
    assert worker_alive(client, "elsewhere") is True  # its key expires when it stops
    assert worker_alive(client, "never-registered") is False
    assert worker_alive(client, None) is False


def test_a_job_is_alive_when_waiting_or_started_by_a_live_worker(app):
    client = get_redis(app)
    register_worker(client, "live", os.getpid())
    register_worker(client, "dead", dead_pid())
    waiting = get_queue("high", app).enqueue("jobs.health.ping", job_id="waiting")
    started_job(app, "on-live", "live")
    started_job(app, "on-dead", "dead")
    assert job_alive(client, waiting.id) is True
    assert job_alive(client, "on-live") is True
    assert job_alive(client, "on-dead") is False
    assert job_alive(client, "not-in-redis") is False
    assert job_alive(client, None) is False


def test_a_started_job_its_live_worker_no_longer_beats_for_is_not_alive(app):
    """Issue 19 point 3: Redis came back from a snapshot taken while the job ran. The registry
    says started, on a worker that is alive, but that worker moved on long ago: only the job's
    heartbeat tells (the registry alone kept posting still for 3 min 26 s in the chaos run)."""
    client = get_redis(app)
    register_worker(client, "live", os.getpid())
    started_job(app, "running", "live", beat_seconds_ago=JOB_HEARTBEAT_STALE_SECONDS - 5)
    started_job(app, "restored", "live", beat_seconds_ago=JOB_HEARTBEAT_STALE_SECONDS + 5)
    assert job_alive(client, "running") is True
    assert job_alive(client, "restored") is False


def test_an_import_ending_queues_posting_past_a_stale_started_posting_job(app):
    """The import's own ``enqueue_once`` (no special flag) replaces a posting job the restored
    registry shows started but nobody runs, instead of being blocked by it."""
    client = get_redis(app)
    register_worker(client, "live", os.getpid())
    started_job(app, "post-1", "live", "jobs.health.ping", JOB_HEARTBEAT_STALE_SECONDS + 5)
    assert enqueue_once("high", "jobs.health.ping", "post-1", app=app) is True
    assert Job.fetch("post-1", connection=client).get_status() == JobStatus.QUEUED


def test_recovery_queues_posting_while_an_import_of_the_org_is_unfinished(app, db_session, org):
    """The worker's start-up recovery used to skip posting because an import was unfinished,
    and posting waited for the cron. Now both are resumed."""
    run = add_run(db_session, org, age_seconds=600, state=RunState.RUNNING)
    register_worker(get_redis(app), "killed", dead_pid())
    started_job(app, str(run.rq_job_id), "killed")
    record_ready_entry(db_session, org)
    org.onboarding_step, org.sync_enabled = OnboardingStep.DONE, True
    db_session.add(org)
    db_session.commit()
    assert ready_to_post(org) is None
    done = resume_interrupted()
    assert done["imports"] == [run.id]
    assert done["posting"] == [org.id]
    assert f"post-{org.id}" in get_queue("high", app).job_ids


def test_work_arriving_while_a_posting_run_finishes_gets_one_follow_up_run(app):
    """An import that ends while a posting run is on its last batch: that run may be past the
    new entries, so one more waits behind it (and only one), instead of the next sync."""
    client = get_redis(app)
    register_worker(client, "live", os.getpid())
    started_job(app, "post-1", "live", "jobs.health.ping")
    assert enqueue_once("high", "jobs.health.ping", "post-1", app=app) is False
    assert get_queue("high", app).job_ids == []
    for _ in range(3):
        enqueue_once("high", "jobs.health.ping", "post-1", app=app, follow_up=True)
    assert get_queue("high", app).job_ids == ["post-1-next"]
    assert Job.fetch("post-1", connection=client).get_status() == JobStatus.STARTED


def test_a_retry_is_never_scheduled_under_the_id_of_a_job_running_now(app):
    """Found by the full-size slow-Xero scenario: a second worker's posting run paused while
    the first ran ``post-later-1`` and scheduled its retry under that same id; when the first
    ended RQ deleted the key (``result_ttl=0``) and the retry never ran."""
    client = get_redis(app)
    register_worker(client, "live", os.getpid())
    started_job(app, "post-later-1", "live", "jobs.health.ping")
    ids = ("post-later-1", "post-later-1-again")
    assert enqueue_later("default", 30, "jobs.health.ping", job_ids=ids, app=app) == ids[1]
    registry = get_queue("default", app).scheduled_job_registry
    assert registry.get_job_ids() == ["post-later-1-again"]
    # Another pause meanwhile is coalesced into the one waiting.
    assert enqueue_later("default", 60, "jobs.health.ping", job_ids=ids, app=app) == ids[1]
    assert registry.get_job_ids() == ["post-later-1-again"]
    assert Job.fetch("post-later-1", connection=client).get_status() == JobStatus.STARTED


def test_enqueue_once_never_replaces_a_job_running_on_a_live_worker(app):
    """Replacing a running job made RQ fail it when it ended (seen with 4 workers starting
    together: ``InvalidJobOperation`` on ``resume-interrupted``)."""
    client = get_redis(app)
    register_worker(client, "live", os.getpid())
    running = started_job(app, "post-1", "live", "jobs.health.ping")
    assert enqueue_once("high", "jobs.health.ping", "post-1", app=app) is False
    assert Job.fetch("post-1", connection=client).get_status() == JobStatus.STARTED
    assert running.id not in get_queue("high", app).job_ids


def test_enqueue_once_replaces_a_started_job_whose_worker_died(app):
    client = get_redis(app)
    register_worker(client, "dead", dead_pid())
    started_job(app, "post-1", "dead", "jobs.health.ping")
    assert enqueue_once("high", "jobs.health.ping", "post-1", app=app)
    assert Job.fetch("post-1", connection=client).get_status() == JobStatus.QUEUED
    assert enqueue_once("high", "jobs.health.ping", "post-1", app=app) is False  # now waiting


# --- The recovery verdicts ---------------------------------------------------------------------


def test_a_run_whose_job_is_not_in_redis_yet_is_not_judged_yet(app, db_session, org):
    run = add_run(db_session, org)  # committed; its job is being enqueued right now
    assert recovery.interrupted(db_session, get_redis(app), run) == "young"


def test_a_run_whose_job_arrives_while_recovery_waits_is_left_alone(
    app, db_session, org, monkeypatch
):
    monkeypatch.setattr(recovery, "YOUNG_SECONDS", 2)
    run = add_run(db_session, org)

    def enqueue_late() -> None:
        time.sleep(0.5)
        get_queue("high", app).enqueue("jobs.imports.import_range", run.id, job_id=run.rq_job_id)

    late = threading.Thread(target=enqueue_late)
    late.start()
    result = resume_interrupted()
    late.join()
    assert result["imports"] == []
    assert queued_imports(app) == [f"import-{run.id}"]


def test_a_run_whose_job_never_arrives_is_queued_once_it_is_not_young(
    app, db_session, org, monkeypatch
):
    monkeypatch.setattr(recovery, "YOUNG_SECONDS", 2)
    run = add_run(db_session, org)
    result = resume_interrupted()  # waits for the run to be old enough to judge
    assert result["imports"] == [run.id]
    assert queued_imports(app) == [f"import-{run.id}-resume-1"]


def test_a_run_whose_job_was_lost_is_queued_again(app, db_session, org):
    run = add_run(db_session, org, age_seconds=recovery.YOUNG_SECONDS + 5)
    result = resume_interrupted()
    assert result["imports"] == [run.id]
    assert queued_imports(app) == [f"import-{run.id}-resume-1"]
    db_session.refresh(run)
    assert run.rq_job_id == f"import-{run.id}-resume-1"
    # The copy is waiting now: a second look leaves it alone.
    assert resume_interrupted()["imports"] == []
    assert queued_imports(app) == [f"import-{run.id}-resume-1"]


def test_a_run_whose_job_has_started_on_a_live_worker_is_left_alone(app, db_session, org):
    """Between taking the job and taking the organisation's lock the run looks abandoned."""
    run = add_run(db_session, org, age_seconds=600, state=RunState.RUNNING)
    register_worker(get_redis(app), "live", os.getpid())
    started_job(app, str(run.rq_job_id), "live")
    assert resume_interrupted()["imports"] == []
    assert queued_imports(app) == []


def test_a_run_whose_worker_was_killed_is_queued_again(app, db_session, org):
    run = add_run(db_session, org, age_seconds=600, state=RunState.RUNNING)
    register_worker(get_redis(app), "killed", dead_pid())
    started_job(app, str(run.rq_job_id), "killed")
    assert resume_interrupted()["imports"] == [run.id]
    assert queued_imports(app) == [f"import-{run.id}-resume-1"]


def test_a_run_that_ended_after_the_list_was_read_is_not_queued_again(app, db_session, org):
    from plugin.db import session_scope

    run = add_run(db_session, org, age_seconds=600, state=RunState.RUNNING)
    with session_scope(app) as other:  # its job finishes it and lets the lock go
        ended = other.get(ImportRun, run.id)
        ended.state = RunState.SUCCEEDED
        other.add(ended)
        other.commit()
    assert run.state == RunState.RUNNING  # this session's copy is stale
    assert recovery.interrupted(db_session, get_redis(app), run) == "ended"


def test_a_run_whose_organisation_is_locked_is_waited_for(app, db_session, org):
    add_run(db_session, org, age_seconds=600, state=RunState.RUNNING)
    get_redis(app).set(f"lock:org-work:{org.id}", "import-elsewhere", ex=120)
    result = resume_interrupted()
    assert result["imports"] == []
    assert result["waiting_for"] == [org.id]
    assert queued_imports(app) == []


# --- A late copy of a run ----------------------------------------------------------------------


def test_a_late_copy_of_an_ended_run_changes_nothing(app, db_session, org):
    from jobs.imports import import_range

    run = add_run(db_session, org, state=RunState.SUCCEEDED)
    run.fetched, run.new, run.finished_at = 12, 12, utcnow()
    db_session.add(run)
    db_session.commit()
    finished_at = run.finished_at
    assert import_range(run.id) == {"run": run.id, "skipped": "already succeeded"}
    db_session.refresh(run)
    assert (run.state, run.fetched, run.new, run.finished_at) == (
        RunState.SUCCEEDED,
        12,
        12,
        finished_at,
    )
    assert running_holder(get_redis(app), org.id) is None
    assert f"post-{org.id}" not in get_queue("high", app).job_ids


def test_start_import_records_the_job_id_with_the_run(app, db_session, org):
    run = imports.start_import(
        db_session, app, org, utcnow().date(), utcnow().date(), ImportTrigger.MANUAL, "test"
    )
    assert run.rq_job_id == f"import-{run.id}"
    assert run.rq_job_id in get_queue("high", app).job_ids


# --- A posting run that meets a busy organisation ------------------------------------------------


def test_a_busy_retry_that_meets_a_busy_organisation_again_comes_back_again(app, org, run_jobs):
    client = get_redis(app)
    client.set(f"lock:org-work:{org.id}", "import-elsewhere", ex=300)  # a long import
    queue = get_queue("default", app)
    queue.enqueue("jobs.posting.post_ready", org.id, job_id=f"post-after-busy-{org.id}")
    run_jobs(queues=("default",))
    again = Job.fetch(f"post-after-busy-{org.id}-again", connection=client)
    assert again.get_status() == JobStatus.SCHEDULED
    assert again.args[0] == org.id


# --- An import that keeps stopping ---------------------------------------------------------------


def test_an_import_that_keeps_crashing_is_failed_with_its_error(
    app, db_session, make_member, run_jobs, sign_in, monkeypatch
):
    """Each resumed copy crashes the same way: after IMPORT_RESUME_LIMIT tries the run is
    failed with the job's last error, nothing is queued again, and the page says so."""
    from sqlmodel import select

    from plugin.models import AuditEvent
    from tests.common.manage import HTMX
    from tests.common.manage import ready_org

    user, org = ready_org(make_member, db_session)
    app.config["IMPORT_RESUME_LIMIT"] = 2

    def crash(*_args, **_kwargs):
        raise RuntimeError("the feed page could not be stored")

    monkeypatch.setattr(imports, "run_import", crash)  # SimpleWorker runs jobs in this process
    run = add_run(db_session, org, age_seconds=600, state=RunState.RUNNING)
    for attempt in (1, 2):
        assert resume_interrupted()["imports"] == [run.id]
        assert queued_imports(app) == [f"import-{run.id}-resume-{attempt}"]
        assert run_jobs(queues=("high",)) == 1  # the copy fails
    result = resume_interrupted()
    assert result["imports"] == []
    assert result["given_up"] == [run.id]
    assert queued_imports(app) == []
    db_session.refresh(run)
    assert run.state == RunState.FAILED
    assert run.finished_at is not None
    assert "interrupted 2 times" in run.error
    assert "RuntimeError: the feed page could not be stored" in run.error
    events = db_session.exec(select(AuditEvent).where(AuditEvent.action == "import_given_up")).all()
    assert [e.detail["run"] for e in events] == [run.id]
    # Later looks leave the failed run alone.
    assert resume_interrupted() == {
        "imports": [],
        "posting": [],
        "waiting_for": [],
        "too_young": [],
    }
    page = sign_in(app.test_client(), user).get(f"/orgs/{org.id}/manage/history", headers=HTMX)
    html = page.get_data(as_text=True)
    assert '<span class="badge badge-bad">Failed</span>' in html
    assert "the feed page could not be stored" in html
    assert "start the import again from Manage Integrations" in html


def test_an_import_killed_without_an_error_says_its_worker_stopped(app, db_session, org):
    app.config["IMPORT_RESUME_LIMIT"] = 0
    run = add_run(db_session, org, age_seconds=600, state=RunState.RUNNING)
    register_worker(get_redis(app), "killed", dead_pid())
    started_job(app, str(run.rq_job_id), "killed")
    assert resume_interrupted()["given_up"] == [run.id]
    db_session.refresh(run)
    assert run.state == RunState.FAILED
    assert "(its worker stopped each time)" in run.error
