"""Review before posting, with a real RQ worker killed (SIGKILL, work-horse and all) while the
posting run of an approval has a batch on its way to Xero: after a restart every approved
purchase is in Xero exactly once, none is back in review, and approving again posts nothing."""

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
from plugin.models import EntryState
from plugin.models import User
from tests.common.pipeline import assert_exactly_once
from tests.common.pipeline import finish_setup
from tests.common.pipeline import import_days
from tests.common.pipeline import ledger_entries
from tests.common.processes import ROOT
from tests.common.processes import children_of
from tests.common.web import sign_in_on
from tests.work.test_worker_killed import TIMING
from tests.work.test_worker_killed import slow_batch_in_flight
from tests.work.test_worker_killed import wait_for
from tests.work.test_worker_killed import worker_env

HTMX = {"HX-Request": "true"}


@pytest.fixture
def app_config(app_config):
    app_config.update(TIMING)
    return app_config


def test_a_worker_killed_while_posting_an_approval_posts_each_once(pipeline, sandbox, run_jobs):
    app, _client, org = pipeline
    finish_setup(app, org, include_new_card=True)
    with session_scope(app) as db:
        user = db.exec(select(User)).one()
    client = sign_in_on(app, app.test_client(), user)
    client.post(f"/orgs/{org.id}/review/mode", data={"review": "1"}, headers=HTMX)
    import_days(app, org, days=60)
    run_jobs()  # the import and its posting run, in-process: in review mode it posts nothing
    waiting = [e for e in ledger_entries(app, org) if e.state == EntryState.REVIEW]
    assert len(waiting) > 10
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
    page = client.get(f"/orgs/{org.id}/review").get_data(as_text=True)
    as_of = page.split('name="as_of" value="', 1)[1].split('"', 1)[0]
    answer = client.post(
        f"/orgs/{org.id}/review/approve", data={"all": "1", "as_of": as_of}, headers=HTMX
    )
    assert f"Approved {len(waiting)} purchases: posting to Xero now." in answer.get_data(
        as_text=True
    )
    env = worker_env(app, sandbox.url)
    worker = subprocess.Popen(
        ["flask", "--app", "wsgi", "worker", "--name", "doomed-review"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(lambda: slow_batch_in_flight(app), what="a batch on its way to Xero")
        for pid in children_of(worker.pid):
            os.kill(pid, signal.SIGKILL)
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.wait(timeout=10)
    assert [e for e in ledger_entries(app, org) if e.state == EntryState.POSTING]
    # A second approval of the same page (a reload, another tab) moves nothing.
    again = client.post(
        f"/orgs/{org.id}/review/approve", data={"all": "1", "as_of": as_of}, headers=HTMX
    )
    assert "Nothing to approve" in again.get_data(as_text=True)
    time.sleep(TIMING["XERO_IN_FLIGHT_SECONDS"] + 0.5)  # the killed batch can be looked up

    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    restarted = subprocess.run(
        ["flask", "--app", "wsgi", "worker", "--burst", "--name", "restarted-review"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert restarted.returncode == 0, restarted.stderr[-2000:]
    entries = {e.id: e for e in ledger_entries(app, org)}
    assert all(entries[e.id].state == EntryState.POSTED for e in waiting), {
        str(entries[e.id].state) for e in waiting
    }
    posted = assert_exactly_once(app, sandbox, org)
    assert {e.id for e in posted} == {e.id for e in waiting}
