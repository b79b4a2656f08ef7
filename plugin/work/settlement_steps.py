"""Allocations and payments sent to Xero at most once, whatever happens to the worker.

Every send is a ``SettlementStep``: its amount, target, date and ``Idempotency-Key`` are
committed before the call, and its Xero id after it. A step left ``sending`` (the worker was
killed, the connection dropped, Xero answered 500) is never simply sent again: the next run
looks for it in Xero first (the credit note's ``Allocations``, the bill's ``Payments`` with our
``Reference``: a payment made by hand for the same amount is not ours), and only when Xero has
nothing of it, and the original request can no longer be in flight, is it planned again, to be
sent with a new key for what is then still due. Xero's memory of keys is
not relied on; Xero's refusal of over-allocation and over-payment is a last guard, not the plan.
"""

from __future__ import annotations

from datetime import date
from datetime import timedelta
from decimal import ROUND_HALF_UP
from decimal import Decimal

from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.models import utcnow
from plugin.posting.amounts import CENT
from plugin.posting.results import JsonBody
from plugin.work.settlement_table import SettlementStep
from plugin.work.settlement_table import StepKind
from plugin.work.settlement_table import StepState
from plugin.xero.client import XeroClient
from plugin.xero.errors import XeroRateLimited
from plugin.xero.errors import XeroValidationError


def cents(amount: Decimal) -> Decimal:
    """An amount to the cent, half a cent away from zero (as Xero rounds its totals)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def allocation_amount(remaining_credit: Decimal, amount_due: Decimal) -> Decimal:
    """How much of a credit note to allocate to its bill: all it can, to the cent, never more
    than the bill's amount due; nothing when either is used up."""
    return max(cents(min(remaining_credit, amount_due)), Decimal("0.00"))


def outside_locks(org: Organisation, day: date, today: date) -> date:
    """``day``, or the org's ``today`` when ``day`` is on or before one of its lock dates
    (Xero refuses anything dated in a locked period)."""
    locks = [d for d in (org.period_lock_date, org.end_of_year_lock_date) if d is not None]
    if locks and day <= max(locks):
        return today
    return day


def step_key(step: SettlementStep) -> str:
    """The Idempotency-Key of the step's current send (a new one for every send)."""
    return f"abx-{step.kind}-{step.organisation_id}-{step.entry_id}-g{step.generation}"


def step_for(session: Session, kind: StepKind, entry_id: int) -> SettlementStep | None:
    """The step of a credit note (allocation) or bill (payment), if there is one yet."""
    return session.exec(
        select(SettlementStep).where(
            SettlementStep.kind == kind, SettlementStep.entry_id == entry_id
        )
    ).first()


def plan_step(
    session: Session,
    org_id: int,
    kind: StepKind,
    entry_id: int,
    bill_entry_id: int,
    on_date: date | None = None,
) -> SettlementStep:
    """The step for this document, created ``planned`` when there is none (committed)."""
    step = step_for(session, kind, entry_id)
    if step is None:
        step = SettlementStep(
            organisation_id=org_id,
            kind=kind,
            entry_id=entry_id,
            bill_entry_id=bill_entry_id,
            on_date=on_date,
        )
        session.add(step)
        session.commit()
    return step


def unfinished_steps(session: Session, org_id: int) -> list[SettlementStep]:
    """Steps whose send may or may not have reached Xero."""
    return list(
        session.exec(
            select(SettlementStep)
            .where(
                SettlementStep.organisation_id == org_id,
                SettlementStep.state == StepState.SENDING,
            )
            .order_by(col(SettlementStep.id))
        )
    )


def _begin(session: Session, step: SettlementStep, amount: Decimal, on: date) -> None:
    step.generation += 1
    step.idempotency_key = step_key(step)
    step.amount = cents(amount)
    step.on_date = on
    step.state = StepState.SENDING
    step.sent_at = utcnow()
    step.message = None
    session.add(step)
    session.commit()  # the intent is on disk before the call


def _done(session: Session, step: SettlementStep, xero_id: str | None) -> None:
    step.state = StepState.DONE
    step.xero_id = xero_id
    step.recorded_at = utcnow()
    session.add(step)


def _refused(session: Session, step: SettlementStep, messages: list[str]) -> None:
    step.state = StepState.REFUSED
    step.message = "; ".join(messages) or "Xero refused it without saying why."
    step.recorded_at = utcnow()
    session.add(step)
    session.commit()


def _not_sent(session: Session, step: SettlementStep) -> None:
    """Xero answered 429 before doing anything: the step is planned again, not unknown."""
    step.state = StepState.PLANNED
    session.add(step)
    session.commit()


