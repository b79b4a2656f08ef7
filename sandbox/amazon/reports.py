"""Document API reports: status over sandbox time, documents, and short-lived download links.

A report is ``IN_QUEUE`` for ``QUEUE_SECONDS``, ``IN_PROGRESS`` for ``PROCESSING_SECONDS`` and
then ends ``DONE`` (a PDF exists), ``CANCELLED`` (cancelled, or nothing matched the options) or
``FATAL`` (forced through the control endpoint). A document downloads as a ZIP archive holding
the PDF, gzip-compressed too for every other report by default (spec §9 item 3). Callers hold
the sandbox lock.
"""

from __future__ import annotations

import gzip
import io
import random
import zipfile
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

from sandbox.amazon.book import InvoiceRecord
from sandbox.amazon.dates import iso_s
from sandbox.amazon.ids import ALNUM
from sandbox.amazon.ids import random_token
from sandbox.amazon.pdf import make_pdf

QUEUE_SECONDS = 3
PROCESSING_SECONDS = 3
URL_SECONDS = 300
RETENTION_DAYS = 90
FINAL_STATUSES = ("DONE", "CANCELLED", "FATAL")
ALTERNATE = "ALTERNATE"
CONTENTS = ("pdf", "not_pdf", "corrupt_zip")


@dataclass
class Report:
    """One createReport request and how it will end."""

    report_id: str
    party: str
    report_type: str
    marketplace_ids: list[str]
    options: dict[str, str]
    created: datetime
    outcome: str
    invoice: InvoiceRecord | None
    title: str
    data_start: str | None = None
    data_end: str | None = None
    compression: str | None = None
    cancelled_at: datetime | None = None
    document_id: str | None = None

    def status(self, now: datetime) -> tuple[str, datetime | None, datetime | None]:
        """(processingStatus, processingStartTime, processingEndTime) at ``now``."""
        if self.cancelled_at is not None:
            return "CANCELLED", None, self.cancelled_at
        started = self.created + timedelta(seconds=QUEUE_SECONDS)
        ended = started + timedelta(seconds=PROCESSING_SECONDS)
        if now < started:
            return "IN_QUEUE", None, None
        if now < ended:
            return "IN_PROGRESS", started, None
        return self.outcome, started, ended

    def to_json(self, now: datetime) -> dict[str, Any]:
        """The documented ``Report`` object."""
        status, started, ended = self.status(now)
        body: dict[str, Any] = {
            "reportId": self.report_id,
            "reportType": self.report_type,
            "marketplaceIds": list(self.marketplace_ids),
        }
        if self.data_start:
            body["dataStartTime"] = self.data_start
        if self.data_end:
            body["dataEndTime"] = self.data_end
        body["createdTime"] = iso_s(self.created)
        body["processingStatus"] = status
        if started is not None:
            body["processingStartTime"] = iso_s(started)
        if ended is not None:
            body["processingEndTime"] = iso_s(ended)
        if status == "DONE" and self.document_id:
            body["reportDocumentId"] = self.document_id
        return body


@dataclass
class Link:
    """A presigned-style download link."""

    document_id: str
    expires_at: datetime


