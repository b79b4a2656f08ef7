"""The tie-out report's page and CSV download: the report (``tie_out_query``), its charts
(``tie_out_chart``), the payment methods' names, and the CSV text (Python's ``csv`` module).

Every figure on the page links to the entries list filtered to the entries that make it
(``line_filter``): by month, payment method, state and reason.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlmodel import Session
from sqlmodel import select

from plugin.manage.held_groups import cause_of
from plugin.manage.tie_out import NO_METHOD
from plugin.manage.tie_out import Bucket
from plugin.manage.tie_out import Line
from plugin.manage.tie_out import Report
from plugin.manage.tie_out_chart import charts_of
from plugin.manage.tie_out_query import tie_out_report
from plugin.models import Organisation
from plugin.models import PaymentMethod
from plugin.posting.amounts import money_text as money
from plugin.posting.dates import xero_zone

BUCKET_FILTERS: dict[Bucket, dict[str, str]] = {
    Bucket.POSTED: {"state": "posted"},
    Bucket.BY_HAND: {"state": "by_hand", "reason": "posted_by_hand"},
    Bucket.LINKED: {"state": "by_hand", "reason": "already_in_xero"},
    Bucket.CANCELLED: {"state": "cancelled"},
    Bucket.HELD: {"state": "held"},
    Bucket.FAILED: {"state": "failed"},
    Bucket.WAITING: {"state": "pending"},  # waiting to post or for review
}
"""The entries list's filter that shows each bucket's entries (``plugin.manage.entries``)."""


CSV_HEADER = (
    "month",
    "payment_method",
    "currency",
    "amazon_total",
    "amazon_count",
    "in_xero",
    "posted_by_app",
    "posted_by_hand",
    "linked",
    "cancelled",
    "held",
    "held_count",
    "held_reasons",
    "waiting",
    "waiting_count",
    "difference",
    "ties_out",
)


def csv_rows(report: Report, labels: dict[str, str] | None = None) -> list[list[str]]:
    """The header and one row per month, payment method and currency, then the month's total
    (payment method "All"); held reasons as ``reason: amount (count)`` joined by ``; ``."""
    labels = labels or {}
    out = [list(CSV_HEADER)]
    for month in report.months:
        for line in [*month.lines, month.total]:
            name = "All" if line.method is None else labels.get(line.method, line.method)
            reasons = "; ".join(
                f"{label}: {money(figure.amount)} ({figure.count})"
                for _bucket, _code, label, figure in line.held_reasons()
            )
            out.append(
                [
                    month.month,
                    cell(name if line.method != NO_METHOD else "No payment method"),
                    month.currency,
                    money(line.amazon.amount),
                    str(line.amazon.count),
                    money(line.in_xero.amount),
                    money(line.figure(Bucket.POSTED).amount),
                    money(line.figure(Bucket.BY_HAND).amount),
                    money(line.figure(Bucket.LINKED).amount),
                    money(line.figure(Bucket.CANCELLED).amount),
                    money(line.held.amount),
                    str(line.held.count),
                    cell(reasons),
                    money(line.waiting.amount),
                    str(line.waiting.count),
                    money(line.difference),
                    "yes" if line.ties_out else "no",
                ]
            )
    return out


def cell(text: str) -> str:
    """A text cell a spreadsheet will not read as a formula (amounts are never passed here)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def method_labels(session: Session, org_id: int) -> dict[str, str]:
    """Payment method key → its name on the mapping page ("Visa ending 4242")."""
    rows = session.exec(select(PaymentMethod).where(PaymentMethod.organisation_id == org_id))
    return {row.key: row.label or row.key for row in rows}


def method_name(labels: dict[str, str], method: str | None) -> str:
    """A line's payment method in words ("All" for a month's total)."""
    if method is None:
        return "All payment methods"
    if method == NO_METHOD:
        return "No payment method"
    return labels.get(method, method)


def line_filter(line: Line, **more: str) -> dict[str, str]:
    """The entries list's query for a line's entries (``more``: state and reason), opened at
    the list. A reason on a payment method's line is its cause there (``held_groups``), so the
    list's reason filter names it as its groups do."""
    wanted = {"month": line.month, **more, "_anchor": "entries"}
    if line.method is not None:
        wanted["method"] = line.method
        if more.get("reason"):
            wanted["reason"] = cause_of(more["reason"], line.method, None).param
    return wanted


def zone_name(timezone: str | None) -> str:
    """The organisation's time zone as people write it ("Europe/London"), else "UTC"."""
    zone = xero_zone(timezone)
    return str(getattr(zone, "key", "") or timezone or "UTC")


def report_context(session: Session, org: Organisation) -> dict[str, Any]:
    """What the page shows."""
    org_id = int(org.id or 0)
    report = tie_out_report(session, org_id, org.timezone)
    labels = method_labels(session, org_id)
    return {
        "report": report,
        "charts": charts_of(report.months),
        "labels": labels,
        "method_name": lambda method: method_name(labels, method),
        "line_filter": line_filter,
        "bucket_filters": BUCKET_FILTERS,
        "Bucket": Bucket,
        "timezone": zone_name(org.timezone),
    }


def report_csv(session: Session, org: Organisation) -> str:
    """The report as CSV text."""
    org_id = int(org.id or 0)
    report: Report = tie_out_report(session, org_id, org.timezone)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(
        csv_rows(report, method_labels(session, org_id))
    )
    return buffer.getvalue()
