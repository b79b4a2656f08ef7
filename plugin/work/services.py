"""Imports and posting runs for one organisation: the services the RQ jobs call.

- ``start_import`` validates a date range and queues an import (one import or posting job per
  organisation at a time: a second request reports the running one).
- ``run_import`` fetches every store connection of the organisation into the one ledger,
  recording progress on the ``ImportRun`` (and the job's meta) as it goes; it never posts for an
  organisation that has not finished set-up.
- ``run_posting`` checks the Amazon Business contact, evaluates the ledger against the current
  mapping and chart, and posts what is ready (recovering unknown batches first).
- ``run_settlements`` turns Pay by Invoice bills Amazon reports ``Closed`` into Xero payments and
  allocates Pay by Invoice credit notes to their open bills.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any

import redis
from flask import Flask
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin import ledger
from plugin import posting
from plugin.amazon.accounts import AccountConflict
from plugin.amazon.accounts import claim_account
from plugin.amazon.accounts import identify_account
from plugin.amazon.auth import AmazonSettings
from plugin.amazon.client import AmazonBusinessClient
from plugin.amazon.errors import AmazonError
from plugin.db import session_scope
from plugin.infra.queues import get_queue
from plugin.infra.queues import get_redis
from plugin.models import AmazonConnection
from plugin.models import AuditEvent
from plugin.models import ConnectionStatus
from plugin.models import EntryState
from plugin.models import ImportRun
from plugin.models import ImportTrigger
from plugin.models import LedgerEntry
from plugin.models import OnboardingStep
from plugin.models import Organisation
from plugin.models import OrgStatus
from plugin.models import RunState
from plugin.models import utcnow
from plugin.security import token_cipher
from plugin.xero.contact import contact_problem_of
from plugin.xero.contact import refresh_contact_status
from plugin.xero.wiring import xero_client

log = logging.getLogger(__name__)

HISTORY_LIMIT_DAYS = 90
LOCK_SECONDS = 5 * 60


class ImportRangeError(ValueError):
    """The requested import range is not allowed; the message is fit to show the user."""


class AlreadyRunning(Exception):
    """Another import or posting run holds this organisation."""

    def __init__(self, org_id: int, job_id: str | None, run_id: int | None = None) -> None:
        super().__init__(f"An import or posting run is already going for organisation {org_id}.")
        self.org_id = org_id
        self.job_id = job_id
        self.run_id = run_id


class RunFinished(Exception):
    """The import run has already ended (a late copy of its job, queued by recovery)."""

    def __init__(self, run: ImportRun) -> None:
        super().__init__(f"Import run {run.id} has already ended ({run.state}).")
        self.run = run


class NotReady(Exception):
    """The organisation cannot post yet (set-up unfinished, needs reconnect, contact problem)."""


# --- One run per organisation ------------------------------------------------------------------


def _lock_key(org_id: int, purpose: str = "work") -> str:
    return f"lock:org-{purpose}:{org_id}"


@contextmanager
def org_lock(
    client: redis.Redis, org_id: int, holder: str, ttl: int = LOCK_SECONDS, purpose: str = "work"
) -> Iterator[Callable[[], None]]:
    """Hold one of the organisation's locks; yields ``keep_alive()`` to call while working.

    ``work`` is held by imports, posting and settlements (one at a time per organisation);
    ``attach`` by the slow attachment runs, which touch no ledger state and must not hold
    posting up. The lock expires by itself (``ttl`` seconds without ``keep_alive``:
    ``ORG_LOCK_SECONDS``) so a killed worker never blocks the organisation for long.
    """
    key = _lock_key(org_id, purpose)
    if not client.set(key, holder, nx=True, ex=ttl):
        current = client.get(key)
        raise AlreadyRunning(org_id, current.decode() if current else None)

    def keep_alive() -> None:
        if client.get(key) == holder.encode():
            client.expire(key, ttl)

    try:
        yield keep_alive
    finally:
        if client.get(key) == holder.encode():
            client.delete(key)


def running_holder(client: redis.Redis, org_id: int) -> str | None:
    """Who holds the organisation's work lock right now (a job id), if anyone."""
    value = client.get(_lock_key(org_id))
    return value.decode() if value else None


# --- Starting an import ----------------------------------------------------------------------


