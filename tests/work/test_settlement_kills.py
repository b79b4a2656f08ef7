"""Kill tests for Pay by Invoice settlement (issue 13 point 5): a worker dies while allocating
a credit note or paying a bill, and the next runs finish the work with each bill paid exactly
once for exactly what it owed after credits, each credit note allocated at most its amount.

The precise points are hit in-process (the run is cut short by an exception no handler
catches, as a SIGKILL would cut it): after the step row is committed and before the call to
Xero; after Xero has the allocation or payment and before we record it. The sandbox's
``drop_after_write`` fault (Xero did it, the answer never came) hits the same two writes
through the real job, and a real ``flask worker`` is SIGKILLed (work-horse and all) while its
allocation, or its payment, is on its way to Xero.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
import requests

from plugin.db import session_scope
from plugin.infra.queues import get_queue
from plugin.work.settlement_table import StepKind
from plugin.work.settlement_table import StepState
from plugin.work.settlements import run_settlements
from plugin.xero.client import XeroClient
from tests.common.pipeline import sandbox_documents
from tests.common.processes import ROOT
from tests.common.processes import children_of
from tests.common.settlement import SETTLE_JOB
from tests.common.settlement import age_sends
from tests.common.settlement import assert_settled_once
from tests.common.settlement import d
from tests.common.settlement import pay_by_hand
from tests.common.settlement import posted_and_closed
from tests.common.settlement import settle
from tests.common.settlement import steps
from tests.work.test_worker_killed import wait_for
from tests.work.test_worker_killed import worker_env


class Killed(BaseException):
    """The worker's death: no ``except Exception`` of ours runs, nothing after it happens."""


@pytest.fixture
def app_config(app_config):
    app_config["ORG_LOCK_SECONDS"] = 3  # a killed worker's org lock frees up quickly
    return app_config


def _die_once(monkeypatch, name, before_call, when=lambda *a, **k: True):
    """Make ``XeroClient.<name>`` kill the run the first time ``when`` holds: before the call
    reaches Xero, or after Xero has done it."""
    original = getattr(XeroClient, name)
    fired = []

    def dying(self, *args, **kwargs):
        if fired or not when(*args, **kwargs):
            return original(self, *args, **kwargs)
        fired.append(1)
        if not before_call:
            original(self, *args, **kwargs)
        raise Killed(name)

    monkeypatch.setattr(XeroClient, name, dying)
    return fired


def _crashing_run(app, org):
    with session_scope(app) as db, pytest.raises(Killed):
        run_settlements(db, app, org.id, "doomed-job")


def _sending(app, org, kind):
    return [s for s in steps(app, org) if s.kind == kind and s.state == StepState.SENDING]


def _is_payment(endpoint, *args, **kwargs):
    return endpoint == "Payments"


POINTS = [
    pytest.param("allocate_credit_note", StepKind.ALLOCATION, True, id="allocation-before-call"),
    pytest.param("allocate_credit_note", StepKind.ALLOCATION, False, id="allocation-after-call"),
    pytest.param("create_documents", StepKind.PAYMENT, True, id="payment-before-call"),
    pytest.param("create_documents", StepKind.PAYMENT, False, id="payment-after-call"),
]


@pytest.mark.parametrize(("method", "kind", "before_call"), POINTS)
def test_killed_between_commit_and_record_settles_once(
    pipeline, sandbox, run_jobs, monkeypatch, method, kind, before_call
):
    app, _client, org = pipeline
    posted_and_closed(app, org, sandbox, run_jobs)
    when = _is_payment if kind == StepKind.PAYMENT else (lambda *a, **k: True)
    fired = _die_once(monkeypatch, method, before_call, when)
    _crashing_run(app, org)
    assert fired, "the run never reached the call"
    interrupted = _sending(app, org, kind)
    assert len(interrupted) == 1  # committed with amount and key before the call
    bill_id = interrupted[0].bill_entry_id
    monkeypatch.undo()

    # The next run, while the lost send could still be in flight: that bill is left alone.
    first = settle(app, org, run_jobs)
    if before_call:
        assert first.get("come_back_in", 0) > 0, first
        assert [s.bill_entry_id for s in _sending(app, org, kind)] == [bill_id]
        payment = [s for s in steps(app, org) if s.kind == StepKind.PAYMENT]
        assert all(s.entry_id != bill_id or s.state != StepState.DONE for s in payment)
        age_sends(app, org)  # later: Xero has no trace of it, so it is sent again
        second = settle(app, org, run_jobs)
        assert second.get("recovered", 0) == 0, second
    else:
        assert first["recovered"] == 1, first  # found in Xero, recorded, not sent again
    assert_settled_once(app, sandbox, org)
    assert settle(app, org, run_jobs)["paid"] == 0  # a further run changes nothing
    assert_settled_once(app, sandbox, org)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        pytest.param("Allocations", StepKind.ALLOCATION, id="allocation"),
        pytest.param("Payments", StepKind.PAYMENT, id="payment"),
    ],
)
def test_answer_lost_after_xero_wrote_it_settles_once(pipeline, sandbox, run_jobs, path, kind):
    app, _client, org = pipeline
    posted_and_closed(app, org, sandbox, run_jobs)
    requests.post(
        f"{sandbox.url}/_sandbox/faults",
        json={
            "service": "xero",
            "queue": {"kind": "drop_after_write", "count": 1, "path_contains": path},
        },
        timeout=5,
    ).raise_for_status()
    first = settle(app, org, run_jobs)
    assert first.get("requeued_in"), first  # connection lost: the job comes back later
    assert len(_sending(app, org, kind)) == 1
    second = settle(app, org, run_jobs)
    assert second["recovered"] == 1, second
    assert_settled_once(app, sandbox, org)


