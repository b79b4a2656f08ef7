"""Pay by Invoice settlement, table-driven for a UK (GBP), a US (USD) and a euro-zone (EUR,
German) organisation (issue 13 point 5): which bill a credit note refunds, how much of it is
allocated, on which day, and the payment's date: the org's calendar day the invoice was first
seen Closed. Pure functions only; tests/work/test_settlement_cases_e2e.py runs the same cases
through the sandbox."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from decimal import Decimal

import pytest

from plugin.amazon.invoices import LineItemKey
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.posting.dates import today_in
from plugin.posting.dates import xero_zone
from plugin.work.settlement_credits import allocation_date
from plugin.work.settlement_match import SettlementDocument
from plugin.work.settlement_match import bill_refunded
from plugin.work.settlement_match import invoice_numbers_for
from plugin.work.settlement_steps import allocation_amount
from plugin.work.settlement_steps import outside_locks
from plugin.work.settlement_steps import payment_body
from plugin.xero.models import XeroCreditNote
from plugin.xero.models import XeroInvoice

D = Decimal

# org: (currency, Xero's Organisation.Timezone, its order-id prefix, invoice-number prefix)
ORGS = {
    "UK": ("GBP", "GMTSTANDARDTIME", "202", "GB"),
    "US": ("USD", "EASTERNSTANDARDTIME", "112", "US"),
    "DE": ("EUR", "W.EUROPESTANDARDTIME", "302", "DE"),
}
EACH_ORG = pytest.mark.parametrize("org", list(ORGS))


def _bill(org: str, entry_id: int, number: str, order: str, *lines: str, posted=True):
    currency, _zone, prefix, inv = ORGS[org]
    order_id = f"{prefix}-{order}"
    return SettlementDocument(
        entry_id=entry_id,
        invoice_number=f"{inv}{number}",
        order_id=order_id,
        currency=currency,
        lines=frozenset(LineItemKey(order_id, line, "S1") for line in lines),
        posted=posted,
    )


def _note(org: str, order: str, *lines: str, number: str = "CM1", currency: str | None = None):
    bill = _bill(org, 99, number, order, *lines)
    return SettlementDocument(
        entry_id=99,
        invoice_number=bill.invoice_number,
        order_id=bill.order_id,
        currency=currency or bill.currency,
        lines=bill.lines,
    )


# --- Which bill a credit note refunds ----------------------------------------------------------


@EACH_ORG
def test_two_bills_in_one_order_the_note_naming_one_by_invoice_number_goes_to_it(org):
    first = _bill(org, 1, "A1", "0001", "L1")
    second = _bill(org, 2, "B2", "0001", "L2")
    note = _note(org, "0001", "L9")  # its line is on neither bill (a line Amazon re-numbered)
    match = bill_refunded(note, [first, second], {second.invoice_number or ""})
    assert match.rule == "invoice number"
    assert [b.entry_id for b in match.candidates] == [2]


@EACH_ORG
def test_the_invoice_number_beats_the_order_line(org):
    first = _bill(org, 1, "A1", "0001", "L1")
    second = _bill(org, 2, "B2", "0001", "L2")
    note = _note(org, "0001", "L1")  # refunds line L1, but Amazon's memo names bill B2
    match = bill_refunded(note, [first, second], {second.invoice_number or ""})
    assert [b.entry_id for b in match.candidates] == [2]


@EACH_ORG
def test_without_a_number_the_refunded_line_finds_its_bill(org):
    first = _bill(org, 1, "A1", "0001", "L1")
    second = _bill(org, 2, "B2", "0001", "L2")
    match = bill_refunded(_note(org, "0001", "L2"), [first, second])
    assert match.rule == "order line"
    assert [b.entry_id for b in match.candidates] == [2]


@EACH_ORG
def test_a_one_bill_order_is_matched_by_order_and_a_two_bill_one_is_not(org):
    only = _bill(org, 1, "A1", "0001", "L1")
    assert bill_refunded(_note(org, "0001", "L7"), [only]).rule == "order"
    other = _bill(org, 2, "B2", "0001", "L2")
    undecided = bill_refunded(_note(org, "0001", "L7"), [only, other])
    assert undecided.candidates == ()
    assert undecided.describe() == "no bill of this order"


@EACH_ORG
def test_a_bill_in_another_currency_or_the_memo_itself_never_matches(org):
    bill = _bill(org, 1, "A1", "0001", "L1")
    foreign = "SEK"
    assert bill_refunded(_note(org, "0001", "L1", currency=foreign), [bill]).candidates == ()
    note = _note(org, "0001", "L1", number="A1")  # Amazon gives the memo's own number too
    assert bill_refunded(note, [bill], {note.invoice_number or ""}).rule == "order line"


@EACH_ORG
def test_a_bill_not_posted_yet_is_still_its_candidate(org):
    """A credit note posted before its bill waits for it (allocated when the bill posts)."""
    waiting = _bill(org, 1, "A1", "0001", "L1", posted=False)
    match = bill_refunded(_note(org, "0001", "L1"), [waiting])
    assert [b.posted for b in match.candidates] == [False]


class _Invoice:
    def __init__(self, number: str, kind: str, **raw: str) -> None:
        self.invoice_number, self.invoice_type, self.raw = number, kind, raw


class _Line:
    def __init__(self, *invoices: _Invoice) -> None:
        self.invoices = invoices


@EACH_ORG
def test_amazon_invoice_details_give_the_memo_s_bill_numbers(org):
    inv = ORGS[org][3]
    memo = _Invoice(f"{inv}CM1", "CREDIT_MEMO", associatedInvoiceNumber=f"{inv}B2")
    standard = _Invoice(f"{inv}A1", "INVOICE")
    numbers = invoice_numbers_for([_Line(memo, standard)], f"{inv}CM1")
    assert numbers == {f"{inv}B2", f"{inv}A1"}


# --- How much of the credit is allocated -------------------------------------------------------

AMOUNTS = [
    # (credit note's RemainingCredit, bill's AmountDue, allocated, credit left on the note)
    ("12.50", "40.00", "12.50", "0.00"),  # all of the credit
    ("40.00", "40.00", "40.00", "0.00"),  # exactly what is due
    ("64.15", "12.34", "12.34", "51.81"),  # bigger than due: at most what is due
    ("0.01", "999.99", "0.01", "0.00"),
    ("5.00", "0.00", "0.00", "5.00"),  # the bill owes nothing: nothing allocated
    ("0.00", "5.00", "0.00", "0.00"),
]


@EACH_ORG
@pytest.mark.parametrize(("credit", "due", "allocated", "left"), AMOUNTS)
def test_a_credit_note_is_allocated_at_most_what_is_due(org, credit, due, allocated, left):
    amount = allocation_amount(D(credit), D(due))
    assert amount == D(allocated)
    assert amount.as_tuple().exponent == -2  # to the cent, a Decimal
    assert D(credit) - amount == D(left)
    assert D(due) - amount >= 0  # never more than the bill owes


@EACH_ORG
@pytest.mark.parametrize(
    ("total", "credited", "paid_by_hand", "payment"),
    [
        ("163.97", "0.00", "0.00", "163.97"),  # full payment
        ("163.97", "64.15", "0.00", "99.82"),  # after a credit note
        ("163.97", "64.15", "50.00", "49.82"),  # after credit and a payment made by hand
        ("0.03", "0.01", "0.01", "0.01"),
    ],
)
def test_the_payment_is_the_bill_s_amount_due_to_the_cent(
    org, total, credited, paid_by_hand, payment
):
    """Xero's AmountDue (Total - credits - payments) is what the payment covers: the body
    carries it as an exact Decimal, in the bill's currency, from the mapped account."""
    due = D(total) - D(credited) - D(paid_by_hand)
    bill = LedgerEntry(
        organisation_id=1,
        amazon_transaction_id="t",
        xero_document_id="INV-1",
        invoice_number=f"{ORGS[org][3]}A1",
        currency=ORGS[org][0],
    )
    body = payment_body(bill, "090", allocation_amount(due, due), date(2026, 7, 1))
    assert body["Amount"] == D(payment)
    assert isinstance(body["Amount"], Decimal)
    assert body["Invoice"] == {"InvoiceID": "INV-1"}
    assert body["Account"] == {"Code": "090"}
    assert body["Reference"] == f"Amazon Business {ORGS[org][3]}A1"