def validate_range(start: date, end: date, trigger: str, today: date) -> tuple[datetime, datetime]:
    """The feed-date window for a requested range of days (end inclusive), or ImportRangeError."""
    if start > end:
        raise ImportRangeError("The start date is after the end date.")
    if end > today:
        raise ImportRangeError("The end date is in the future.")
    if trigger == ImportTrigger.HISTORICAL and (today - start).days > HISTORY_LIMIT_DAYS:
        earliest = today - timedelta(days=HISTORY_LIMIT_DAYS)
        raise ImportRangeError(
            f"History can be imported for the last {HISTORY_LIMIT_DAYS} days only: choose a "
            f"start on or after {earliest.isoformat()}."
        )
    window_start = datetime.combine(start, time.min, tzinfo=UTC)
    window_end = min(datetime.combine(end, time.max, tzinfo=UTC), utcnow())
    return window_start, window_end


def start_import(
    session: Session,
    app: Flask,
    org: Organisation,
    start: date,
    end: date,
    trigger: str,
    actor: str,
) -> ImportRun:
    """Validate the range, record an ``ImportRun`` and queue its job.

    Raises ImportRangeError for a bad range and AlreadyRunning when the org is busy.
    """
    window_start, window_end = validate_range(start, end, trigger, utcnow().date())
    holder = running_holder(get_redis(app), int(org.id or 0))
    if holder:
        raise AlreadyRunning(int(org.id or 0), holder, _run_of_job(session, holder))
    run = ImportRun(
        organisation_id=int(org.id or 0),
        trigger=trigger,
        range_start=window_start,
        range_end=window_end,
        state=RunState.QUEUED,
    )
    session.add(run)
    session.flush()
    # The job id is on the row before the row is visible: the recovery job (jobs/recovery.py)
    # then knows which job to look for, and a run whose job never reached Redis (an outage
    # right here) is found and queued again by it.
    run.rq_job_id = f"import-{run.id}"
    session.add(
        AuditEvent(
            organisation_id=org.id,
            actor=actor,
            action="import_queued",
            detail={"run": run.id, "from": start.isoformat(), "to": end.isoformat()},
        )
    )
    session.commit()
    queue = "default" if trigger == ImportTrigger.SCHEDULED else "high"
    get_queue(queue, app).enqueue(
        "jobs.imports.import_range",
        run.id,
        job_id=run.rq_job_id,
        job_timeout=60 * 60,
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
    )
    return run


def _run_of_job(session: Session, job_id: str) -> int | None:
    if job_id.startswith("import-"):
        try:
            return int(job_id.removeprefix("import-"))
        except ValueError:
            return None
    return None


# --- Running an import -----------------------------------------------------------------------


@dataclass
class Progress:
    """Where an import is, for the progress bar (job meta) and the ImportRun row."""

    fetched: int = 0
    new: int = 0
    already_known: int = 0
    pages: int = 0
    done: bool = False


def _amazon_client(app: Flask, connection: AmazonConnection) -> AmazonBusinessClient:
    return AmazonBusinessClient.for_connection(
        connection,
        AmazonSettings.from_config(app.config),
        lambda: session_scope(app),
        token_cipher(app),
        get_redis(app),
    )


FINISHED_RUN_STATES = (RunState.SUCCEEDED, RunState.FAILED)


def run_import(
    session: Session,
    app: Flask,
    run_id: int,
    holder: str,
    report: Callable[[Progress], None] = lambda progress: None,
) -> ImportRun:
    """Fetch the run's range from every active store connection into the ledger.

    Raises AlreadyRunning when the organisation is busy and RunFinished when the run has ended
    (a late copy queued by the recovery job finds nothing to do).
    """
    run = session.get(ImportRun, run_id)
    if run is None:
        raise LookupError(f"import run {run_id} does not exist")
    org = session.get(Organisation, run.organisation_id)
    if org is None:
        raise LookupError(f"organisation {run.organisation_id} does not exist")
    if run.state in FINISHED_RUN_STATES:
        raise RunFinished(run)
    with org_lock(get_redis(app), int(org.id or 0), holder, _lock_ttl(app)) as keep_alive:
        session.refresh(run)  # another copy may have finished it before we had the lock
        if run.state in FINISHED_RUN_STATES:
            raise RunFinished(run)
        run.state = RunState.RUNNING
        run.started_at = run.started_at or utcnow()
        run.error = None
        session.add(run)
        session.commit()
        progress = Progress()
        connections = list(
            session.exec(
                select(AmazonConnection).where(
                    AmazonConnection.organisation_id == org.id,
                    AmazonConnection.status == ConnectionStatus.ACTIVE,
                )
            )
        )
        if not connections:
            return _finish(session, run, RunState.FAILED, "No active Amazon Business store.")
        try:
            for connection in connections:
                _import_connection(session, app, run, org, connection, progress, keep_alive, report)
        except AccountConflict as exc:
            return _finish(session, run, RunState.FAILED, str(exc))
        except AmazonError as exc:
            return _finish(session, run, RunState.FAILED, f"Amazon Business: {exc}")
        progress.done = True
        report(progress)
        org.last_synced_at = (
            utcnow() if run.trigger != ImportTrigger.HISTORICAL else org.last_synced_at
        )
        session.add(org)
        return _finish(session, run, RunState.SUCCEEDED, None)