def _written(sandbox, org, kind):
    """Our live allocations (of every credit note) or payments in the sandbox's Xero."""
    documents = sandbox_documents(sandbox, org)
    if kind == StepKind.ALLOCATION:
        return [a for n in documents["CreditNotes"] for a in n.get("Allocations") or []]
    return [p for p in documents["Payments"] if p.get("Status") != "DELETED"]


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        pytest.param("Allocations", StepKind.ALLOCATION, id="allocation"),
        pytest.param("Payments", StepKind.PAYMENT, id="payment"),
    ],
)
def test_real_worker_sigkilled_while_its_send_is_on_the_way(
    pipeline, sandbox, run_jobs, path, kind
):
    app, _client, org = pipeline
    posted_and_closed(app, org, sandbox, run_jobs)
    # Hold the first such write open in "Xero" for 3 s, so the kill lands while it is on its way.
    requests.post(
        f"{sandbox.url}/_sandbox/faults",
        json={
            "service": "xero",
            "rates": {},
            "slow_seconds": 3,
            "queue": {"kind": "slow", "count": 1, "path_contains": path},
        },
        timeout=5,
    ).raise_for_status()
    get_queue("low", app).enqueue(SETTLE_JOB, org.id)
    worker = subprocess.Popen(
        ["flask", "--app", "wsgi", "worker", "--name", f"doomed-settle-{os.getpid()}"],
        cwd=ROOT,
        env=worker_env(app, sandbox.url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(lambda: _sending(app, org, kind), what=f"a send of {path} on its way")
        for pid in children_of(worker.pid):  # the work-horse runs the job
            os.kill(pid, signal.SIGKILL)
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.wait(timeout=10)
    assert len(_sending(app, org, kind)) == 1
    time.sleep(4)  # the held write is done in "Xero"; the dead job's org lock expires
    assert len(_written(sandbox, org, kind)) == 1  # the killed worker's send reached Xero

    result = settle(app, org, run_jobs)
    assert result["recovered"] == 1, result
    verdict = assert_settled_once(app, sandbox, org)
    assert verdict.allocations == len([s for s in steps(app, org) if s.kind == "allocation"])


def test_a_payment_by_hand_of_the_same_amount_is_not_taken_for_the_lost_send(
    pipeline, sandbox, run_jobs, monkeypatch
):
    """Killed before the call, the send is looked up in Xero: a payment made by hand for the
    same amount (half of an even total, so the rest equals it) is not ours, and the rest is
    still paid."""
    app, _client, org = pipeline
    posted_and_closed(app, org, sandbox, run_jobs)
    documents = sandbox_documents(sandbox, org)
    bill = next(
        b
        for b in documents["Invoices"]
        if not b.get("AmountCredited") and int(d(b["Total"]) * 100) % 2 == 0
    )
    half = d(bill["Total"]) / 2
    pay_by_hand(app, org, bill["InvoiceID"], half)

    def for_that_bill(endpoint, elements, *args, **kwargs):
        return endpoint == "Payments" and elements[0]["Invoice"]["InvoiceID"] == bill["InvoiceID"]

    assert _die_once(monkeypatch, "create_documents", True, for_that_bill) == []
    _crashing_run(app, org)
    [interrupted] = _sending(app, org, StepKind.PAYMENT)
    assert interrupted.amount == half  # what was due: the same as the payment by hand
    monkeypatch.undo()
    age_sends(app, org)
    settle(app, org, run_jobs)
    assert_settled_once(app, sandbox, org, by_hand={bill["InvoiceID"]: half})
