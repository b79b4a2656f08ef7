"""Fault 3: Redis is stopped and started again in the middle of an import (a private
redis-server, so the machine's own is never touched). While it is down the web pages still
answer (no 500: the page, or the friendly 503 page) and ``/healthz`` says 503; once it is back,
the interrupted import is resumed (``jobs.recovery.resume_interrupted``, which the cron runs
every 5 minutes and every worker runs when it starts) and the end state is exact: nothing lost,
nothing posted twice.

Default run: 150 transactions, one restart. Full run (``-m slow``): 2,000 transactions, three
restarts (a graceful stop that saves the data, as ``systemctl restart`` does).
"""

from __future__ import annotations

import time

import pytest

from plugin.infra.queues import get_queue
from plugin.infra.redis_server import answers
from plugin.infra.redis_server import start_private_redis
from plugin.models import ImportTrigger
from plugin.models import RunState
from tests.common.pipeline import import_days
from tests.proof.scenario import build_scenario
from tests.proof.scenario import e2e_scenario  # noqa: F401 (fixture)
from tests.proof.scenario import outage_verdict
from tests.proof.scenario import verdict
from tests.proof.scenario import wait_until


def pages_while_down(scenario) -> dict[str, int]:
    """Status of each page a signed-in member uses; none may be a 500."""
    statuses = {}
    for path in ("/", f"/orgs/{scenario.org.id}/manage", "/healthz"):
        answer = scenario.client.get(path)
        statuses[path] = answer.status_code
        assert answer.status_code < 500 or answer.status_code == 503, (path, answer.status_code)
        if answer.status_code == 503 and path != "/healthz":
            assert "right back" in answer.get_data(as_text=True), path
    assert statuses["/healthz"] == 503
    return statuses


def run_restarts(app_config, make_app, monkeypatch, tmp_path, transactions, restarts, page):
    directory = tmp_path / "private-redis"
    server = start_private_redis(directory)
    app_config["REDIS_URL"] = server.url
    scenario = build_scenario(
        app_config, make_app, monkeypatch, transactions, page=page, latency=(0.2, 0.3)
    )
    seen: list[dict[str, int]] = []
    worker_restarts = 0
    started = time.monotonic()
    try:
        worker = scenario.start_worker("worker")
        run = import_days(scenario.app, scenario.org, days=90, trigger=ImportTrigger.SCHEDULED)
        for _ in range(restarts):
            wait_until(
                lambda: (
                    (scenario.latest_run().fetched or 0) > 0
                    or scenario.latest_run().state == RunState.SUCCEEDED
                ),
                60,
                "the import to be under way",
            )
            server.stop()  # SIGTERM: Redis saves its data on the way down
            time.sleep(1.0)
            seen.append(pages_while_down(scenario))
            time.sleep(2.0)
            server = start_private_redis(directory)
            url = server.url
            wait_until(lambda u=url: answers(u), 10, "Redis to answer again")
            if worker.poll() is not None:  # the supervisor (honcho, systemd) starts it again
                worker = scenario.start_worker(f"worker-{worker_restarts}")
                worker_restarts += 1
            # What the cron does every 5 minutes (and a starting worker does at once).
            get_queue("high", scenario.app).enqueue("jobs.recovery.resume_interrupted")
        wait_until(
            scenario.settled, 600, "the import and posting to finish", 0.5, scenario.describe
        )
        assert scenario.latest_run().id == run.id
    finally:
        scenario.stop_workers()
        elapsed = time.monotonic() - started
        try:
            result = verdict(scenario)
        finally:
            scenario.sandbox.stop()
            server.stop()
    outage_verdict(
        result,
        "redis-restart",
        seen,
        restarts=restarts,
        worker_restarts=worker_restarts,
        seconds=int(elapsed),
    )
    assert worker_restarts == 0, "the worker process must ride out the outage (worker_runner)"
    return result


@pytest.mark.usefixtures("e2e_scenario")
def test_redis_restarted_mid_import(app_config, make_app, monkeypatch, tmp_path):
    run_restarts(app_config, make_app, monkeypatch, tmp_path, 150, restarts=1, page=10)


@pytest.mark.slow
@pytest.mark.usefixtures("e2e_scenario")
def test_redis_restarted_three_times_during_2000(app_config, make_app, monkeypatch, tmp_path):
    run_restarts(app_config, make_app, monkeypatch, tmp_path, 2000, restarts=3, page=50)
