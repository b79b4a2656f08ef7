"""Fault 1: the RQ worker is SIGKILLed (work-horse and all) at seeded random moments during an
import + post, and restarted each time; at the end every Amazon transaction is in the ledger,
in a final state, and posted at most once: sandbox documents = posted entries.

Default run: 150 generated transactions, 3 kills. Full run (``-m slow``): 2,530 generated (about
2,000 in the connected store), 20 kills. The first third of the kills land anywhere (in practice
during the import, which a kill restarts from its first page); the rest wait until posting has
started, then land at a seeded random moment.
``PROOF_SEED`` changes the kill schedule (default 20240611).
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter

import pytest

from plugin.models import ImportTrigger
from tests.common.pipeline import import_days
from tests.proof.scenario import build_scenario
from tests.proof.scenario import e2e_scenario  # noqa: F401 (fixture)
from tests.proof.scenario import kill_worker
from tests.proof.scenario import queues_idle
from tests.proof.scenario import say
from tests.proof.scenario import verdict
from tests.proof.scenario import wait_until

SEED = int(os.environ.get("PROOF_SEED", "20240611"))


def run_kills(app_config, make_app, monkeypatch, transactions, kills, settle_timeout, page, spread):
    scenario = build_scenario(
        app_config, make_app, monkeypatch, transactions, page=page, latency=(0.25, 0.15)
    )
    rng = random.Random(SEED)
    landed: Counter[str] = Counter()
    started = time.monotonic()
    try:
        import_days(scenario.app, scenario.org, days=90, trigger=ImportTrigger.SCHEDULED)
        for number in range(kills):
            worker = scenario.start_worker(f"doomed-{number}")
            wait_until(lambda w=worker: scenario.worker_ready(w), 30, "the worker to start")
            if number >= kills // 3:
                # Two thirds of the kills hit posting: let this worker finish the import first
                # (a killed import starts again from its first page).
                wait_until(
                    lambda: scenario.phase() in ("posting", "idle"),
                    300,
                    "posting to start",
                    state=scenario.describe,
                )
            time.sleep(rng.uniform(*spread))  # somewhere in the next stretch of work
            landed[scenario.phase()] += 1
            kill_worker(worker)
            if scenario.settled():
                break  # nothing left to interrupt
        scenario.start_worker("survivor")
        wait_until(
            lambda: scenario.settled() and queues_idle(scenario.app),
            settle_timeout,
            "every entry to reach a final state after the kills",
            every=0.5,
            state=scenario.describe,
        )
    finally:
        scenario.stop_workers()
        elapsed = time.monotonic() - started
    try:
        result = verdict(scenario)
    finally:
        scenario.sandbox.stop()
    where = ",".join(f"{k}:{v}" for k, v in sorted(landed.items()))
    line = result.line(
        "worker-kills", seed=SEED, kills=sum(landed.values()), landed=where, seconds=int(elapsed)
    )
    say(line)
    assert result.sound, (line, result.problems)
    assert result.posted > 0
    return result, landed


@pytest.mark.usefixtures("e2e_scenario")
def test_worker_killed_three_times_during_import_and_post(app_config, make_app, monkeypatch):
    _result, landed = run_kills(
        app_config,
        make_app,
        monkeypatch,
        transactions=150,
        kills=3,
        settle_timeout=120,
        page=10,
        spread=(0.05, 3.0),
    )
    assert sum(landed.values()) >= 1


@pytest.mark.slow
@pytest.mark.usefixtures("e2e_scenario")
def test_worker_killed_twenty_times_during_2000_transactions(app_config, make_app, monkeypatch):
    _result, landed = run_kills(
        app_config,
        make_app,
        monkeypatch,
        transactions=2530,
        kills=20,
        settle_timeout=900,
        page=100,
        spread=(0.2, 8.0),
    )
    assert sum(landed.values()) == 20
