"""Pay by Invoice for one organisation: due dates, credit-note allocations and payments.

- ``fill_due_dates`` asks Amazon for the due dates of Pay by Invoice charges (the posting run
  calls it first, so bills carry Amazon's due date);
- ``run_settlements`` first settles any allocation or payment whose send was interrupted (looked
  up in Xero, never simply sent again: ``settlement_steps``), then allocates credit notes to the
  bills they refund (``settlement_credits``), then pays each bill Amazon reports ``Closed``:
  exactly what Xero says is still due after credits and any payment made by hand, from the
  mapped account, dated the day (in the org's time zone) the invoice was first seen ``Closed``
  (Amazon's payment details give a status, no payment date);
- ``check_invoice_payments`` is the settlement job's work: after a rate limit, an outage or a
  busy organisation it comes back later (``enqueue_in``) instead of failing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from flask import Flask
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.amazon.errors import AmazonNeedsReconnect
from plugin.amazon.errors import AmazonRetryableError
from plugin.infra.keys import settle_later_job_ids
from plugin.infra.locks import AlreadyRunning
from plugin.infra.locks import lock_seconds
from plugin.infra.locks import org_lock
from plugin.infra.queues import enqueue_later
from plugin.infra.queues import get_redis
from plugin.ledger.queries import posted_entries
from plugin.mapping.store import load_mapping
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.models import utcnow
from plugin.posting.dates import calendar_date
from plugin.posting.dates import today_in
from plugin.posting.dates import xero_zone
from plugin.posting.inputs import Mapping
from plugin.work.readiness import ready_to_post
from plugin.work.settlement_credits import allocate_credit_notes
from plugin.work.settlement_steps import cents
from plugin.work.settlement_steps import outside_locks
from plugin.work.settlement_steps import plan_step
from plugin.work.settlement_steps import resolve
from plugin.work.settlement_steps import seconds_until_known
from plugin.work.settlement_steps import send_payment
from plugin.work.settlement_steps import unfinished_steps
from plugin.work.settlement_table import SettlementStep
from plugin.work.settlement_table import StepKind
from plugin.work.settlement_table import StepState
from plugin.work.stores import active_connection
from plugin.work.stores import amazon_client
from plugin.work.stores import by_connection
from plugin.xero.client import XeroClient
from plugin.xero.errors import XeroConnectionLost
from plugin.xero.errors import XeroConnectionRevoked
from plugin.xero.errors import XeroNeedsReconnect
from plugin.xero.errors import XeroRateLimited
from plugin.xero.errors import XeroServerError
from plugin.xero.errors import XeroUnavailable
from plugin.xero.wiring import xero_client

log = logging.getLogger(__name__)

BUSY_RETRY_SECONDS = 30


@dataclass
class SettlementCounts:
    """What a settlement run did."""

    checked: int = 0
    paid: int = 0
    still_open: int = 0
    allocated: int = 0
    recovered: int = 0  # interrupted sends found in Xero (recorded, not sent again)
    come_back_in: float = 0.0  # a send may still be in flight: look it up after this long


def _is_invoice_method(key: str | None) -> bool:
    return bool(key) and "invoice" in str(key).lower()


DUE_DATE_STATES = (EntryState.FETCHED, EntryState.HELD, EntryState.REVIEW, EntryState.READY)


def fill_due_dates(
    session: Session, app: Flask, org_id: int, states: tuple[EntryState, ...] = DUE_DATE_STATES
) -> int:
    """Ask Amazon for the due dates of Pay by Invoice charges (in ``states``) that have none."""
    waiting = [
        e
        for e in session.exec(
            select(LedgerEntry).where(
                LedgerEntry.organisation_id == org_id,
                LedgerEntry.transaction_type == "CHARGE",
                col(LedgerEntry.bill_due_date).is_(None),
                col(LedgerEntry.invoice_number).is_not(None),
                col(LedgerEntry.state).in_(states),
            )
        )
        if _is_invoice_method(e.payment_method_key)
    ]
    filled = 0
    for connection_id, group in by_connection(waiting).items():
        connection = active_connection(session, connection_id)
        if connection is None:
            continue
        with amazon_client(app, connection) as amazon:
            numbers = sorted({str(e.invoice_number) for e in group})
            details = {d.invoice_id: d for d in amazon.invoice_payment_details(numbers) if d.ok}
        for entry in group:
            detail = details.get(str(entry.invoice_number))
            if detail is not None and detail.due_date is not None:
                entry.bill_due_date = detail.due_date.date()
                session.add(entry)
                filled += 1
    session.commit()
    return filled


def entries_awaiting_settlement(session: Session, org_id: int) -> list[LedgerEntry]:
    """Posted Pay by Invoice bills not yet paid in Xero."""
    return posted_entries(
        session,
        org_id,
        col(LedgerEntry.xero_document_type) == "Invoices",
        col(LedgerEntry.settlement_state) == "awaiting_payment",
    )


def run_settlements(session: Session, app: Flask, org_id: int, holder: str) -> SettlementCounts:
    """Settle interrupted sends, allocate credit notes, pay the bills Amazon reports Closed."""
    counts = SettlementCounts()
    org = session.get(Organisation, org_id)
    if org is None or ready_to_post(org) is not None:
        return counts
    with org_lock(get_redis(app), org_id, holder, lock_seconds(app)):
        xero = xero_client(org, app)
        zone = xero_zone(org.timezone)
        in_flight = _resolve_interrupted(session, xero, org_id, counts)
        counts.allocated, unsettled = allocate_credit_notes(session, app, org, xero, zone)
        _pay_closed_bills(session, app, org, xero, zone, unsettled | in_flight, counts)
    session.commit()
    return counts


def _resolve_interrupted(
    session: Session, xero: XeroClient, org_id: int, counts: SettlementCounts
) -> set[int]:
    """Look up every send left unknown; the bills whose credit or payment is still unknown."""
    waiting: set[int] = set()
    for step in unfinished_steps(session, org_id):
        outcome = resolve(session, xero, step)
        if outcome == "done":
            counts.recovered += 1
            if step.kind == StepKind.PAYMENT:
                _record_paid(session, step)
        elif outcome == "in_flight":
            waiting.add(step.bill_entry_id)
            known_in = seconds_until_known(step, xero.in_flight)
            counts.come_back_in = max(counts.come_back_in, known_in)
    return waiting


FIRST_SEEN = "the day Amazon was first seen reporting the invoice Closed"


def _record_paid(session: Session, step: SettlementStep, why_that_day: str = FIRST_SEEN) -> None:
    bill = session.get(LedgerEntry, step.entry_id)
    if bill is None:
        return
    bill.settlement_state = "paid"
    bill.xero_payment_id = step.xero_id
    bill.reason = (
        f"Paid {step.amount} from account {step.account_code} on {step.on_date}, {why_that_day}."
    )
    bill.updated_at = utcnow()
    session.add(bill)
    session.commit()


def _pay_closed_bills(
    session: Session,
    app: Flask,
    org: Organisation,
    xero: XeroClient,
    zone: tzinfo | None,
    unsettled: set[int],
    counts: SettlementCounts,
) -> None:
    org_id = int(org.id or 0)
    mapping = load_mapping(session, org_id)
    waiting = entries_awaiting_settlement(session, org_id)
    for connection_id, group in by_connection(waiting).items():
        connection = active_connection(session, connection_id)
        if connection is None:
            continue
        with amazon_client(app, connection) as amazon:
            numbers = sorted({str(e.invoice_number) for e in group if e.invoice_number})
            statuses = {d.invoice_id: d for d in amazon.invoice_payment_details(numbers) if d.ok}
        for bill in group:
            counts.checked += 1
            detail = statuses.get(str(bill.invoice_number))
            if detail is None or detail.status != "Closed":
                counts.still_open += 1
                continue
            # The payment's date: the day (the org's) Amazon was first seen reporting Closed.
            step = plan_step(
                session,
                org_id,
                StepKind.PAYMENT,
                int(bill.id or 0),
                int(bill.id or 0),
                on_date=today_in(zone),
            )
            if step.state in (StepState.SENDING, StepState.DONE) or bill.id in unsettled:
                continue  # unknown outcome (looked up next run), or credits not settled yet
            if _pay_bill(session, xero, mapping, step, bill, _payment_day(org, step, zone)):
                counts.paid += 1


def _payment_day(org: Organisation, step: SettlementStep, zone: tzinfo | None) -> str:
    """Date the step's payment the day it was first seen Closed (the org's day the step was
    planned), unless that day is now in a locked period (Xero would refuse it every time):
    then the org's today. Why that day, for the bill's reason."""
    today = today_in(zone)
    step.on_date = outside_locks(org, step.on_date or today, today)
    first_seen = calendar_date(step.created_at, zone)
    if step.on_date == first_seen:
        return FIRST_SEEN
    return (
        f"the org's today, as {first_seen} (the day Amazon was first seen reporting the "
        "invoice Closed) is in a locked period"
    )


def _pay_bill(
    session: Session,
    xero: XeroClient,
    mapping: Mapping,
    step: SettlementStep,
    bill: LedgerEntry,
    why_that_day: str = FIRST_SEEN,
) -> bool:
    """Pay what Xero says the bill still owes (after credits and payments made by hand), on
    the step's date."""
    method = mapping.payment_method(str(bill.payment_method_key))
    if method is None or not method.payment_account_code:
        bill.reason = "Map the account Pay by Invoice bills are paid from."
        _save(session, bill)
        return False
    invoice = xero.get_invoice(str(bill.xero_document_id))
    due = cents(invoice.amount_due)
    if invoice.status not in ("AUTHORISED", "PAID"):
        bill.reason = f"The bill is {invoice.status} in Xero, so it is not paid."
        bill.settlement_state = "not_payable"
        _save(session, bill)
        return False
    if invoice.status == "PAID" or due <= 0:
        _settled_without_us(session, xero, step, bill, invoice.amount_paid, invoice.amount_credited)
        return False
    if send_payment(session, xero, step, bill, method.payment_account_code, due):
        _record_paid(session, step, why_that_day)
        return True
    bill.reason = f"Xero refused the payment of {due}: {step.message}"
    _save(session, bill)
    return False