def _import_connection(
    session: Session,
    app: Flask,
    run: ImportRun,
    org: Organisation,
    connection: AmazonConnection,
    progress: Progress,
    keep_alive: Callable[[], None],
    report: Callable[[Progress], None],
) -> None:
    from plugin.mapping.store import record_payment_methods

    with _amazon_client(app, connection) as amazon:
        for fetched in amazon.iter_transaction_pages(run.range_start, run.range_end):
            if fetched.transactions and not connection.account_key:
                claim_account(session, connection, identify_account(fetched.transactions))
                session.add(connection)
                session.commit()
            counts = ledger.record_page(session, int(org.id or 0), connection.id, fetched.page)
            record_payment_methods(session, int(org.id or 0), fetched.transactions)
            progress.pages += 1
            progress.fetched += counts.fetched
            progress.new += counts.new
            progress.already_known += counts.already_known + counts.updated + counts.flagged
            run.fetched, run.new, run.already_known = (
                progress.fetched,
                progress.new,
                progress.already_known,
            )
            session.add(run)
            session.commit()
            keep_alive()
            report(progress)
        connection.last_synced_at = utcnow()
        session.add(connection)
        session.commit()


def posts_after_import(session: Session, run: ImportRun) -> bool:
    """Whether a finished import queues the organisation's posting run by itself.

    Scheduled syncs do. So does the history import: set-up usually ends while it runs (the
    finishing step queues a posting run, which waits for the import's lock), and one resumed
    after a crash has nobody else to post it. A manual import waits for the user to see how
    many are new ("Post N new" in Manage Integrations; otherwise they post with the next sync).
    Only a successful import of an organisation that may post now.
    """
    if run.state != RunState.SUCCEEDED:
        return False
    if run.trigger not in (ImportTrigger.SCHEDULED, ImportTrigger.HISTORICAL):
        return False
    org = session.get(Organisation, run.organisation_id)
    return org is not None and ready_to_post(org) is None


def _finish(session: Session, run: ImportRun, state: str, error: str | None) -> ImportRun:
    run.state = state
    run.error = error
    run.finished_at = utcnow()
    session.add(run)
    session.commit()
    return run


# --- Posting ---------------------------------------------------------------------------------


def ready_to_post(org: Organisation) -> str | None:
    """None when the organisation may post now, else why not (in words for the user)."""
    if org.status != OrgStatus.ACTIVE:
        return org.status_reason or "The organisation is not connected to Xero."
    if org.onboarding_step != OnboardingStep.DONE or not org.sync_enabled:
        return "Set-up is not finished (or sync is turned off)."
    problem = contact_problem_of(org)
    if problem is not None:
        return problem.message
    return None


def posting_context(app: Flask, org: Organisation) -> posting.PostingContext:
    """The per-run inputs for the posting rules: our page for each entry, the org's timezone."""
    base = str(app.config["PUBLIC_URL"]).rstrip("/")
    return posting.PostingContext(
        entry_url=posting.url_template(f"{base}/orgs/{org.id}/entries/{{transaction_id}}")
    )


def load_rules(app: Flask, session: Session, org: Organisation) -> tuple[Any, Any, Any]:
    """(Xero client, mapping, chart) for an organisation."""
    from plugin.mapping.chart import cached_chart
    from plugin.mapping.store import load_mapping

    client = xero_client(org, app)
    chart = cached_chart(get_redis(app), client, org)
    return client, load_mapping(session, int(org.id or 0)), chart


