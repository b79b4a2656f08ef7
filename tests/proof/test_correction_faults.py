"""Corrections under faults and kills (issue 14 point 5): after a first import has posted,
Amazon changes the amount of some posted card charges, cancels others, and changes some the
bookkeeper has already reconciled in Xero. The next scheduled import records the changes and its
posting run corrects the documents, while

- ``faults``: Xero answers 429, 500 or 503 to a share of the calls, and drops the connection
  after processing some of the updates (the answer is lost: the classic way to change twice);
- ``kills``: the RQ worker is SIGKILLed at seeded random moments while the corrections run, and
  restarted each time.

The end state must be: every change in a final state (made, or held for the bookkeeper); every
made one visible in Xero exactly as meant (the new total, or the document deleted) and in the
ledger; every reconciled document untouched; and no document changed twice (the sandbox's
history records one edit per corrected document). Plus the usual verdict: no duplicate, lost or
orphan document.

Default run: 60 transactions, 8 changes + 2 cancellations + 2 reconciled, 3 kills / faults at
high rates with 2 certain drops. Full run (``-m slow``): 600 transactions, 60 + 10 + 10, 10 kills.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

import pytest
import requests
from sqlmodel import select

import jobs.context
from plugin.db import session_scope
from plugin.ledger.correction_model import Correction
from plugin.ledger.correction_model import CorrectionState
from plugin.models import EntryState
from plugin.models import ImportTrigger
from plugin.models import LedgerEntry
from tests.common.pipeline import import_days
from tests.proof.scenario import build_scenario
from tests.proof.scenario import e2e_scenario  # noqa: F401 (fixture)
from tests.proof.scenario import kill_worker
from tests.proof.scenario import queues_idle
from tests.proof.scenario import say
from tests.proof.scenario import verdict
from tests.proof.scenario import wait_until
from tests.proof.test_xero_misbehaves import fast_forward
from tests.proof.test_xero_misbehaves import waiting_for_lookup

SEED = 20261204
EDITS = ("Edited", "Deleted", "Voided")


@dataclass
class Plan:
    """What Amazon and the bookkeeper did after the first posting: entry id -> what."""

    changed: dict[str, Decimal]  # transaction id -> new amount
    cancelled: list[str]
    reconciled: dict[str, Decimal]  # transaction id -> the amount as posted (kept in Xero)
    documents: dict[str, str]  # transaction id -> Xero document id


def corrections(scenario) -> list[Correction]:
    with session_scope(scenario.app) as db:
        return list(
            db.exec(select(Correction).where(Correction.organisation_id == scenario.org.id))
        )


def corrections_settled(scenario) -> bool:
    found = corrections(scenario)
    return bool(found) and all(
        c.state in (CorrectionState.APPLIED, CorrectionState.HELD) for c in found
    )


def drain(scenario, timeout: float, done) -> None:
    """In-process burst workers (delayed jobs fast-forwarded) until ``done()``."""
    from rq import SimpleWorker

    from plugin.infra.queues import QUEUE_NAMES
    from plugin.infra.queues import get_queue
    from plugin.infra.queues import get_redis

    app = scenario.app
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker = SimpleWorker([get_queue(n, app) for n in QUEUE_NAMES], connection=get_redis(app))
        worker.work(burst=True, with_scheduler=False)
        moved = fast_forward(app)
        if done() and not moved and queues_idle(app):
            return
        if not moved and queues_idle(app):
            if waiting_for_lookup(app):
                time.sleep(0.5)  # a change in doubt until its in-flight horizon passes
                continue
            get_queue("high", app).enqueue("jobs.recovery.resume_interrupted")
    raise AssertionError(f"not settled after {timeout:.0f} s: {scenario.describe()}")


def first_posting(scenario) -> None:
    jobs.context.use_app(scenario.app)
    try:
        import_days(scenario.app, scenario.org, days=90, trigger=ImportTrigger.SCHEDULED)
        drain(scenario, 120, scenario.settled)
    finally:
        jobs.context.use_app(None)


def amazon_and_bookkeeper_act(scenario, changes: int, cancels: int, reconciles: int) -> Plan:
    with session_scope(scenario.app) as db:
        cards = list(
            db.exec(
                select(LedgerEntry)
                .where(
                    LedgerEntry.organisation_id == scenario.org.id,
                    LedgerEntry.state == EntryState.POSTED,
                    LedgerEntry.xero_document_type == "BankTransactions",
                    LedgerEntry.transaction_type == "CHARGE",
                )
                .order_by(LedgerEntry.id)
            )
        )
    cards = [c for c in cards if c.amount > 5]
    assert len(cards) >= changes + cancels + reconciles, len(cards)
    plan = Plan({}, [], {}, {c.amazon_transaction_id: str(c.xero_document_id) for c in cards})
    for entry in cards[:changes]:
        new = (entry.amount - Decimal("1.25")).quantize(Decimal("0.01"))
        plan.changed[entry.amazon_transaction_id] = new
        refeed(scenario, entry.amazon_transaction_id, amount=str(new))
    for entry in cards[changes : changes + cancels]:
        plan.cancelled.append(entry.amazon_transaction_id)
        refeed(scenario, entry.amazon_transaction_id, cancel=True)
    for entry in cards[changes + cancels : changes + cancels + reconciles]:
        plan.reconciled[entry.amazon_transaction_id] = entry.amount
        scenario.control(f"xero/documents/{entry.xero_document_id}/reconcile", {})
        refeed(scenario, entry.amazon_transaction_id, amount=str(entry.amount + 3))
    return plan


def refeed(scenario, transaction_id: str, **body) -> None:
    scenario.control(
        f"amazon/transactions/{transaction_id}/change", {"account": "thames", "store": "UK", **body}
    )


@dataclass
class CorrectionVerdict:
    applied: int
    held: int
    changed_twice: int
    half_done: int
    touched_reconciled: int
    problems: list[str]

    def line(self) -> str:
        return (
            f"applied={self.applied} held={self.held} changed-twice={self.changed_twice} "
            f"half-done={self.half_done} touched-reconciled={self.touched_reconciled}"
        )

    @property
    def sound(self) -> bool:
        return not (self.changed_twice or self.half_done or self.touched_reconciled)


def edits(scenario, document_id: str) -> int:
    records = requests.get(f"{scenario.url}/_sandbox/xero/history/{document_id}", timeout=10)
    return sum(1 for r in records.json()["HistoryRecords"] if r["Changes"] in EDITS)


def judge(scenario, plan: Plan) -> CorrectionVerdict:
    found = corrections(scenario)
    by_entry = Counter(c.ledger_entry_id for c in found)
    documents = {d["BankTransactionID"]: d for d in scenario.documents()["BankTransactions"]}
    with session_scope(scenario.app) as db:
        entries = {
            e.amazon_transaction_id: e
            for e in db.exec(
                select(LedgerEntry).where(LedgerEntry.organisation_id == scenario.org.id)
            )
        }
    problems: list[str] = []
    changed_twice = sum(1 for n in by_entry.values() if n > 1)
    half_done = sum(
        1 for c in found if c.state not in (CorrectionState.APPLIED, CorrectionState.HELD)
    )
    for transaction_id, new in plan.changed.items():
        document = documents[plan.documents[transaction_id]]
        entry = entries[transaction_id]
        if Decimal(str(document["Total"])) != new or entry.amount != new:
            half_done += 1
            problems.append(f"{transaction_id}: Xero {document['Total']}, ledger {entry.amount}")
        if edits(scenario, plan.documents[transaction_id]) != 1:
            changed_twice += 1
            problems.append(
                f"{transaction_id} edited {edits(scenario, plan.documents[transaction_id])}x"
            )
    for transaction_id in plan.cancelled:
        document = documents[plan.documents[transaction_id]]
        if document["Status"] != "DELETED" or entries[transaction_id].state != EntryState.CANCELLED:
            half_done += 1
            problems.append(
                f"{transaction_id}: {document['Status']} {entries[transaction_id].state}"
            )
        if edits(scenario, plan.documents[transaction_id]) != 1:
            changed_twice += 1
    touched = 0
    for transaction_id, amount in plan.reconciled.items():
        document = documents[plan.documents[transaction_id]]
        if Decimal(str(document["Total"])) != amount or edits(
            scenario, plan.documents[transaction_id]
        ):
            touched += 1
            problems.append(f"{transaction_id}: a reconciled document was changed")
        if entries[transaction_id].reason_code != "changed_after_reconciled":
            half_done += 1
    return CorrectionVerdict(
        applied=sum(1 for c in found if c.state == CorrectionState.APPLIED),
        held=sum(1 for c in found if c.state == CorrectionState.HELD),
        changed_twice=changed_twice,
        half_done=half_done,
        touched_reconciled=touched,
        problems=problems,
    )


def conclude(scenario, plan: Plan, name: str, **facts) -> None:
    result = verdict(scenario)
    fixed = judge(scenario, plan)
    head = " ".join(f"{k}={v}" for k, v in facts.items())
    line = (
        f"VERDICT {name}: {head} changes={len(plan.changed)} cancelled={len(plan.cancelled)} "
        f"reconciled={len(plan.reconciled)} {fixed.line()} | {result.line('ledger')}"
    )
    say(line)
    assert fixed.sound, (line, fixed.problems)
    assert fixed.applied == len(plan.changed) + len(plan.cancelled), line
    assert fixed.held == len(plan.reconciled), line
    assert result.sound, (line, result.problems)


def run_faults(app_config, make_app, monkeypatch, transactions, sizes, rates, drops, timeout):
    scenario = build_scenario(app_config, make_app, monkeypatch, transactions)
    started = time.monotonic()
    try:
        first_posting(scenario)
        plan = amazon_and_bookkeeper_act(scenario, *sizes)
        scenario.control(
            "faults", {"service": "xero", "rates": rates, "seed": SEED, "slow_seconds": 0.3}
        )
        scenario.control(
            "faults",
            {
                "service": "xero",
                "queue": {
                    "kind": "drop_after_write",
                    "count": drops,
                    "path_contains": "POST /api.xro/2.0/BankTransactions/",
                },
            },
        )
        jobs.context.use_app(scenario.app)
        try:
            import_days(scenario.app, scenario.org, days=90, trigger=ImportTrigger.SCHEDULED)
            drain(scenario, timeout, lambda: scenario.settled() and corrections_settled(scenario))
        finally:
            jobs.context.use_app(None)
        scenario.control("faults", {"service": "xero", "rates": {}})
        injected = scenario.control("faults")["xero"]["injected"]
        faults = ",".join(f"{k}:{v}" for k, v in sorted(injected.items()))
        conclude(
            scenario,
            plan,
            "correction-faults",
            injected=faults,
            seconds=int(time.monotonic() - started),
        )
        assert injected.get("drop_after_write", 0) >= drops, injected
    finally:
        scenario.sandbox.stop()


def run_kills(app_config, make_app, monkeypatch, transactions, sizes, kills, spread, timeout):
    scenario = build_scenario(app_config, make_app, monkeypatch, transactions)
    rng = random.Random(SEED)
    landed: Counter[str] = Counter()
    started = time.monotonic()
    try:
        first_posting(scenario)
        plan = amazon_and_bookkeeper_act(scenario, *sizes)
        scenario.latency(0.25, 0.1)  # each correction takes a while: kills land inside them
        import_days(scenario.app, scenario.org, days=90, trigger=ImportTrigger.SCHEDULED)
        for number in range(kills):
            worker = scenario.start_worker(f"doomed-{number}")
            wait_until(lambda w=worker: scenario.worker_ready(w), 30, "the worker to start")
            time.sleep(rng.uniform(*spread))
            states = Counter(str(c.state) for c in corrections(scenario))
            landed["corrections" if states.get("pending") or states.get("sent") else "import"] += 1
            kill_worker(worker)
            if corrections_settled(scenario) and scenario.settled():
                break
        scenario.start_worker("survivor")
        wait_until(
            lambda: (
                scenario.settled() and corrections_settled(scenario) and queues_idle(scenario.app)
            ),
            timeout,
            "every correction to be made or held after the kills",
            every=0.5,
            state=scenario.describe,
        )
        scenario.stop_workers()
        where = ",".join(f"{k}:{v}" for k, v in sorted(landed.items()))
        conclude(
            scenario,
            plan,
            "correction-kills",
            seed=SEED,
            kills=sum(landed.values()),
            landed=where,
            seconds=int(time.monotonic() - started),
        )
    finally:
        scenario.stop_workers()
        scenario.sandbox.stop()


@pytest.mark.usefixtures("e2e_scenario")
def test_corrections_under_xero_faults_small(app_config, make_app, monkeypatch):
    rates = {"429": 0.05, "500": 0.05, "503": 0.03, "drop_after_write": 0.05}
    run_faults(app_config, make_app, monkeypatch, 60, (8, 2, 2), rates, drops=2, timeout=150)


@pytest.mark.usefixtures("e2e_scenario")
def test_corrections_with_worker_kills_small(app_config, make_app, monkeypatch):
    run_kills(
        app_config, make_app, monkeypatch, 60, (8, 2, 2), kills=3, spread=(0.3, 2.5), timeout=120
    )


@pytest.mark.slow
@pytest.mark.usefixtures("e2e_scenario")
def test_corrections_under_xero_faults_600(app_config, make_app, monkeypatch):
    rates = {"429": 0.03, "500": 0.03, "503": 0.03, "drop_after_write": 0.03}
    run_faults(app_config, make_app, monkeypatch, 600, (60, 10, 10), rates, drops=5, timeout=600)


@pytest.mark.slow
@pytest.mark.usefixtures("e2e_scenario")
def test_corrections_with_worker_kills_600(app_config, make_app, monkeypatch):
    run_kills(
        app_config,
        make_app,
        monkeypatch,
        600,
        (60, 10, 10),
        kills=10,
        spread=(0.5, 4.0),
        timeout=600,
    )