# --- On which day -------------------------------------------------------------------------------

# The instant the invoice was first seen Closed, and the org's calendar day of it.
FIRST_SEEN_CLOSED = [
    ("2026-06-30T23:30:00+00:00", {"UK": "2026-07-01", "US": "2026-06-30", "DE": "2026-07-01"}),
    ("2026-07-01T03:30:00+00:00", {"UK": "2026-07-01", "US": "2026-06-30", "DE": "2026-07-01"}),
    ("2026-12-31T23:30:00+00:00", {"UK": "2026-12-31", "US": "2026-12-31", "DE": "2027-01-01"}),
    ("2026-03-29T00:30:00+00:00", {"UK": "2026-03-29", "US": "2026-03-28", "DE": "2026-03-29"}),
]


@EACH_ORG
@pytest.mark.parametrize(("instant", "days"), FIRST_SEEN_CLOSED)
def test_the_payment_is_dated_the_org_s_day_the_invoice_was_first_seen_closed(org, instant, days):
    zone = xero_zone(ORGS[org][1])
    assert zone is not None
    seen = datetime.fromisoformat(instant).astimezone(UTC)
    assert today_in(zone, now=seen) == date.fromisoformat(days[org])


def _xero_note(day: str) -> XeroCreditNote:
    return XeroCreditNote.model_validate(
        {"CreditNoteID": "CN", "RemainingCredit": "10.00", "Date": f"{day}T00:00:00"}
    )