def _settled_without_us(
    session: Session,
    xero: XeroClient,
    step: SettlementStep,
    bill: LedgerEntry,
    paid: Any,
    credited: Any,
) -> None:
    live = [
        p for p in xero.payments_for_invoice(str(bill.xero_document_id)) if p.status != "DELETED"
    ]
    step.state = StepState.DONE
    step.message = "Nothing was due in Xero: no payment made."
    session.add(step)
    bill.settlement_state = "paid"
    bill.xero_payment_id = live[0].payment_id if live else None
    parts = []
    if paid:
        parts.append(f"{cents(paid)} paid in Xero (not by us)")
    if credited:
        parts.append(f"{cents(credited)} credited by credit notes")
    bill.reason = "Nothing left to pay: " + ("; ".join(parts) or "the bill owes nothing") + "."
    _save(session, bill)


def _save(session: Session, entry: LedgerEntry) -> None:
    entry.updated_at = utcnow()
    session.add(entry)
    session.commit()


# --- The settlement job ---------------------------------------------------------------------


def _later(app: Flask, org_id: int, seconds: float) -> None:
    enqueue_later(
        "low",
        seconds,
        "jobs.settlements.check_invoice_payments",
        org_id,
        job_ids=settle_later_job_ids(org_id),
        app=app,
    )


