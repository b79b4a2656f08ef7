"""Attachments for one organisation: Amazon's PDF invoices on the posted Xero documents, within
what is left of the organisation's daily Xero budget after posting's reserve."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlmodel import Session
from sqlmodel import col
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
from plugin.work.readiness import ready_to_post
from plugin.work.stores import active_connection
from plugin.work.stores import amazon_client
from plugin.work.stores import by_connection
from plugin.xero.client import XeroClient
from plugin.xero.errors import XeroError
from plugin.xero.wiring import xero_client

log = logging.getLogger(__name__)


@dataclass
class AttachmentCounts:
    """What an attachment run did."""

    attached: int = 0
    unavailable: int = 0
    unreadable: int = 0
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
                    col(LedgerEntry.invoice_number).is_not(None),
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
    """Attach the entry's PDF unless its document has it already; _Stop when Xero refuses."""
    file_name = f"Amazon-{entry.invoice_number}.pdf"
    endpoint, document_id = str(entry.xero_document_type), str(entry.xero_document_id)
    try:
        names = {a.file_name for a in xero.attachments(endpoint, document_id)}
        if file_name not in names:
            kind = "Credits" if entry.transaction_type != "CHARGE" else "Invoice"
            pdf = amazon.fetch_invoice_pdf(invoice_id=str(entry.invoice_number), document_type=kind)
            xero.add_attachment(endpoint, document_id, file_name, pdf, "application/pdf")
        entry.attachment_state = "attached"
        counts.attached += 1
    except AmazonReportFailed as exc:
        entry.attachment_state = "unavailable"
        entry.attachment_note = exc.message
        log.info("No PDF for %s: %s", entry.invoice_number, exc)
        counts.unavailable += 1
    except AmazonDocumentUnreadable as exc:
        entry.attachment_state = "unreadable"
        entry.attachment_note = exc.message
        log.warning("Amazon's document for %s is unreadable: %s", entry.invoice_number, exc)
        counts.unreadable += 1
    except XeroError as exc:
        log.warning("Attaching %s failed: %s", file_name, exc.message)
        raise _Stop from exc


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
        "budget_reserved": counts.skipped_for_budget,
    }
