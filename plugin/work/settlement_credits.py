"""Pay by Invoice credit notes: each allocated once to the bill it refunds, while that bill is
open, for at most what it still owes; what is left stays on the credit note as credit.

States of a credit note's entry (``settlement_state``), each with its ``reason``:
``None`` (not looked at yet, or Xero refused its allocation: tried again next run),
``waiting_for_bill`` (its bill is not in Xero yet: looked at again every run),
``allocated`` (no credit left), ``credit_left`` (its bill took what it owed; the rest stays as
``RemainingCredit``), ``unallocated`` (no open bill to take any of it: all of it stays; or the
note itself is voided or deleted in Xero).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from datetime import tzinfo
from decimal import Decimal

from flask import Flask
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.amazon.errors import AmazonError
from plugin.amazon.invoices import LineItemKey
from plugin.ledger.queries import posted_entries
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.models import utcnow
from plugin.posting.dates import today_in
from plugin.work.settlement_match import BillMatch
from plugin.work.settlement_match import SettlementDocument
from plugin.work.settlement_match import bill_refunded
from plugin.work.settlement_match import invoice_numbers_for
from plugin.work.settlement_match import line_keys
from plugin.work.settlement_steps import allocation_amount
from plugin.work.settlement_steps import cents
from plugin.work.settlement_steps import outside_locks
from plugin.work.settlement_steps import plan_step
from plugin.work.settlement_steps import send_allocation
from plugin.work.settlement_steps import step_for
from plugin.work.settlement_table import StepKind
from plugin.work.settlement_table import StepState
from plugin.work.stores import active_connection
from plugin.work.stores import amazon_client
from plugin.work.stores import by_connection
from plugin.xero.client import XeroClient
from plugin.xero.models import XeroCreditNote
from plugin.xero.models import XeroInvoice

log = logging.getLogger(__name__)

FINAL = ("allocated", "credit_left", "unallocated")
# Card bills' credit notes (a foreign-currency refund to the card, plugin.work.card_bill_payments)
# are refunded, never allocated here.
CARD_STATES = ("card_payment", "card_paid", "card_refused")


def notes_to_settle(session: Session, org_id: int) -> list[LedgerEntry]:
    """Posted credit notes not yet in a final settlement state."""
    return posted_entries(
        session,
        org_id,
        col(LedgerEntry.xero_document_type) == "CreditNotes",
        col(LedgerEntry.settlement_state).is_(None)
        | col(LedgerEntry.settlement_state).not_in(FINAL + CARD_STATES),
    )


def _document(entry: LedgerEntry) -> SettlementDocument:
    return SettlementDocument(
        entry_id=int(entry.id or 0),
        invoice_number=entry.invoice_number,
        order_id=entry.order_id,
        currency=entry.currency,
        lines=line_keys(entry.raw_payload),
        posted=entry.state == EntryState.POSTED and entry.xero_document_type == "Invoices",
    )


def _amazon_invoice_numbers(
    session: Session, app: Flask, notes: list[LedgerEntry]
) -> dict[int, set[str]]:
    """For each note, the invoice numbers Amazon's invoice details give for its lines."""
    found: dict[int, set[str]] = {}
    for connection_id, group in by_connection(notes).items():
        connection = active_connection(session, connection_id)
        if connection is None:
            continue
        keys = {int(n.id or 0): line_keys(n.raw_payload) for n in group}
        wanted = sorted({k for ks in keys.values() for k in ks}, key=_key_order)
        if not wanted:
            continue
        try:
            with amazon_client(app, connection) as amazon:
                details = amazon.invoice_details(wanted)
        except AmazonError as exc:  # matching falls back to order and line
            log.warning("No Amazon invoice details for credit notes: %s", exc)
            continue
        by_key: dict[LineItemKey, list[object]] = {}
        for line in details:
            by_key.setdefault(line.key, []).append(line)
        for note in group:
            lines = [d for k in keys[int(note.id or 0)] for d in by_key.get(k, [])]
            found[int(note.id or 0)] = invoice_numbers_for(lines, note.invoice_number)
    return found


def _candidate_bills(
    session: Session, org_id: int, notes: list[LedgerEntry], numbers: Iterable[str]
) -> list[LedgerEntry]:
    orders = {n.order_id for n in notes if n.order_id}
    wanted = set(numbers)
    if not orders and not wanted:
        return []
    return list(
        session.exec(
            select(LedgerEntry).where(
                LedgerEntry.organisation_id == org_id,
                LedgerEntry.transaction_type == "CHARGE",
                col(LedgerEntry.order_id).in_(orders) | col(LedgerEntry.invoice_number).in_(wanted),
            )
        )
    )


def allocation_date(
    org: Organisation, note: XeroCreditNote, bill: XeroInvoice, today: date
) -> date:
    """The later of the two documents' dates (the day the credit could first be used), or the
    org's today when that day is in a locked period."""
    dates = [d for d in (note.date, bill.date) if d is not None]
    return outside_locks(org, max(dates) if dates else today, today)


