"""Pay by Invoice settlement end to end: the bills posted and Amazon's invoices Closed, one
settlement run, and the verdict that compares the sandbox's Xero with what was due.

The verdict (``settlement_verdict``) holds when, in the sandbox's Xero:

- every Pay by Invoice bill the ledger calls ``paid`` has ``AmountDue`` 0, and at most one live
  payment of ours; its payments plus its credits are exactly its ``Total`` (no over-payment);
- each payment of ours is exactly what the bill still owed after credits (and payments by hand);
- each credit note is allocated at most once per bill and at most its ``Total``, and its
  ``RemainingCredit`` is what the allocations left;
- every settlement step of the ledger is ``done`` (none left ``sending`` or ``planned``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import requests
from sqlmodel import select

from plugin.db import session_scope
from plugin.infra.keys import xero_limit_key
from plugin.infra.queues import get_queue
from plugin.infra.queues import get_redis
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.models import utcnow
from plugin.work.settlement_table import SettlementStep
from plugin.work.settlement_table import StepState
from plugin.xero.timing import timing_of
from plugin.xero.wiring import xero_client
from tests.common.pipeline import finish_setup
from tests.common.pipeline import import_days
from tests.common.pipeline import sandbox_documents

BY_HAND = "Paid by hand in Xero"
SETTLE_JOB = "jobs.settlements.check_invoice_payments"
CLOSED_AFTER_DAYS = 35  # the sandbox's Amazon reports Pay by Invoice invoices Closed by then


def d(value: Any) -> Decimal:
    """A JSON number as Xero wrote it, as an exact Decimal."""
    return Decimal(str(value if value is not None else 0))


def posted_and_closed(
    app: Any,
    org: Any,
    sandbox: Any,
    run_jobs: Any,
    imported: bool = False,
    set_up: Any = None,
) -> None:
    """Import 90 days (unless ``imported``), map (Thames's mapping unless ``set_up(app, org)``
    does it) and post everything, then move the sandbox on until Amazon reports the Pay by
    Invoice invoices Closed."""
    if not imported:
        import_days(app, org, days=90)
        run_jobs()
    if set_up is None:
        finish_setup(app, org, include_new_card=True)
    else:
        set_up(app, org)
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    run_jobs()
    requests.post(
        f"{sandbox.url}/_sandbox/clock",
        json={"advance_seconds": CLOSED_AFTER_DAYS * 86400},
        timeout=5,
    ).raise_for_status()


def settle(app: Any, org: Any, run_jobs: Any) -> dict[str, Any]:
    """One settlement job through a real RQ worker; its result."""
    job = get_queue("low", app).enqueue(SETTLE_JOB, org.id)
    run_jobs()
    job.refresh()
    assert job.is_finished, job.exc_info
    result = job.return_value()
    assert isinstance(result, dict)
    return result


def settle_through_limits(app: Any, org: Any, sandbox: Any, run_jobs: Any) -> dict[str, Any]:
    """Settle; after Xero's minute limit (the job re-queues itself), let the minute pass in the
    sandbox and run again, as the re-queued job would."""
    for _ in range(4):
        result = settle(app, org, run_jobs)
        if not result.get("requeued_in"):
            return result
        requests.post(
            f"{sandbox.url}/_sandbox/clock",
            json={"advance_seconds": float(result["requeued_in"]) + 1},
            timeout=5,
        ).raise_for_status()
        redis = get_redis(app)  # and in our own limiter's windows (kept in real time)
        for key in redis.scan_iter(match=xero_limit_key("*")):
            redis.delete(key)
    raise AssertionError(f"still rate limited: {result}")


def steps(app: Any, org: Any) -> list[SettlementStep]:
    with session_scope(app) as db:
        return list(db.exec(select(SettlementStep).where(SettlementStep.organisation_id == org.id)))


def age_sends(app: Any, org: Any, seconds: float | None = None) -> None:
    """Move every ``sending`` step's send back in time (as if ``seconds`` had passed; by default
    just past the Xero client's in-flight horizon, ``XERO_IN_FLIGHT_SECONDS``), so the next run
    can tell for certain whether Xero has it."""
    if seconds is None:
        seconds = timing_of(app.config).in_flight_seconds + 30
    with session_scope(app) as db:
        for step in db.exec(
            select(SettlementStep).where(
                SettlementStep.organisation_id == org.id,
                SettlementStep.state == StepState.SENDING,
            )
        ):
            assert step.sent_at is not None
            step.sent_at = step.sent_at - timedelta(seconds=seconds)
            db.add(step)
        db.commit()


@dataclass
class SettlementVerdict:
    bills: int = 0
    paid_bills: int = 0
    payments: int = 0
    allocations: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def sound(self) -> bool:
        return not self.problems


def settlement_verdict(
    app: Any, sandbox: Any, org: Any, by_hand: dict[str, Decimal] | None = None
) -> SettlementVerdict:
    """Check the sandbox's Xero against the ledger (see the module docstring).

    ``by_hand``: amounts paid in Xero by a person (not by us), per InvoiceID.
    """
    by_hand = by_hand or {}
    documents = sandbox_documents(sandbox, org)
    with session_scope(app) as db:
        entries = list(db.exec(select(LedgerEntry).where(LedgerEntry.organisation_id == org.id)))
    all_steps = steps(app, org)
    verdict = SettlementVerdict()
    bills = {b["InvoiceID"]: b for b in documents["Invoices"] if b.get("Status") != "DELETED"}
    live = [p for p in documents["Payments"] if p.get("Status") != "DELETED"]
    ours = [p for p in live if str(p.get("Reference", "")).startswith("Amazon Business")]
    per_bill: Counter[str] = Counter(p["Invoice"]["InvoiceID"] for p in ours if p.get("Invoice"))
    paid_ids = {
        e.xero_document_id
        for e in entries
        if e.xero_document_type == "Invoices" and e.settlement_state == "paid"
    }
    verdict.bills = len(bills)
    verdict.payments = len(ours)
    for bill_id, bill in bills.items():
        total, credited = d(bill["Total"]), d(bill.get("AmountCredited"))
        paid = sum((d(p["Amount"]) for p in live if p["Invoice"]["InvoiceID"] == bill_id), d(0))
        if paid + credited > total:
            verdict.problems.append(f"bill {bill_id} over-paid: {paid} + {credited} > {total}")
        if per_bill[bill_id] > 1:
            verdict.problems.append(f"bill {bill_id} paid {per_bill[bill_id]} times by us")
        if bill_id in paid_ids:
            verdict.paid_bills += 1
            if d(bill["AmountDue"]) != 0:
                due = bill["AmountDue"]
                verdict.problems.append(f"bill {bill_id} is 'paid' with AmountDue {due}")
            if paid + credited != total:
                verdict.problems.append(f"bill {bill_id}: {paid} + {credited} != {total}")
            for payment in (p for p in ours if p["Invoice"]["InvoiceID"] == bill_id):
                owed = total - credited - by_hand.get(bill_id, d(0))
                if d(payment["Amount"]) != owed:
                    verdict.problems.append(
                        f"bill {bill_id}: paid {payment['Amount']}, owed {owed} after credits"
                    )
    for note in documents["CreditNotes"]:
        allocations = [a for a in note.get("Allocations") or [] if not a.get("IsDeleted")]
        verdict.allocations += len(allocations)
        targets = Counter(a["Invoice"]["InvoiceID"] for a in allocations)
        if any(n > 1 for n in targets.values()):
            verdict.problems.append(f"credit note {note['CreditNoteID']} allocated twice")
        used = sum((d(a["Amount"]) for a in allocations), d(0))
        if used > d(note["Total"]):
            verdict.problems.append(f"credit note {note['CreditNoteID']} over-allocated")
        if d(note.get("RemainingCredit")) != d(note["Total"]) - used:
            verdict.problems.append(f"credit note {note['CreditNoteID']}: RemainingCredit wrong")
    for step in all_steps:
        if step.state != StepState.DONE:
            verdict.problems.append(f"step {step.kind} of entry {step.entry_id} is {step.state}")
    return verdict


def assert_settled_once(app: Any, sandbox: Any, org: Any, **kwargs: Any) -> SettlementVerdict:
    """The verdict, asserted sound, with something actually paid and allocated."""
    verdict = settlement_verdict(app, sandbox, org, **kwargs)
    assert verdict.sound, verdict.problems
    assert verdict.paid_bills == verdict.bills > 0
    return verdict


def pay_by_hand(app: Any, org: Any, bill_xero_id: str, amount: Decimal) -> None:
    """Pay part of a bill in Xero as a person would (not our reference)."""
    with session_scope(app) as db:
        stored = db.get(Organisation, org.id)
        xero = xero_client(stored, app)
        body = {
            "Invoice": {"InvoiceID": bill_xero_id},
            "Account": {"Code": "090"},
            "Date": utcnow().date().isoformat(),
            "Amount": amount,
            "Reference": BY_HAND,
        }
        result = xero.create_documents("Payments", [body], f"by-hand-{bill_xero_id}")
    assert result[0].ok, result[0].messages