def check_invoice_payments(
    session: Session, app: Flask, org_id: int, holder: str
) -> dict[str, Any]:
    """The settlement job's work: settle what can be settled; after a rate limit, an outage or
    a busy organisation, come back later (``enqueue_in``), never fail or sleep."""
    try:
        counts = run_settlements(session, app, org_id, holder)
    except AlreadyRunning as busy:
        _later(app, org_id, BUSY_RETRY_SECONDS)
        return {"org": org_id, "skipped": f"busy ({busy.job_id})", "retry_in": BUSY_RETRY_SECONDS}
    except (XeroNeedsReconnect, XeroConnectionRevoked, AmazonNeedsReconnect) as stop:
        return {"org": org_id, "skipped": str(stop)}
    except (
        XeroRateLimited,
        XeroUnavailable,
        XeroServerError,
        XeroConnectionLost,
        AmazonRetryableError,
    ) as pause:
        session.rollback()
        delay = getattr(pause, "retry_after", None) or (
            300 if isinstance(pause, XeroUnavailable) else 60
        )
        _later(app, org_id, float(delay) + 1)
        log.info("Settlement of org %s paused %s s: %s", org_id, delay, pause)
        return {"org": org_id, "requeued_in": float(delay), "why": str(pause)}
    result: dict[str, Any] = {
        "org": org_id,
        "checked": counts.checked,
        "paid": counts.paid,
        "allocated": counts.allocated,
        "recovered": counts.recovered,
    }
    if counts.come_back_in:
        _later(app, org_id, counts.come_back_in + 1)
        result["come_back_in"] = counts.come_back_in
    return result
