"""Fault 2: Xero misbehaves. A share of the sandbox's Xero answers are 429, 500, 503 or slow,
and some writes are accepted and then the connection is dropped (the client never hears that
they worked). Imports and posting run with real RQ workers (in-process, burst mode); delayed
re-queues (``Retry-After``, the 5-minute back-off after a 503) are fast-forwarded instead of
waited for. The end state is the same as without faults: every transaction in the ledger, in a
final state, each posted one with exactly one Xero document and no document without an entry.

Default run: 150 transactions, batches of 10 (more calls to break), faults at twice the issue's
rates (20 % + 4 % drops) plus two certain drops, so that every kind shows up. Full run
(``-m slow``): 2,530 generated transactions (about 2,000 in the connected store), batches of 50,
10 % faults (2.5 % each of 429 / 500 / 503 / slow) + 2 % drops.
"""

from __future__ import annotations

import time

import pytest
from rq import SimpleWorker
from rq.job import Job

import jobs.context
from plugin.infra.queues import QUEUE_NAMES
from plugin.infra.queues import get_queue
from plugin.infra.queues import get_redis
from plugin.ledger import post as ledger_post
from plugin.models import ImportTrigger
from tests.common.pipeline import import_days
from tests.proof.scenario import build_scenario
from tests.proof.scenario import e2e_scenario  # noqa: F401 (fixture)
from tests.proof.scenario import say
from tests.proof.scenario import verdict

FAULT_SEED = 7


def fast_forward(app) -> int:
    """Run delayed jobs now and forget Xero's Retry-After blocks (the test skips the waits).

    A posting run waiting to look up a batch whose answer was lost (``post-lookup-<org>``) is
    not hurried: before its time the batch may still be in flight, which is the point."""
    client = get_redis(app)
    moved = 0
    for name in QUEUE_NAMES:
        queue = get_queue(name, app)
        registry = queue.scheduled_job_registry
        for job_id, due in client.zrange(registry.key, 0, -1, withscores=True):
            job_id = job_id.decode() if isinstance(job_id, bytes) else job_id
            if job_id.startswith("post-lookup-") and due > time.time():
                continue
            if client.zrem(registry.key, job_id):
                queue.enqueue_job(Job.fetch(job_id, connection=client))
                moved += 1
    for key in client.scan_iter("ratelimit:xero:blocked:*"):
        client.delete(key)
    return moved


def waiting_for_lookup(app) -> bool:
    """A posting run is scheduled to look up a batch still in doubt."""
    return any(
        job_id.startswith("post-lookup-")
        for name in QUEUE_NAMES
        for job_id in get_queue(name, app).scheduled_job_registry.get_job_ids()
    )


def drain(scenario, timeout: float) -> int:
    """Burst workers until the scenario settles; returns how many bursts it took."""
    app = scenario.app
    deadline = time.monotonic() + timeout
    bursts = 0
    while time.monotonic() < deadline:
        worker = SimpleWorker([get_queue(n, app) for n in QUEUE_NAMES], connection=get_redis(app))
        worker.work(burst=True, with_scheduler=False)
        bursts += 1
        moved = fast_forward(app)
        if (
            scenario.settled()
            and not moved
            and all(get_queue(n, app).count == 0 for n in QUEUE_NAMES)
        ):
            return bursts
        if not moved and all(get_queue(n, app).count == 0 for n in QUEUE_NAMES):
            if waiting_for_lookup(app):
                time.sleep(0.5)  # a batch is in doubt until its in-flight horizon passes
                continue
            # Nothing queued but not settled: what a worker restart or the cron would do.
            get_queue("high", app).enqueue("jobs.recovery.resume_interrupted")
    raise AssertionError(f"not settled after {timeout:.0f} s")


def run_faults(app_config, make_app, monkeypatch, transactions, rates, batch, timeout, drops=0):
    scenario = build_scenario(app_config, make_app, monkeypatch, transactions)
    monkeypatch.setattr(ledger_post, "BATCH_SIZE", batch)
    jobs.context.use_app(scenario.app)
    started = time.monotonic()
    try:
        scenario.control(
            "faults",
            {"service": "xero", "rates": rates, "seed": FAULT_SEED, "slow_seconds": 0.5},
        )
        if drops:  # a few certain ones on top of the random ones
            scenario.control(
                "faults",
                {
                    "service": "xero",
                    "queue": {"kind": "drop_after_write", "count": drops, "path_contains": "Bank"},
                },
            )
        import_days(scenario.app, scenario.org, days=90, trigger=ImportTrigger.SCHEDULED)
        bursts = drain(scenario, timeout)
        injected = scenario.control("faults")["xero"]["injected"]
        stats = scenario.control("xero/stats")
        result = verdict(scenario)
    finally:
        jobs.context.use_app(None)
        scenario.sandbox.stop()
    faults = ",".join(f"{k}:{v}" for k, v in sorted(injected.items()))
    line = result.line(
        "xero-misbehaves",
        injected=faults,
        replays=stats.get("idempotent_replays", stats.get("idempotentReplays", "?")),
        bursts=bursts,
        seconds=int(time.monotonic() - started),
    )
    say(line)
    assert result.sound, (line, result.problems)
    assert result.posted > 0
    return result, injected


@pytest.mark.usefixtures("e2e_scenario")
def test_xero_faults_and_dropped_writes_small(app_config, make_app, monkeypatch):
    rates = {"429": 0.05, "500": 0.05, "503": 0.05, "slow": 0.05, "drop_after_write": 0.04}
    _result, injected = run_faults(
        app_config, make_app, monkeypatch, 150, rates, batch=10, timeout=150, drops=2
    )
    assert sum(injected.values()) >= 3, injected


@pytest.mark.slow
@pytest.mark.usefixtures("e2e_scenario")
def test_xero_faults_and_dropped_writes_2000(app_config, make_app, monkeypatch):
    rates = {"429": 0.025, "500": 0.025, "503": 0.025, "slow": 0.025, "drop_after_write": 0.02}
    _result, injected = run_faults(
        app_config, make_app, monkeypatch, 2530, rates, batch=50, timeout=900
    )
    assert sum(injected.values()) >= 3, injected
