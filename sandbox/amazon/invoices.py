"""Pay by Invoice payment status over sandbox time (getBatchInvoicePaymentDetails).

Deterministic per invoice number: most invoices are paid before they fall due; about one in
five is paid late and is ``Past Due`` for a while first. Card-paid invoices and credit memos are
``Closed`` from the day they are issued.
"""

from __future__ import annotations

import zlib
from datetime import datetime
from datetime import timedelta

from sandbox.amazon.book import InvoiceRecord

PAYMENT_TERMS_DAYS = 30
ON_TIME_PROCESSING_BEFORE_DUE = timedelta(days=5)
ON_TIME_CLOSED_BEFORE_DUE = timedelta(days=2)
LATE_PROCESSING_AFTER_DUE = timedelta(days=10)
LATE_CLOSED_AFTER_DUE = timedelta(days=13)

Schedule = list[tuple[str, datetime]]


def due_date(record: InvoiceRecord) -> datetime:
    """The last second of the day ``PAYMENT_TERMS_DAYS`` after a Pay by Invoice invoice's date
    (UTC); of the issue day itself for card-paid invoices and credit memos."""
    terms = PAYMENT_TERMS_DAYS if fate(record) != "closed_at_issue" else 0
    day = record.date + timedelta(days=terms)
    return day.replace(hour=23, minute=59, second=59, microsecond=0)


def fate(record: InvoiceRecord) -> str:
    """``paid_on_time``, ``paid_late`` or ``closed_at_issue`` (cards, credit memos)."""
    if not record.pay_by_invoice or record.invoice_type != "STANDARD":
        return "closed_at_issue"
    return "paid_late" if zlib.crc32(record.number.encode()) % 5 == 0 else "paid_on_time"


def schedule(record: InvoiceRecord) -> Schedule:
    """Each status with the moment it starts, in order."""
    issued = record.date
    due = due_date(record)
    kind = fate(record)
    if kind == "closed_at_issue":
        return [("Closed", issued)]
    if kind == "paid_on_time":
        return [
            ("Issued", issued),
            ("Payment Processing", due - ON_TIME_PROCESSING_BEFORE_DUE),
            ("Closed", due - ON_TIME_CLOSED_BEFORE_DUE),
        ]
    return [
        ("Issued", issued),
        ("Past Due", due + timedelta(seconds=1)),
        ("Payment Processing", due + LATE_PROCESSING_AFTER_DUE),
        ("Closed", due + LATE_CLOSED_AFTER_DUE),
    ]


def status_at(record: InvoiceRecord, now: datetime) -> str:
    """The invoice's status at ``now``."""
    current = "Issued"
    for status, start in schedule(record):
        if now >= start:
            current = status
    return current
