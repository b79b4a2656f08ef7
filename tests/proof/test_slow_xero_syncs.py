"""Scheduled syncs behind a slow Xero (issue 19 point 4): the cron's sync fan-out keeps firing
while an organisation's import and posting crawl, with two real ``flask worker`` processes. The
scheduled import's job starts while a slow posting run (here: another worker's, holding the
organisation's lock for ``HOLD_SECONDS``) has the organisation.

Before the fix a sync that found the organisation free created a run whose import job then met
the posting run's lock and returned "busy", leaving its run queued for the next recovery cycle
(every five minutes; the chaos run found one still queued 28 minutes later), and every such
sync added another run. Now a scheduled import while one waits is that one, and an import that
finds its organisation busy comes back in 30 seconds by itself. The cron's recovery is not run
here: nothing may need it.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlmodel import select

from plugin.db import session_scope
from plugin.infra.keys import post_job_id
from plugin.infra.locks import org_lock
from plugin.infra.locks import running_holder
from plugin.infra.queues import get_queue
from plugin.infra.queues import get_redis
from plugin.models import ImportRun
from plugin.models import ImportTrigger
from plugin.models import RunState
from tests.common.pipeline import import_days
from tests.proof.scenario import build_scenario
from tests.proof.scenario import e2e_scenario  # noqa: F401 (fixture)
from tests.proof.scenario import say
from tests.proof.scenario import verdict
from tests.proof.scenario import wait_until

UNFINISHED = (RunState.QUEUED, RunState.RUNNING)
HOLD_SECONDS = 8


def hold_the_organisation(scenario, seconds: float) -> threading.Thread:
    """A posting run elsewhere that keeps the organisation's lock for ``seconds``."""

    def hold() -> None:
        with org_lock(get_redis(scenario.app), scenario.org.id, post_job_id(scenario.org.id)):
            time.sleep(seconds)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    wait_until(
        lambda: running_holder(get_redis(scenario.app), scenario.org.id) is not None,
        5,
        "the lock",
    )
    return holder


def scheduled_runs(scenario) -> list[ImportRun]:
    with session_scope(scenario.app) as db:
        return list(
            db.exec(
                select(ImportRun).where(
                    ImportRun.organisation_id == scenario.org.id,
                    ImportRun.trigger == ImportTrigger.SCHEDULED,
                )
            )
        )


def run_syncs(app_config, make_app, monkeypatch, transactions, syncs, every, latency):
    scenario = build_scenario(
        app_config, make_app, monkeypatch, transactions, page=10, latency=(latency, 0.05)
    )
    started = time.monotonic()
    most_waiting = 0
    try:
        import_days(scenario.app, scenario.org, days=90, trigger=ImportTrigger.SCHEDULED)
        holder = hold_the_organisation(scenario, HOLD_SECONDS)
        scenario.start_worker("first")
        scenario.start_worker("second")
        for _ in range(syncs):  # the hourly fan-out, compressed
            get_queue("default", scenario.app).enqueue("jobs.sync.sync_all")
            time.sleep(every)
            waiting = [r for r in scheduled_runs(scenario) if r.state in UNFINISHED]
            most_waiting = max(most_waiting, len(waiting))
        holder.join()
        last_sync = time.monotonic()

        def all_done() -> bool:
            runs = scheduled_runs(scenario)
            return all(r.state not in UNFINISHED for r in runs) and scenario.settled()

        # 30 s for the busy import to come back, and the time to import and post.
        wait_until(all_done, 75, "every sync to finish without recovery", 0.5, scenario.describe)
        tail = time.monotonic() - last_sync
    finally:
        scenario.stop_workers()
        elapsed = time.monotonic() - started
        try:
            result = verdict(scenario)
            runs = scheduled_runs(scenario)
        finally:
            scenario.sandbox.stop()
    line = result.line(
        "slow-xero-syncs",
        syncs=syncs,
        runs=len(runs),
        most_waiting=most_waiting,
        finished_after_last_sync=f"{tail:.0f}s",
        seconds=int(elapsed),
    )
    say(line)
    assert result.sound, (line, result.problems)
    assert most_waiting <= 1, line  # one waiting or running sync per organisation, never more
    return result


@pytest.mark.slow  # 40 s: the mechanisms are in the default run (tests/work/test_imports.py)
@pytest.mark.usefixtures("e2e_scenario")
def test_syncs_behind_a_slow_xero_never_pile_up(app_config, make_app, monkeypatch):
    run_syncs(app_config, make_app, monkeypatch, 150, syncs=8, every=1.5, latency=0.4)


@pytest.mark.slow
@pytest.mark.usefixtures("e2e_scenario")
def test_syncs_behind_a_slow_xero_never_pile_up_2000(app_config, make_app, monkeypatch):
    run_syncs(app_config, make_app, monkeypatch, 2000, syncs=40, every=3.0, latency=0.4)