def evaluate_org(
    app: Flask, session: Session, org: Organisation, states: tuple[str, ...] | None = None
) -> ledger.EvaluateCounts:
    """Re-decide held (and given) entries against the current mapping and chart."""
    _client, mapping, chart = load_rules(app, session, org)
    wanted = states or (EntryState.FETCHED, EntryState.HELD)
    return ledger.evaluate(
        session, int(org.id or 0), mapping, chart, posting_context(app, org), wanted
    )


def _lock_ttl(app: Flask) -> int:
    return int(app.config.get("ORG_LOCK_SECONDS") or LOCK_SECONDS)


def run_posting(
    session: Session, app: Flask, org_id: int, holder: str, include_failed: bool = False
) -> ledger.PostCounts:
    """Evaluate and post everything ready for the organisation (recovering unknown batches).

    ``include_failed`` also re-evaluates entries Xero refused (after a mapping change).
    """
    org = session.get(Organisation, org_id)
    if org is None:
        raise LookupError(f"organisation {org_id} does not exist")
    with org_lock(get_redis(app), org_id, holder, _lock_ttl(app)) as keep_alive:
        why_not = ready_to_post(org)
        if why_not is None:
            refresh_contact_status(session, org, xero_client(org, app))
            why_not = ready_to_post(org)
        if why_not is not None:
            raise NotReady(why_not)
        try:
            fill_due_dates(session, app, org_id)
        except AmazonError as exc:  # bills fall back to the mapping's payment terms
            log.warning("Could not read Pay by Invoice due dates for org %s: %s", org_id, exc)
        client, mapping, chart = load_rules(app, session, org)
        context = posting_context(app, org)
        states = [EntryState.FETCHED, EntryState.HELD]
        if include_failed:
            states.append(EntryState.FAILED)
        ledger.evaluate(session, org_id, mapping, chart, context, states)
        return ledger.post_ready(
            session, org_id, client, mapping, chart, context, on_batch=keep_alive
        )


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


# --- Pay by Invoice: due dates, payments, allocations ---------------------------------------------


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
    for connection_id, group in _by_connection(waiting).items():
        connection = session.get(AmazonConnection, connection_id)
        if connection is None or connection.status != ConnectionStatus.ACTIVE:
            continue
        with _amazon_client(app, connection) as amazon:
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


def _by_connection(entries: list[LedgerEntry]) -> dict[int, list[LedgerEntry]]:
    groups: dict[int, list[LedgerEntry]] = {}
    for entry in entries:
        if entry.amazon_connection_id is not None:
            groups.setdefault(entry.amazon_connection_id, []).append(entry)
    return groups


@dataclass
class SettlementCounts:
    """What a settlement run did."""

    checked: int = 0
    paid: int = 0
    still_open: int = 0
    allocated: int = 0


def run_settlements(session: Session, app: Flask, org_id: int, holder: str) -> SettlementCounts:
    """Pay the Xero bills of Pay by Invoice purchases that Amazon reports ``Closed``.

    Each payment is created once: its Idempotency-Key is the entry's, and before creating one
    we look for a payment already on the bill (a crash between Xero's answer and our commit).
    """
    from plugin.mapping.store import load_mapping

    counts = SettlementCounts()
    org = session.get(Organisation, org_id)
    if org is None or ready_to_post(org) is not None:
        return counts
    with org_lock(get_redis(app), org_id, holder, _lock_ttl(app)):
        mapping = load_mapping(session, org_id)
        xero = xero_client(org, app)
        # Credits first, while their bills are open; then the payments cover what remains due.
        counts.allocated = _allocate_credit_notes(session, org_id, xero)
        waiting = entries_awaiting_settlement(session, org_id)
        for connection_id, group in _by_connection(waiting).items():
            connection = session.get(AmazonConnection, connection_id)
            if connection is None or connection.status != ConnectionStatus.ACTIVE:
                continue
            with _amazon_client(app, connection) as amazon:
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
                _pay_bill(xero, entry, method.payment_account_code)
                session.add(entry)
                session.commit()
                counts.paid += 1
    session.commit()
    return counts