def _describe(note: LedgerEntry, remaining: Decimal, total: Decimal | None, bill: str) -> None:
    """Say truthfully where the note's credit went."""
    used = (total or remaining) - remaining
    if remaining <= 0:
        note.settlement_state = "allocated"
        note.reason = f"All of the credit ({cents(used)}) allocated to bill {bill}."
    elif used > 0:
        note.settlement_state = "credit_left"
        note.reason = (
            f"{cents(used)} allocated to bill {bill}, all it still owed; {cents(remaining)} "
            "stays on the credit note as credit (RemainingCredit) for a refund or a later bill."
        )
    else:
        note.settlement_state = "unallocated"
        note.reason = (
            f"Bill {bill} owes nothing in Xero (paid, or not open): the whole credit of "
            f"{cents(remaining)} stays on the credit note (RemainingCredit)."
        )


def _nothing_to_allocate(note: LedgerEntry, xnote: XeroCreditNote) -> None:
    """The note is not open in Xero (voided, deleted) or has no credit left (a person allocated
    or refunded it there): nothing of ours is allocated, and the reason says why."""
    if xnote.status != "AUTHORISED":
        note.settlement_state = "unallocated"
        note.reason = f"The credit note is {xnote.status} in Xero: nothing is allocated from it."
        return
    note.settlement_state = "allocated"
    note.reason = (
        "No credit is left on the credit note in Xero (allocated or refunded there): nothing "
        "more to allocate."
    )


def _wait(note: LedgerEntry, match: BillMatch) -> None:
    note.settlement_state = "waiting_for_bill"
    numbers = sorted({c.invoice_number or "?" for c in match.candidates})
    if numbers:
        note.reason = (
            f"Waiting for its bill ({', '.join(numbers)}) to be posted to Xero; the credit is "
            "allocated to it then."
        )
    else:
        note.reason = (
            f"No Pay by Invoice bill of order {note.order_id or '?'} is in the ledger yet; the "
            "credit is allocated to it once it is posted (import its date range if it is older)."
        )


def allocate_credit_notes(
    session: Session, app: Flask, org: Organisation, xero: XeroClient, zone: tzinfo | None
) -> tuple[int, set[int]]:
    """Allocate what can be allocated now; (allocations made, bills whose credit is not
    settled yet, which must not be paid this run)."""
    org_id = int(org.id or 0)
    notes = notes_to_settle(session, org_id)
    unsettled: set[int] = set()
    allocated = 0
    to_match = [n for n in notes if _needs_match(session, n)]
    numbers = _amazon_invoice_numbers(session, app, to_match) if to_match else {}
    bills = _candidate_bills(session, org_id, notes, {x for s in numbers.values() for x in s})
    for note in notes:
        step = step_for(session, StepKind.ALLOCATION, int(note.id or 0))
        if step is not None and step.state == StepState.SENDING:
            unsettled.add(step.bill_entry_id)  # its outcome is looked up first, next run
            continue
        if step is not None and step.state == StepState.DONE:
            bill = session.get(LedgerEntry, step.bill_entry_id)
            xnote = xero.get_credit_note(str(note.xero_document_id))
            _describe(note, xnote.remaining_credit, xnote.total, _number(bill))
            _save(session, note)
            continue
        same_method = [b for b in bills if b.payment_method_key == note.payment_method_key]
        match = bill_refunded(
            _document(note), map(_document, same_method), numbers.get(int(note.id or 0), ())
        )
        posted = [session.get(LedgerEntry, c.entry_id) for c in match.candidates if c.posted]
        if not posted:
            _wait(note, match)
            _save(session, note)
            continue
        xnote = xero.get_credit_note(str(note.xero_document_id))
        if xnote.status != "AUTHORISED" or xnote.remaining_credit <= 0:
            _nothing_to_allocate(note, xnote)
            _save(session, note)
            continue
        target, xbill = None, None
        for bill in posted:
            assert bill is not None
            xbill = xero.get_invoice(str(bill.xero_document_id))
            if xbill.status == "AUTHORISED" and xbill.amount_due > 0:
                target = bill
                break
        if target is None or xbill is None:
            if len(posted) < len(match.candidates):
                _wait(note, match)  # another of its possible bills is still to come
            else:
                _describe(note, xnote.remaining_credit, xnote.total, _number(posted[0]))
            _save(session, note)
            continue
        amount = allocation_amount(xnote.remaining_credit, xbill.amount_due)
        on = allocation_date(org, xnote, xbill, today_in(zone))
        step = plan_step(
            session, org_id, StepKind.ALLOCATION, int(note.id or 0), int(target.id or 0)
        )
        step.bill_entry_id = int(target.id or 0)
        if send_allocation(session, xero, step, note, target, amount, on):
            allocated += 1
            _describe(note, xnote.remaining_credit - amount, xnote.total, _number(target))
            note.reason = f"{note.reason} ({match.describe()})"
        else:
            unsettled.add(int(target.id or 0))
            note.settlement_state = None
            note.reason = f"Xero refused the allocation to bill {_number(target)}: {step.message}"
        _save(session, note)
    return allocated, unsettled


def _needs_match(session: Session, note: LedgerEntry) -> bool:
    step = step_for(session, StepKind.ALLOCATION, int(note.id or 0))
    return step is None or step.state in (StepState.PLANNED, StepState.REFUSED)


def _number(bill: LedgerEntry | None) -> str:
    return (bill.invoice_number if bill is not None else None) or "?"


def _save(session: Session, note: LedgerEntry) -> None:
    note.updated_at = utcnow()
    session.add(note)
    session.commit()


def _key_order(key: LineItemKey) -> tuple[str, str, str]:
    return (key.order_id, key.order_line_item_id, key.shipment_id)
