"""Pay by Invoice for one organisation: due dates, payments and credit-note allocations.

- ``fill_due_dates`` asks Amazon for the due dates of Pay by Invoice charges (the posting run
  calls it first, so bills carry Amazon's due date);
- ``run_settlements`` turns Pay by Invoice bills Amazon reports ``Closed`` into Xero payments
  and allocates Pay by Invoice credit notes to their open bills;
- ``check_invoice_payments`` is the settlement job's work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.amazon.errors import AmazonNeedsReconnect
from plugin.infra.locks import AlreadyRunning
from plugin.infra.locks import lock_seconds
from plugin.infra.locks import org_lock
from plugin.infra.queues import get_redis
from plugin.mapping.store import load_mapping
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.models import utcnow
from plugin.posting.amounts import CENT
from plugin.posting.dates import today_in
from plugin.posting.dates import xero_zone
from plugin.posting.results import JsonBody
from plugin.work.readiness import ready_to_post
from plugin.work.stores import active_connection
from plugin.work.stores import amazon_client
from plugin.work.stores import by_connection
from plugin.xero.client import XeroClient
from plugin.xero.errors import XeroConnectionRevoked
from plugin.xero.errors import XeroNeedsReconnect
from plugin.xero.wiring import xero_client


@dataclass
class SettlementCounts:
    """What a settlement run did."""

    checked: int = 0
    paid: int = 0
    still_open: int = 0
    allocated: int = 0


def cents(amount: Decimal) -> Decimal:
    """An amount of Xero's to the cent, half a cent away from zero (as Xero rounds its totals).

    ``AmountDue`` and ``RemainingCredit`` come with two decimals, so this changes nothing in
    practice; it only makes sure a payment or an allocation never carries more.
    """
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def allocation_amount(remaining_credit: Decimal, amount_due: Decimal) -> Decimal:
    """How much of a credit note to allocate to its bill: all it can, to the cent."""
    return cents(min(remaining_credit, amount_due))


def payment_body(entry: LedgerEntry, account_code: str, amount: Decimal, on: date) -> JsonBody:
    """The ``Payments`` element paying ``amount`` (the bill's ``AmountDue``) from the account."""
    return {
        "Invoice": {"InvoiceID": entry.xero_document_id},
        "Account": {"Code": account_code},
        "Date": on.isoformat(),
        "Amount": amount,
        "Reference": f"Amazon Business {entry.invoice_number or ''}".strip(),
    }


def _is_invoice_method(key: str | None) -> bool:
    return bool(key) and "invoice" in str(key).lower()


def fill_due_dates(session: Session, app: Flask, org_id: int) -> int:
    """Ask Amazon for the due dates of Pay by Invoice charges that have none yet."""
    waiting = [
        e
        for e in session.exec(
            select(LedgerEntry).where(
                LedgerEntry.organisation_id == org_id,
                LedgerEntry.transaction_type == "CHARGE",
                col(LedgerEntry.bill_due_date).is_(None),
                col(LedgerEntry.invoice_number).is_not(None),
                col(LedgerEntry.state).in_([EntryState.FETCHED, EntryState.HELD, EntryState.READY]),
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
    return list(
        session.exec(
            select(LedgerEntry).where(
                LedgerEntry.organisation_id == org_id,
                LedgerEntry.state == EntryState.POSTED,
                LedgerEntry.xero_document_type == "Invoices",
                col(LedgerEntry.settlement_state) == "awaiting_payment",
            )
        )
    )


def run_settlements(session: Session, app: Flask, org_id: int, holder: str) -> SettlementCounts:
    """Pay the Xero bills of Pay by Invoice purchases that Amazon reports ``Closed``.

    Each payment is created once: its Idempotency-Key is the entry's, and before creating one
    we look for a payment already on the bill (a crash between Xero's answer and our commit).
    """
    counts = SettlementCounts()
    org = session.get(Organisation, org_id)
    if org is None or ready_to_post(org) is not None:
        return counts
    with org_lock(get_redis(app), org_id, holder, lock_seconds(app)):
        mapping = load_mapping(session, org_id)
        xero = xero_client(org, app)
        # Credits first, while their bills are open; then the payments cover what remains due.
        today = today_in(xero_zone(org.timezone))  # Xero's dates are the org's calendar dates
        counts.allocated = _allocate_credit_notes(session, org_id, xero, today)
        waiting = entries_awaiting_settlement(session, org_id)
        for connection_id, group in by_connection(waiting).items():
            connection = active_connection(session, connection_id)
            if connection is None:
                continue
            with amazon_client(app, connection) as amazon:
                numbers = sorted({str(e.invoice_number) for e in group if e.invoice_number})
                statuses = {
                    d.invoice_id: d for d in amazon.invoice_payment_details(numbers) if d.ok
                }
            for entry in group:
                counts.checked += 1
                detail = statuses.get(str(entry.invoice_number))
                if detail is None or detail.status != "Closed":
                    counts.still_open += 1
                    continue
                method = mapping.payment_method(str(entry.payment_method_key))
                if method is None or not method.payment_account_code:
                    entry.reason = "Map the account Pay by Invoice bills are paid from."
                    session.add(entry)
                    continue
                _pay_bill(xero, entry, method.payment_account_code, today)
                session.add(entry)
                session.commit()
                counts.paid += 1
    session.commit()
    return counts


def _allocate_credit_notes(session: Session, org_id: int, xero: XeroClient, today: date) -> int:
    """Allocate Pay by Invoice credit notes to their bill (same order) while it is open.

    Safe to repeat: the credit note's ``RemainingCredit`` is read first, so a crash between
    Xero's answer and our commit never allocates twice.
    """
    notes = session.exec(
        select(LedgerEntry).where(
            LedgerEntry.organisation_id == org_id,
            LedgerEntry.state == EntryState.POSTED,
            LedgerEntry.xero_document_type == "CreditNotes",
            col(LedgerEntry.settlement_state).is_(None),
        )
    )
    allocated = 0
    for note in list(notes):
        bill = session.exec(
            select(LedgerEntry).where(
                LedgerEntry.organisation_id == org_id,
                LedgerEntry.order_id == note.order_id,
                LedgerEntry.xero_document_type == "Invoices",
                LedgerEntry.state == EntryState.POSTED,
            )
        ).first()
        if bill is None or note.order_id is None:
            note.settlement_state = "unallocated"  # no bill of ours to offset: left for the user
        else:
            remaining = xero.get_credit_note(str(note.xero_document_id)).remaining_credit
            due = xero.get_invoice(str(bill.xero_document_id)).amount_due
            amount = allocation_amount(remaining, due)
            if amount > 0:
                xero.allocate_credit_note(
                    str(note.xero_document_id),
                    str(bill.xero_document_id),
                    amount,
                    today,
                    idempotency_key=f"alloc-{note.id}",
                )
                allocated += 1
            note.settlement_state = "allocated" if amount > 0 or remaining == 0 else "unallocated"
        note.updated_at = utcnow()
        session.add(note)
        session.commit()
    return allocated


def _pay_bill(xero: XeroClient, entry: LedgerEntry, account_code: str, today: date) -> None:
    existing = xero.payments_for_invoice(str(entry.xero_document_id))
    live = [p for p in existing if p.status != "DELETED"]
    due = cents(xero.get_invoice(str(entry.xero_document_id)).amount_due)
    if live:
        entry.xero_payment_id = live[0].payment_id
    elif due <= 0:
        entry.xero_payment_id = None  # settled by credit notes alone
    else:
        payment = payment_body(entry, account_code, due, today)
        results = xero.create_documents("Payments", [payment], f"pay-{entry.id}")
        if not results[0].ok:
            entry.reason = "Xero refused the payment: " + "; ".join(results[0].messages)
            return
        entry.xero_payment_id = results[0].xero_id
    entry.settlement_state = "paid"
    entry.updated_at = utcnow()


def check_invoice_payments(
    session: Session, app: Flask, org_id: int, holder: str
) -> dict[str, Any]:
    """The settlement job's work: pay closed bills, or say why it skipped."""
    try:
        counts = run_settlements(session, app, org_id, holder)
    except AlreadyRunning as busy:
        return {"org": org_id, "skipped": f"busy ({busy.job_id})"}
    except (XeroNeedsReconnect, XeroConnectionRevoked, AmazonNeedsReconnect) as stop:
        return {"org": org_id, "skipped": str(stop)}
    return {
        "org": org_id,
        "checked": counts.checked,
        "paid": counts.paid,
        "allocated": counts.allocated,
    }