def _allocate_credit_notes(session: Session, org_id: int, xero: Any) -> int:
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
            remaining = float(
                xero.get_credit_note(str(note.xero_document_id)).get("RemainingCredit", 0)
            )
            due = float(xero.get_invoice(str(bill.xero_document_id)).get("AmountDue", 0))
            amount = round(min(remaining, due), 2)
            if amount > 0:
                xero.allocate_credit_note(
                    str(note.xero_document_id),
                    str(bill.xero_document_id),
                    amount,
                    utcnow().date().isoformat(),
                    idempotency_key=f"alloc-{note.id}",
                )
                allocated += 1
            note.settlement_state = "allocated" if amount > 0 or remaining == 0 else "unallocated"
        note.updated_at = utcnow()
        session.add(note)
        session.commit()
    return allocated


def _pay_bill(xero: Any, entry: LedgerEntry, account_code: str) -> None:
    existing = xero.payments_for_invoice(str(entry.xero_document_id))
    live = [p for p in existing if p.get("Status", "AUTHORISED") != "DELETED"]
    due = float(xero.get_invoice(str(entry.xero_document_id)).get("AmountDue", 0))
    if live:
        entry.xero_payment_id = str(live[0].get("PaymentID"))
    elif due <= 0:
        entry.xero_payment_id = None  # settled by credit notes alone
    else:
        payment = {
            "Invoice": {"InvoiceID": entry.xero_document_id},
            "Account": {"Code": account_code},
            "Date": utcnow().date().isoformat(),
            "Amount": round(due, 2),
            "Reference": f"Amazon Business {entry.invoice_number or ''}".strip(),
        }
        results = xero.create_documents("Payments", [payment], f"pay-{entry.id}")
        if not results[0].ok:
            entry.reason = "Xero refused the payment: " + "; ".join(results[0].messages)
            return
        entry.xero_payment_id = results[0].xero_id
    entry.settlement_state = "paid"
    entry.updated_at = utcnow()


# --- Attachments: Amazon's PDF invoices on the posted documents ---------------------------------


@dataclass
class AttachmentCounts:
    """What an attachment run did."""

    attached: int = 0
    unavailable: int = 0
    skipped_for_budget: bool = False


def attachment_budget_reserve(app: Flask) -> int:
    """Calls of the daily Xero budget kept for posting (attachments never use them)."""
    return max(50, int(app.config["XERO_DAILY_CALL_BUDGET"]) // 5)


def run_attachments(
    session: Session, app: Flask, org_id: int, holder: str, limit: int = 20
) -> AttachmentCounts:
    """Attach Amazon's PDF invoice to up to ``limit`` posted documents, within the budget.

    Never attaches the same file twice (the document's attachments are checked first); a PDF
    Amazon cannot produce is marked ``unavailable`` rather than retried forever.
    """
    from plugin.amazon.errors import AmazonReportFailed
    from plugin.xero.errors import XeroError

    counts = AttachmentCounts()
    org = session.get(Organisation, org_id)
    if org is None or ready_to_post(org) is not None:
        return counts
    with org_lock(get_redis(app), org_id, holder, _lock_ttl(app), purpose="attach") as keep_alive:
        xero = xero_client(org, app)
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
        for connection_id, group in _by_connection(waiting).items():
            connection = session.get(AmazonConnection, connection_id)
            if connection is None or connection.status != ConnectionStatus.ACTIVE:
                continue
            with _amazon_client(app, connection) as amazon:
                for entry in group:
                    if xero.limiter.remaining_today(org.xero_tenant_id) < attachment_budget_reserve(
                        app
                    ):
                        counts.skipped_for_budget = True
                        return counts
                    file_name = f"Amazon-{entry.invoice_number}.pdf"
                    endpoint, document_id = (
                        str(entry.xero_document_type),
                        str(entry.xero_document_id),
                    )
                    try:
                        names = {a.get("FileName") for a in xero.attachments(endpoint, document_id)}
                        if file_name not in names:
                            kind = "Credits" if entry.transaction_type != "CHARGE" else "Invoice"
                            pdf = amazon.fetch_invoice_pdf(
                                invoice_id=str(entry.invoice_number), document_type=kind
                            )
                            xero.add_attachment(
                                endpoint, document_id, file_name, pdf, "application/pdf"
                            )
                        entry.attachment_state = "attached"
                        counts.attached += 1
                    except AmazonReportFailed as exc:
                        entry.attachment_state = "unavailable"
                        log.info("No PDF for %s: %s", entry.invoice_number, exc)
                        counts.unavailable += 1
                    except XeroError as exc:
                        log.warning("Attaching %s failed: %s", file_name, exc.message)
                        return counts
                    session.add(entry)
                    session.commit()
                    keep_alive()
    return counts