@dataclass
class ReportState:
    """Every report, document and download link; plus the control endpoint's settings."""

    rng: random.Random
    reports: dict[str, Report] = field(default_factory=dict)
    documents: dict[str, Report] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)
    list_tokens: dict[str, tuple[str, list[str], int]] = field(default_factory=dict)
    forced_outcome: str | None = None
    compression: str | None = "ALTERNATE"
    content: str = "pdf"  # or "not_pdf", "corrupt_zip" (control endpoint, for tests)

    def create(
        self,
        party: str,
        report_type: str,
        marketplace_ids: list[str],
        options: dict[str, str],
        invoice: InvoiceRecord | None,
        title: str,
        now: datetime,
        data_start: str | None = None,
        data_end: str | None = None,
    ) -> Report:
        """Queue a report; it ends CANCELLED when nothing matched, else DONE (or as forced).

        Its document is gzip-compressed when the control endpoint asked for GZIP, and by default
        (``ALTERNATE``) every other report's is, as Amazon sometimes does."""
        report_id = str(50_000_000_000 + len(self.reports) * 7919 + self.rng.randrange(7919))
        compression = self.compression
        if compression == ALTERNATE:
            compression = "GZIP" if len(self.reports) % 2 else None
        outcome = "DONE" if invoice is not None else "CANCELLED"
        if self.forced_outcome is not None:
            outcome = self.forced_outcome
        report = Report(
            report_id=report_id,
            party=party,
            report_type=report_type,
            marketplace_ids=marketplace_ids,
            options=options,
            created=now,
            outcome=outcome,
            invoice=invoice,
            title=title,
            data_start=data_start,
            data_end=data_end,
            compression=compression,
        )
        if outcome == "DONE":
            report.document_id = self._uuid()
            self.documents[report.document_id] = report
        self.reports[report_id] = report
        return report

    def force(self, report: Report, outcome: str) -> None:
        """Make an existing report end with ``outcome`` instead."""
        report.outcome = outcome
        if outcome == "DONE" and report.document_id is None:
            report.document_id = self._uuid()
            self.documents[report.document_id] = report

    def visible(self, party: str, now: datetime) -> list[Report]:
        """The party's reports of the retention window, newest first."""
        oldest = now - timedelta(days=RETENTION_DAYS)
        mine = [r for r in self.reports.values() if r.party == party and r.created >= oldest]
        return sorted(mine, key=lambda r: (r.created, r.report_id), reverse=True)

    def token(self) -> str:
        """A new opaque token (download links, getReports' nextToken)."""
        return random_token(self.rng, 40, ALNUM)

    def link(self, document_id: str, now: datetime) -> str:
        """A new opaque link token for a document, valid ``URL_SECONDS``."""
        token = self.token()
        self.links[token] = Link(document_id, now + timedelta(seconds=URL_SECONDS))
        return token

    def download(self, token: str, now: datetime) -> tuple[bytes, str | None] | None:
        """The document bytes behind a live link (and its compression), or None."""
        link = self.links.get(token)
        if link is None or link.expires_at <= now:
            return None
        report = self.documents[link.document_id]
        archive = zip_archive(member_name(report), document_content(report, self.content))
        if self.content == "corrupt_zip":
            archive = archive[: len(archive) // 2]  # no central directory: unreadable
        if report.compression == "GZIP":
            return gzip.compress(archive, mtime=0), "GZIP"
        return archive, None

    def _uuid(self) -> str:
        hexes = f"{self.rng.getrandbits(128):032x}"
        return f"{hexes[:8]}-{hexes[8:12]}-4{hexes[13:16]}-a{hexes[17:20]}-{hexes[20:]}"


def is_order_summary(report: Report) -> bool:
    """Whether the report is an NA order summary (``documentType: OrderSummary``)."""
    return report.options.get("documentType") == "OrderSummary"


def member_name(report: Report) -> str:
    """The file name inside the archive, e.g. ``GB1UFB1HAEUI.pdf``."""
    if is_order_summary(report):
        return f"OrderSummary-{report.options.get('orderId', report.report_id)}.pdf"
    name = report.invoice.number if report.invoice is not None else report.report_id
    return f"{name}.pdf"


def document_content(report: Report, content: str) -> bytes:
    """What the archive holds: the PDF, or (control endpoint) something else."""
    if content == "not_pdf":
        return b"<html><body>Sorry, this document is not available.</body></html>"
    return document_pdf(report)


def zip_archive(name: str, data: bytes) -> bytes:
    """A ZIP archive holding one file, as Amazon's report documents are (spec §9 item 3)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, data)
    return buffer.getvalue()


def document_pdf(report: Report) -> bytes:
    """The PDF of a finished report: one page naming the invoice."""
    invoice = report.invoice
    if invoice is None:
        return make_pdf(["Amazon Business", report.title])
    if is_order_summary(report):
        return make_pdf(
            [
                "Amazon Business",
                report.title,
                "This is an order summary, not a tax invoice.",
                f"Date {iso_s(invoice.date.astimezone(UTC))[:10]}",
                *(f"Title {title}" for title in invoice.titles[:10]),
            ]
        )
    label = "Credit note" if invoice.invoice_type == "CREDIT_MEMO" else "Invoice"
    lines = [
        "Amazon Business",
        f"{label} {invoice.number}",
        f"Date {iso_s(invoice.date.astimezone(UTC))[:10]}",
        f"Total {invoice.currency} {invoice.total:.2f}",
        report.title,
    ]
    for order_id, line_id, shipment_id in invoice.line_keys[:10]:
        lines.append(f"Order {order_id} line {line_id} shipment {shipment_id}")
    return make_pdf(lines)
