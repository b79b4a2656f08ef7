"""A real RQ worker is killed (SIGKILL, work-horse and all) while a batch is on its way to Xero;
after a restart the ledger and the sandbox agree: 0 duplicates, 0 missing."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
import requests
from sqlmodel import select

from plugin.db import session_scope
from plugin.infra.queues import get_queue
from plugin.models import BatchState
from plugin.models import EntryState
from plugin.models import PostingBatch
from tests.common.e2e import sandbox_settings
from tests.common.pipeline import assert_exactly_once
from tests.common.pipeline import finish_setup
from tests.common.pipeline import import_days
from tests.common.pipeline import ledger_entries
from tests.common.processes import ROOT
from tests.common.processes import children_of
from tests.common.processes import clean_env

# Short figures so the test need not wait minutes: the org lock of a killed job frees in 3 s,
# and a batch without an answer can be looked up 9 s after it was sent (2 x 2 s + 5 s).
TIMING = {"ORG_LOCK_SECONDS": 3, "XERO_READ_TIMEOUT_SECONDS": 2, "XERO_IN_FLIGHT_SECONDS": 9}


@pytest.fixture
def app_config(app_config):
    app_config.update(TIMING)
    return app_config


def worker_env(app, sandbox_url):
    env = clean_env(OAUTHLIB_INSECURE_TRANSPORT="1", **{k: str(v) for k, v in TIMING.items()})
    for key in (
        "INSTANCE_PATH",
        "DATABASE_URL",
        "REDIS_URL",
        "TOKEN_ENCRYPTION_KEY",
        "SECRET_KEY",
        "PUBLIC_URL",
    ):
        env[key] = str(app.config[key])
    env.update({k: str(v) for k, v in sandbox_settings(sandbox_url).items()})
    return env


def wait_for(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def slow_batch_in_flight(app):
    """A BankTransactions batch is sent and not yet recorded: the one the sandbox holds open.
    (A Pay by Invoice batch is sent first and answered at once, too briefly to aim a kill at.)"""
    with session_scope(app) as db:
        return (
            db.exec(
                select(PostingBatch).where(
                    PostingBatch.state == BatchState.SENT,
                    PostingBatch.endpoint == "BankTransactions",
                )
            ).first()
            is not None
        )


def test_worker_killed_between_sent_and_recorded(pipeline, sandbox, run_jobs):
    app, _client, org = pipeline
    import_days(app, org, days=90)
    run_jobs()  # the import, in-process
    finish_setup(app, org, include_new_card=True)
    # Hold the first BankTransactions write open for 4 s so the kill lands mid-flight.
    requests.post(
        f"{sandbox.url}/_sandbox/faults",
        json={
            "service": "xero",
            "rates": {},
            "slow_seconds": 4,
            "queue": {
                "kind": "slow",
                "count": 1,
                "path_contains": "PUT /api.xro/2.0/BankTransactions",
            },
        },
        timeout=5,
    )
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    env = worker_env(app, sandbox.url)
    worker = subprocess.Popen(
        ["flask", "--app", "wsgi", "worker", "--name", "doomed"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(lambda: slow_batch_in_flight(app), what="a batch on its way to Xero")
        for pid in children_of(worker.pid):  # the work-horse runs the job
            os.kill(pid, signal.SIGKILL)
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.wait(timeout=10)
    stuck = [e for e in ledger_entries(app, org) if e.state == EntryState.POSTING]
    assert stuck, "the kill should leave entries between sent and recorded"
    # The slow request finishes in "Xero", the dead job's org lock expires, and the batch can
    # no longer be in flight: it can be looked up (nothing of it is ever sent again).
    time.sleep(TIMING["XERO_IN_FLIGHT_SECONDS"] + 0.5)

    second = get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    restarted = subprocess.run(
        ["flask", "--app", "wsgi", "worker", "--burst", "--name", "restarted"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert restarted.returncode == 0, restarted.stderr[-2000:]
    second.refresh()
    outcome = second.return_value()
    assert "skipped" not in outcome, outcome
    assert outcome["recovered"] > 0  # the killed batch was settled, not posted again
    entries = ledger_entries(app, org)
    assert not [e for e in entries if e.state in (EntryState.POSTING, EntryState.READY)]
    posted = assert_exactly_once(app, sandbox, org)
    assert len(posted) == len([e for e in entries if e.state == EntryState.POSTED])
    assert all(e.state in (EntryState.POSTED, EntryState.HELD) for e in entries)
