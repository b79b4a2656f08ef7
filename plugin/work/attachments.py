"""Attachments for one organisation: Amazon's PDF invoices (or, for North American orders,
order summaries, labelled as not tax invoices) on the posted Xero documents, within what is
left of the organisation's daily Xero budget after posting's reserve."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import or_
from sqlmodel import select

from plugin.amazon.client import AmazonBusinessClient
from plugin.amazon.errors import AmazonDocumentUnreadable
from plugin.amazon.errors import AmazonError
from plugin.amazon.errors import AmazonReportFailed
from plugin.infra.locks import ATTACH
from plugin.infra.locks import AlreadyRunning
from plugin.infra.locks import lock_seconds
from plugin.infra.locks import org_lock
from plugin.infra.queues import get_redis
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.work.attachment_choice import ORDER_SUMMARY_NOTE
from plugin.work.attachment_choice import invoice_file_name
from plugin.work.attachment_choice import order_summary_file_name
from plugin.work.attachment_choice import wanted_documents
from plugin.work.readiness import ready_to_post
from plugin.work.stores import active_connection
from plugin.work.stores import amazon_client
from plugin.work.stores import by_connection
from plugin.xero.client import XeroClient
from plugin.xero.errors import XeroError
from plugin.xero.wiring import xero_client

log = logging.getLogger(__name__)

ORDER_SUMMARY = "order_summary"
"""``attachment_state`` of an entry whose Xero document has Amazon's order summary attached."""


@dataclass
class AttachmentCounts:
    """What an attachment run did."""

    attached: int = 0
    unavailable: int = 0
    unreadable: int = 0
    order_summaries: int = 0  # of ``attached``: North American order summaries
    skipped_for_budget: bool = False


class _Stop(Exception):
    """The run ends here (budget reached, or Xero refused): what is done so far stands."""


def attachment_budget_reserve(app: Flask) -> int:
    """Calls of the daily Xero budget kept for posting (attachments never use them)."""
    return max(50, int(app.config["XERO_DAILY_CALL_BUDGET"]) // 5)


def run_attachments(
    session: Session, app: Flask, org_id: int, holder: str, limit: int = 20
) -> AttachmentCounts:
    """Attach Amazon's PDF invoice to up to ``limit`` posted documents, within the budget.

    Never attaches the same file twice (the document's attachments are checked first); a PDF
    Amazon cannot produce is marked ``unavailable`` rather than retried forever, and a download
    that is not a PDF once unwrapped (gzip, ZIP) ``unreadable``: either way the reason is kept
    on the entry (``attachment_note``) and the run goes on with the next entry.
    """
    counts = AttachmentCounts()
    org = session.get(Organisation, org_id)
    if org is None or ready_to_post(org) is not None:
        return counts
    with org_lock(get_redis(app), org_id, holder, lock_seconds(app), ATTACH) as keep_alive:
        xero = xero_client(org, app)
        reserve = attachment_budget_reserve(app)
        waiting = list(
            session.exec(
                select(LedgerEntry)
                .where(
                    LedgerEntry.organisation_id == org_id,
                    LedgerEntry.state == EntryState.POSTED,
                    col(LedgerEntry.attachment_state).is_(None),
                    or_(
                        col(LedgerEntry.invoice_number).is_not(None),
                        col(LedgerEntry.order_id).is_not(None),
                    ),
                )
                .order_by(col(LedgerEntry.id))
                .limit(limit)
            )
        )
        for connection_id, group in by_connection(waiting).items():
            connection = active_connection(session, connection_id)
            if connection is None:
                continue
            with amazon_client(app, connection) as amazon:
                for entry in group:
                    if xero.limiter.remaining_today(org.xero_tenant_id) < reserve:
                        counts.skipped_for_budget = True
                        return counts
                    try:
                        _attach(xero, amazon, entry, counts)
                    except _Stop:
                        return counts
                    session.add(entry)
                    session.commit()
                    keep_alive()
    return counts


def _attach(
    xero: XeroClient, amazon: AmazonBusinessClient, entry: LedgerEntry, counts: AttachmentCounts
) -> None:
    """Attach the entry's document unless its Xero document has it already; _Stop when Xero
    refuses. Which document, and its name: ``plugin.work.attachment_choice``."""
    wanted = wanted_documents(entry, amazon.store)
    endpoint, document_id = str(entry.xero_document_type), str(entry.xero_document_id)
    invoice_name = invoice_file_name(entry) if wanted.invoice else None
    summary_name = order_summary_file_name(entry) if wanted.order_summary else None
    try:
        if not wanted.anything:
            raise AmazonReportFailed(
                "Amazon gave no invoice number for this refund, so there is no credit memo "
                "PDF to ask for.",
                processing_status="NOT_REQUESTED",
                reason="no invoice number",
            )
        names = {a.file_name for a in xero.attachments(endpoint, document_id)}
        if invoice_name in names:
            _attached(entry, counts, None)
            return
        if summary_name in names:
            _attached(entry, counts, ORDER_SUMMARY_NOTE)
            return
        if wanted.invoice is not None and invoice_name is not None:
            try:
                pdf = amazon.fetch_invoice_pdf(
                    invoice_id=str(entry.invoice_number), document_type=wanted.invoice
                )
            except AmazonReportFailed:
                if summary_name is None:
                    raise
                log.info("No invoice PDF for %s; asking for the order summary", entry.order_id)
            else:
                xero.add_attachment(endpoint, document_id, invoice_name, pdf, "application/pdf")
                _attached(entry, counts, None)
                return
        assert summary_name is not None
        pdf = amazon.fetch_order_summary_pdf(str(entry.order_id))
        xero.add_attachment(endpoint, document_id, summary_name, pdf, "application/pdf")
        _attached(entry, counts, ORDER_SUMMARY_NOTE)
    except AmazonReportFailed as exc:
        entry.attachment_state = "unavailable"
        entry.attachment_note = exc.message
        log.info("No PDF for %s: %s", entry.invoice_number or entry.order_id, exc)
        counts.unavailable += 1
    except AmazonDocumentUnreadable as exc:
        entry.attachment_state = "unreadable"
        entry.attachment_note = exc.message
        log.warning("Amazon's document for %s is unreadable: %s", entry.invoice_number, exc)
        counts.unreadable += 1
    except XeroError as exc:
        log.warning("Attaching to %s %s failed: %s", endpoint, document_id, exc.message)
        raise _Stop from exc


def _attached(entry: LedgerEntry, counts: AttachmentCounts, note: str | None) -> None:
    """Mark the entry attached; ``note`` says what was attached when not a tax invoice."""
    entry.attachment_state = ORDER_SUMMARY if note == ORDER_SUMMARY_NOTE else "attached"
    entry.attachment_note = note
    counts.attached += 1
    if note == ORDER_SUMMARY_NOTE:
        counts.order_summaries += 1


def attach_documents(
    session: Session, app: Flask, org_id: int, holder: str, limit: int = 20
) -> dict[str, Any]:
    """The attachment job's work: up to ``limit`` PDFs (the scheduler comes back for the rest)."""
    try:
        counts = run_attachments(session, app, org_id, holder, limit)
    except AlreadyRunning as busy:
        return {"org": org_id, "skipped": f"busy ({busy.job_id})"}
    except (XeroError, AmazonError) as stop:
        return {"org": org_id, "skipped": str(stop)}
    return {
        "org": org_id,
        "attached": counts.attached,
        "unavailable": counts.unavailable,
        "unreadable": counts.unreadable,
        "order_summaries": counts.order_summaries,
        "budget_reserved": counts.skipped_for_budget,
    }