def _xero_bill(day: str) -> XeroInvoice:
    return XeroInvoice.model_validate(
        {"InvoiceID": "INV", "AmountDue": "40.00", "Date": f"{day}T00:00:00"}
    )


@EACH_ORG
@pytest.mark.parametrize(
    ("note_day", "bill_day", "lock", "today", "allocated_on"),
    [
        ("2026-07-03", "2026-07-01", None, "2026-07-20", "2026-07-03"),  # note after its bill
        ("2026-06-28", "2026-07-01", None, "2026-07-20", "2026-07-01"),  # note before its bill
        ("2026-06-28", "2026-06-29", "2026-06-30", "2026-07-20", "2026-07-20"),  # locked: today
        ("2026-07-02", "2026-07-01", "2026-06-30", "2026-07-20", "2026-07-02"),
    ],
)
def test_the_allocation_is_dated_the_day_the_credit_could_first_be_used(
    org, note_day, bill_day, lock, today, allocated_on
):
    organisation = Organisation(
        xero_tenant_id="t",
        name=org,
        timezone=ORGS[org][1],
        period_lock_date=date.fromisoformat(lock) if lock else None,
    )
    on = allocation_date(
        organisation, _xero_note(note_day), _xero_bill(bill_day), date.fromisoformat(today)
    )
    assert on == date.fromisoformat(allocated_on)


@EACH_ORG
@pytest.mark.parametrize(
    ("first_seen", "period_lock", "year_end_lock", "paid_on"),
    [
        ("2026-07-01", None, None, "2026-07-01"),
        ("2026-07-01", "2026-06-30", None, "2026-07-01"),  # the day after the lock: kept
        ("2026-06-30", "2026-06-30", None, "2026-07-20"),  # on the lock date: today
        ("2025-12-31", None, "2025-12-31", "2026-07-20"),  # the year-end lock
    ],
)
def test_a_payment_day_in_a_locked_period_becomes_the_org_s_today(
    org, first_seen, period_lock, year_end_lock, paid_on
):
    organisation = Organisation(
        xero_tenant_id="t",
        name=org,
        timezone=ORGS[org][1],
        period_lock_date=date.fromisoformat(period_lock) if period_lock else None,
        end_of_year_lock_date=date.fromisoformat(year_end_lock) if year_end_lock else None,
    )
    day = outside_locks(organisation, date.fromisoformat(first_seen), date(2026, 7, 20))
    assert day == date.fromisoformat(paid_on)