def send_allocation(
    session: Session,
    xero: XeroClient,
    step: SettlementStep,
    note: LedgerEntry,
    bill: LedgerEntry,
    amount: Decimal,
    on: date,
) -> bool:
    """Allocate ``amount`` of the note to the bill, once; True when Xero has it."""
    _begin(session, step, amount, on)
    try:
        allocation = xero.allocate_credit_note(
            str(note.xero_document_id),
            str(bill.xero_document_id),
            step.amount,
            on,
            idempotency_key=str(step.idempotency_key),
        )
    except XeroRateLimited:
        _not_sent(session, step)
        raise
    except XeroValidationError as refused:
        _refused(session, step, refused.messages)
        return False
    _done(session, step, allocation.allocation_id)
    return True


def payment_reference(bill: LedgerEntry) -> str:
    """The ``Reference`` of our payment of a bill: how a lost send is told from a payment a
    person made in Xero (which may well be for the same amount)."""
    return f"Amazon Business {bill.invoice_number or ''}".strip()


def payment_body(bill: LedgerEntry, account_code: str, amount: Decimal, on: date) -> JsonBody:
    """The ``Payments`` element paying ``amount`` of the bill from the account, dated ``on``."""
    return {
        "Invoice": {"InvoiceID": bill.xero_document_id},
        "Account": {"Code": account_code},
        "Date": on.isoformat(),
        "Amount": amount,
        "Reference": payment_reference(bill),
    }


def send_payment(
    session: Session,
    xero: XeroClient,
    step: SettlementStep,
    bill: LedgerEntry,
    account_code: str,
    amount: Decimal,
) -> bool:
    """Pay ``amount`` of the bill from the account on the step's date, once; True when paid."""
    step.account_code = account_code
    _begin(session, step, amount, step.on_date or utcnow().date())
    body = payment_body(bill, account_code, step.amount, step.on_date or utcnow().date())
    try:
        results = xero.create_documents("Payments", [body], str(step.idempotency_key))
    except XeroRateLimited:
        _not_sent(session, step)
        raise
    if not results[0].ok:
        _refused(session, step, list(results[0].messages))
        return False
    _done(session, step, results[0].xero_id)
    return True


def _known_ids(session: Session, org_id: int, kind: StepKind) -> set[str]:
    rows = session.exec(
        select(SettlementStep.xero_id).where(
            SettlementStep.organisation_id == org_id,
            SettlementStep.kind == kind,
            SettlementStep.state == StepState.DONE,
        )
    )
    return {str(r) for r in rows if r}


def resolve(session: Session, xero: XeroClient, step: SettlementStep) -> str:
    """Settle a ``sending`` step from what Xero has: ``done`` (found: recorded), ``replan``
    (Xero has none, and it can no longer arrive: planned again) or ``in_flight`` (too soon to
    tell; left as it is). Committed."""
    bill = session.get(LedgerEntry, step.bill_entry_id)
    entry = session.get(LedgerEntry, step.entry_id)
    if bill is None or entry is None:
        _refused(session, step, ["The ledger entry is gone."])
        return "replan"
    known = _known_ids(session, step.organisation_id, step.kind)
    found: list[str] = []
    if step.kind == StepKind.ALLOCATION:
        note = xero.get_credit_note(str(entry.xero_document_id))
        found = [
            str(a.allocation_id)
            for a in note.allocations
            if a.invoice is not None
            and a.invoice.invoice_id == bill.xero_document_id
            and cents(a.amount) == step.amount
            and a.allocation_id
            and a.allocation_id not in known
        ]
    else:
        found = [
            p.payment_id
            for p in xero.payments_for_invoice(str(bill.xero_document_id))
            if p.status != "DELETED"
            and p.amount is not None
            and cents(p.amount) == step.amount
            and (p.reference or "").strip() == payment_reference(bill)
            and p.payment_id not in known
        ]
    if found:
        _done(session, step, found[0])
        session.commit()
        return "done"
    sent = step.sent_at or utcnow()
    if utcnow() - sent < xero.in_flight:  # it may still arrive: not planned again yet
        return "in_flight"
    step.state = StepState.PLANNED
    step.message = f"Not in Xero after an interrupted send ({step.idempotency_key})."
    session.add(step)
    session.commit()
    return "replan"


def seconds_until_known(step: SettlementStep, in_flight: timedelta) -> float:
    """How long until a ``sending`` step can be looked up for certain (``plugin.xero.timing``)."""
    sent = step.sent_at or utcnow()
    left = (in_flight - (utcnow() - sent)).total_seconds()
    return max(left, 1.0)
