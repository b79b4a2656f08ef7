"""What Manage Integrations shows and does for one organisation (design §1 step 7).

The views stay thin: every query and every action of the page lives here.

- The entries list is keyset-paginated (newest first, by id) and filtered by state and reason
  code, so a page costs one index range scan whatever the size of the ledger; the only counts
  are ``ledger.counts_by_state`` (a GROUP BY on the (organisation, state) index) and the
  per-reason counts of held and failed entries.
- Anything that needs Redis (the work lock, the rate-limit re-queue, queuing jobs) degrades to
  "unknown" when Redis is down: the page keeps answering and the banner says background work
  is paused.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from typing import Any

import redis
from flask import Flask
from rq.exceptions import NoSuchJobError
from sqlalchemy import func
from sqlalchemy import update
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin import ledger
from plugin.infra.queues import enqueue_once
from plugin.infra.queues import get_queue
from plugin.infra.queues import get_redis
from plugin.mapping.chart import cache_key
from plugin.models import AmazonConnection
from plugin.models import AuditEvent
from plugin.models import ConnectionStatus
from plugin.models import EntryState
from plugin.models import ImportRun
from plugin.models import ImportTrigger
from plugin.models import LedgerEntry
from plugin.models import Membership
from plugin.models import OnboardingStep
from plugin.models import Organisation
from plugin.models import OrgStatus
from plugin.models import PaymentMethod
from plugin.models import RunState
from plugin.models import utcnow
from plugin.work import services as sync
from plugin.xero.contact import ContactProblem
from plugin.xero.contact import contact_problem_of
from plugin.xero.links import document_name
from plugin.xero.links import document_url

log = logging.getLogger(__name__)

PAGE_SIZE = 50
ATTENTION = "attention"  # held and failed together: the default filter
STATE_FILTERS: dict[str, tuple[str, ...]] = {
    ATTENTION: (EntryState.HELD, EntryState.FAILED),
    "held": (EntryState.HELD,),
    "failed": (EntryState.FAILED,),
    "posted": (EntryState.POSTED,),
    "by_hand": (EntryState.BY_HAND,),
    "waiting": (EntryState.FETCHED, EntryState.READY, EntryState.POSTING),
    "all": tuple(EntryState),
}
STATE_LABELS = {
    ATTENTION: "Held and failed",
    "held": "Held",
    "failed": "Failed",
    "posted": "Posted",
    "by_hand": "Posted by hand",
    "waiting": "Waiting to post",
    "all": "All",
}
HISTORY_SIZE = 10
REDIS_ERRORS = (redis.RedisError, OSError)

# Only the columns the list shows: never the raw Amazon payload.
_LIST_COLUMNS = (
    LedgerEntry.id,
    LedgerEntry.amazon_transaction_id,
    LedgerEntry.transaction_type,
    LedgerEntry.transaction_date,
    LedgerEntry.amount,
    LedgerEntry.currency,
    LedgerEntry.payment_method_key,
    LedgerEntry.order_id,
    LedgerEntry.state,
    LedgerEntry.reason_code,
    LedgerEntry.reason,
    LedgerEntry.needs_review,
    LedgerEntry.xero_document_type,
    LedgerEntry.xero_document_id,
)


# --- The entries list --------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryFilter:
    """Which entries to list: a state filter, an optional reason code, and the page cursor."""

    state: str = ATTENTION
    reason_code: str | None = None
    before: int | None = None  # keyset cursor: entries with a smaller id

    @classmethod
    def from_args(cls, args: Any) -> EntryFilter:
        """Read ``state``, ``reason`` and ``before`` from query arguments (bad values ignored)."""
        state = str(args.get("state") or ATTENTION)
        if state not in STATE_FILTERS:
            state = ATTENTION
        reason = str(args.get("reason") or "").strip()[:64] or None
        before_raw = str(args.get("before") or "")
        before = int(before_raw) if before_raw.isdigit() else None
        return cls(state=state, reason_code=reason, before=before)

    def query_args(self, **changes: Any) -> dict[str, Any]:
        """The query arguments for this filter with ``changes`` applied (for links)."""
        values = {"state": self.state, "reason": self.reason_code, "before": self.before}
        values.update(changes)
        return {key: value for key, value in values.items() if value not in (None, "")}


@dataclass(frozen=True)
class EntryRow:
    """One line of the entries list."""

    id: int
    amazon_transaction_id: str
    transaction_type: str
    transaction_date: datetime | None
    amount: Any
    currency: str
    payment_method_key: str | None
    order_id: str | None
    state: str
    reason_code: str | None
    reason: str | None
    needs_review: bool
    xero_document_type: str | None
    xero_document_id: str | None
    xero_url: str = ""
    xero_name: str = ""

    @property
    def retryable(self) -> bool:
        """Held and failed entries can be retried."""
        return self.state in (EntryState.HELD, EntryState.FAILED)


@dataclass(frozen=True)
class EntryPage:
    """One page of entries and the cursor of the next page (None on the last)."""

    rows: list[EntryRow]
    next_before: int | None


def entries_statements(org_id: int, wanted: EntryFilter, page_size: int = PAGE_SIZE) -> list[Any]:
    """The keyset queries of one page: one per state, each page_size + 1 rows at most.

    One query per state keeps each an index range scan on (organisation, state) read in id
    order, so no query ever sorts the organisation's entries, however many there are; the
    caller merges them (at most six small lists).
    """
    statements = []
    for state in STATE_FILTERS[wanted.state]:
        statement = select(*_LIST_COLUMNS).where(
            LedgerEntry.organisation_id == org_id, LedgerEntry.state == state
        )
        if wanted.reason_code:
            statement = statement.where(LedgerEntry.reason_code == wanted.reason_code)
        if wanted.before is not None:
            statement = statement.where(col(LedgerEntry.id) < wanted.before)
        statements.append(statement.order_by(col(LedgerEntry.id).desc()).limit(page_size + 1))
    return statements


def list_entries(
    session: Session,
    org_id: int,
    wanted: EntryFilter,
    short_code: str | None = None,
    page_size: int = PAGE_SIZE,
) -> EntryPage:
    """One page of the organisation's entries, newest first."""
    rows = [
        row
        for statement in entries_statements(org_id, wanted, page_size)
        for row in session.execute(statement)
    ]
    rows.sort(key=lambda row: row.id, reverse=True)
    more = len(rows) > page_size
    rows = rows[:page_size]
    entries = [
        EntryRow(
            **row._asdict(),
            xero_url=document_url(row.xero_document_type, row.xero_document_id, short_code),
            xero_name=document_name(row.xero_document_type),
        )
        for row in rows
    ]
    return EntryPage(entries, entries[-1].id if more and entries else None)


def has_entries(session: Session, org_id: int) -> bool:
    """Whether anything was ever imported for the organisation."""
    found = session.exec(
        select(LedgerEntry.id).where(LedgerEntry.organisation_id == org_id).limit(1)
    ).first()
    return found is not None


@dataclass(frozen=True)
class ReasonGroup:
    """Held or failed entries sharing one reason code."""

    reason_code: str
    reason: str
    count: int


def reason_groups(session: Session, org_id: int) -> list[ReasonGroup]:
    """Held and failed entries by reason code, biggest group first (with one example reason)."""
    rows = session.execute(
        select(LedgerEntry.reason_code, func.max(LedgerEntry.reason), func.count())
        .where(
            LedgerEntry.organisation_id == org_id,
            col(LedgerEntry.state).in_(STATE_FILTERS[ATTENTION]),
        )
        .group_by(LedgerEntry.reason_code)
    )
    groups = [
        ReasonGroup(str(code or "unknown"), str(reason or "No reason recorded."), int(count))
        for code, reason, count in rows
    ]
    return sorted(groups, key=lambda group: (-group.count, group.reason_code))


# --- Retrying --------------------------------------------------------------------------------


def retry_entries(
    session: Session,
    app: Flask,
    org: Organisation,
    actor: str,
    entry_ids: list[int] | None = None,
    reason_code: str | None = None,
) -> int:
    """Send held/failed entries (given ids, or all with one reason code) back for posting.

    Returns how many went back; queues a posting run that re-evaluates them.
    """
    org_id = int(org.id or 0)
    if reason_code is not None:
        statement = (
            update(LedgerEntry)
            .where(
                col(LedgerEntry.organisation_id) == org_id,
                col(LedgerEntry.reason_code) == reason_code,
                col(LedgerEntry.state).in_(STATE_FILTERS[ATTENTION]),
            )
            .values(state=EntryState.FETCHED, updated_at=utcnow())
        )
        count = int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]
        session.commit()
    else:
        count = ledger.retry(session, org_id, entry_ids or [])
    session.add(
        AuditEvent(
            organisation_id=org_id,
            actor=actor,
            action="entries_retried",
            detail={"count": count, "reason_code": reason_code, "entry_ids": entry_ids},
        )
    )
    session.commit()
    if count:
        queue_job(app, "jobs.posting.post_ready", f"retry-{org_id}", org_id, True)
    return count


def mark_posted_by_hand(
    session: Session, org: Organisation, entry: LedgerEntry, actor: str, marked_by: str
) -> bool:
    """The user posted this held/failed entry in Xero themselves: it becomes final (see
    ``ledger.mark_posted_by_hand``; ``marked_by`` is their name, for the note). False when it
    had already moved on."""
    org_id = int(org.id or 0)
    marked = ledger.mark_posted_by_hand(session, org_id, int(entry.id or 0), marked_by)
    if marked:
        session.add(
            AuditEvent(
                organisation_id=org_id,
                actor=actor,
                action="entry_posted_by_hand",
                detail={"entry": entry.id, "transaction": entry.amazon_transaction_id},
            )
        )
        session.commit()
    return marked


def unmark_posted_by_hand(
    session: Session, app: Flask, org: Organisation, entry: LedgerEntry, actor: str
) -> bool:
    """Take back "posted by hand": the entry is evaluated again and posted if it can be."""
    org_id = int(org.id or 0)
    unmarked = ledger.unmark_posted_by_hand(session, org_id, int(entry.id or 0))
    if unmarked:
        session.add(
            AuditEvent(
                organisation_id=org_id,
                actor=actor,
                action="entry_by_hand_taken_back",
                detail={"entry": entry.id, "transaction": entry.amazon_transaction_id},
            )
        )
        session.commit()
        queue_job(app, "jobs.posting.post_ready", f"retry-{org_id}", org_id, True)
    return unmarked


# --- Background work ---------------------------------------------------------------------------


def queue_job(app: Flask, func: str, job_id: str, *args: Any) -> bool | None:
    """Queue a unique job on ``high``: True queued, False already queued, None Redis is down."""
    try:
        return enqueue_once("high", func, job_id, *args, app=app)
    except REDIS_ERRORS as exc:
        log.warning("Could not queue %s: %s", job_id, type(exc).__name__)
        return None


def sync_now(app: Flask, org: Organisation) -> bool | None:
    """Queue an immediate sync of the organisation (see ``queue_job`` for the answer)."""
    return queue_job(app, "jobs.sync.sync_org", f"sync-{org.id}", int(org.id or 0))


def post_new(app: Flask, session: Session, org: Organisation, run: ImportRun, actor: str) -> bool:
    """Queue posting after a manual import; False when Redis is down."""
    queued = queue_job(app, "jobs.posting.post_ready", f"post-{org.id}", int(org.id or 0))
    if queued is None:
        return False
    session.add(
        AuditEvent(
            organisation_id=org.id,
            actor=actor,
            action="manual_import_posted",
            detail={"run": run.id, "new": run.new},
        )
    )
    session.commit()
    return True


def rate_limited_until(app: Flask, org_id: int) -> datetime | None:
    """When a posting run re-queued after a Xero 429 will try again (None: not waiting).

    The re-queued job is ``post-later-<org>`` (``-again`` when it paused a second time in a row).
    """
    try:
        registry = get_queue("default", app).scheduled_job_registry
        times = []
        for job_id in (f"post-later-{org_id}", f"post-later-{org_id}-again"):
            try:
                times.append(registry.get_scheduled_time(job_id))
            except NoSuchJobError:
                continue
    except REDIS_ERRORS:
        return None
    return min(times) if times else None


def work_in_progress(app: Flask, org_id: int) -> str | None:
    """The job working for the organisation now, or queued to (None: none, or Redis is down)."""
    from rq.job import Job

    try:
        holder = sync.running_holder(get_redis(app), org_id)
        if holder:
            return holder
        for job_id in (f"sync-{org_id}", f"post-{org_id}", f"retry-{org_id}"):
            try:
                job = Job.fetch(job_id, connection=get_redis(app))
            except NoSuchJobError:
                continue
            if job.get_status(refresh=False) in ("queued", "started", "deferred"):
                return job_id
    except REDIS_ERRORS:
        return None
    return None


def xero_short_code(app: Flask, org_id: int) -> str | None:
    """The org's Xero short code from the cached chart, if cached (for deep links)."""
    try:
        raw = get_redis(app).get(cache_key(org_id))
        parts = json.loads(raw) if raw else {}
    except (*REDIS_ERRORS, ValueError):
        return None
    organisation = parts.get("Organisation") if isinstance(parts, dict) else None
    code = organisation.get("ShortCode") if isinstance(organisation, dict) else None
    return str(code) if code else None


# --- Summary -------------------------------------------------------------------------------------


@dataclass
class Summary:
    """Everything the status part of the page shows."""

    org: Organisation
    connections: list[AmazonConnection]
    counts: dict[str, int]
    new_methods: list[PaymentMethod]
    contact_problem: ContactProblem | None
    rate_limited_until: datetime | None
    running: str | None
    set_up: bool
    reconnect_amazon: list[AmazonConnection] = field(default_factory=list)

    @property
    def needs_xero_reconnect(self) -> bool:
        """Xero refused our tokens, or the organisation was disconnected."""
        return self.org.status in (OrgStatus.NEEDS_RECONNECT, OrgStatus.DISCONNECTED)

    @property
    def total(self) -> int:
        """All entries in the ledger."""
        return sum(self.counts.values())

    @property
    def waiting(self) -> int:
        """Entries fetched but not yet posted, held or failed."""
        return sum(
            self.counts.get(state, 0)
            for state in (EntryState.FETCHED, EntryState.READY, EntryState.POSTING)
        )


def connections_of(session: Session, org_id: int) -> list[AmazonConnection]:
    """The organisation's Amazon Business store connections, oldest first."""
    return list(
        session.exec(
            select(AmazonConnection)
            .where(AmazonConnection.organisation_id == org_id)
            .order_by(col(AmazonConnection.id))
        )
    )


def new_payment_methods(session: Session, org_id: int) -> list[PaymentMethod]:
    """Payment methods seen in Amazon's data and not yet mapped or acknowledged."""
    return list(
        session.exec(
            select(PaymentMethod)
            .where(PaymentMethod.organisation_id == org_id, PaymentMethod.acknowledged == False)  # noqa: E712
            .order_by(col(PaymentMethod.first_seen_at).desc())
        )
    )


def summary(session: Session, app: Flask, org: Organisation) -> Summary:
    """The status of the organisation's connections, sync and ledger."""
    org_id = int(org.id or 0)
    connections = connections_of(session, org_id)
    return Summary(
        org=org,
        connections=connections,
        counts=ledger.counts_by_state(session, org_id),
        new_methods=new_payment_methods(session, org_id),
        contact_problem=contact_problem_of(org),
        rate_limited_until=rate_limited_until(app, org_id),
        running=work_in_progress(app, org_id),
        set_up=org.onboarding_step == OnboardingStep.DONE,
        reconnect_amazon=[c for c in connections if c.status != ConnectionStatus.ACTIVE],
    )


def set_sync_enabled(session: Session, org: Organisation, enabled: bool, actor: str) -> str:
    """Turn scheduled syncing on or off; returns a message for the user."""
    if enabled and org.onboarding_step != OnboardingStep.DONE:
        return "Finish set-up first: syncing starts when set-up is finished."
    org.sync_enabled = enabled
    org.updated_at = utcnow()
    session.add(org)
    session.add(
        AuditEvent(
            organisation_id=org.id,
            actor=actor,
            action="sync_enabled" if enabled else "sync_disabled",
        )
    )
    session.commit()
    return "Syncing is on." if enabled else "Syncing is off: nothing is imported or posted."


# --- Manual import ---------------------------------------------------------------------------


class ImportFormError(ValueError):
    """The manual import form is not filled in right; the message is for the user."""


def parse_range(form: Any) -> tuple[date, date]:
    """The (start, end) dates of the import form, or ImportFormError."""
    raw_start = str(form.get("start") or "").strip()
    raw_end = str(form.get("end") or "").strip()
    if not raw_start or not raw_end:
        raise ImportFormError("Choose both a start date and an end date.")
    try:
        return date.fromisoformat(raw_start), date.fromisoformat(raw_end)
    except ValueError as exc:
        raise ImportFormError("Enter the dates as YYYY-MM-DD, for example 2026-03-01.") from exc


def start_manual_import(
    session: Session, app: Flask, org: Organisation, form: Any, actor: str
) -> ImportRun:
    """Validate the form and queue a manual import (nothing is posted until confirmed).

    Raises ImportFormError with a message for the user.
    """
    if org.status != OrgStatus.ACTIVE:
        raise ImportFormError("Reconnect to Xero before importing.")
    if not any(c.status == ConnectionStatus.ACTIVE for c in connections_of(session, org.id or 0)):
        raise ImportFormError("Connect an Amazon Business store before importing.")
    start, end = parse_range(form)
    try:
        return sync.start_import(session, app, org, start, end, ImportTrigger.MANUAL, actor)
    except sync.ImportRangeError as exc:
        raise ImportFormError(str(exc)) from exc
    except sync.AlreadyRunning as exc:
        raise ImportFormError(
            "An import or posting run is already going for this organisation; try again when "
            "it has finished."
        ) from exc
    except REDIS_ERRORS as exc:
        session.rollback()
        raise ImportFormError(
            "Background work is paused right now, so the import cannot start. Try again in a "
            "few minutes."
        ) from exc


def latest_manual_import(session: Session, org_id: int) -> ImportRun | None:
    """The organisation's most recent manual import."""
    return session.exec(
        select(ImportRun)
        .where(ImportRun.organisation_id == org_id, ImportRun.trigger == ImportTrigger.MANUAL)
        .order_by(col(ImportRun.id).desc())
        .limit(1)
    ).first()


def import_run_of(session: Session, org_id: int, run_id: int) -> ImportRun | None:
    """One of the organisation's import runs (None for another organisation's)."""
    run = session.get(ImportRun, run_id)
    return run if run is not None and run.organisation_id == org_id else None


def posting_confirmed(session: Session, org_id: int, run_id: int) -> bool:
    """Whether "Post N new" was pressed for this manual import."""
    events = session.exec(
        select(AuditEvent.detail).where(
            AuditEvent.organisation_id == org_id, AuditEvent.action == "manual_import_posted"
        )
    )
    return any((detail or {}).get("run") == run_id for detail in events)


def run_active(run: ImportRun | None) -> bool:
    """Whether an import run is still queued or running."""
    return run is not None and run.state in (RunState.QUEUED, RunState.RUNNING)


def import_history(session: Session, org_id: int, limit: int = HISTORY_SIZE) -> list[ImportRun]:
    """The organisation's latest import runs, newest first."""
    return list(
        session.exec(
            select(ImportRun)
            .where(ImportRun.organisation_id == org_id)
            .order_by(col(ImportRun.id).desc())
            .limit(limit)
        )
    )


# --- Notifications preference ----------------------------------------------------------------


def membership_of(session: Session, org_id: int, user_id: int) -> Membership | None:
    """The user's membership of the organisation."""
    return session.exec(
        select(Membership).where(
            Membership.organisation_id == org_id, Membership.user_id == user_id
        )
    ).first()


def set_notify(session: Session, membership: Membership, notify: bool) -> None:
    """Turn the daily digest email on or off for one member."""
    membership.notify = notify
    session.add(membership)
    session.commit()


def next_sync_estimate(org: Organisation, interval_minutes: int, now: datetime) -> datetime | None:
    """When the scheduler should next sync the org (None when syncing is off)."""
    from datetime import timedelta

    if not org.sync_enabled or org.status != OrgStatus.ACTIVE:
        return None
    if org.next_sync_at is not None:
        return org.next_sync_at
    if org.last_synced_at is None:
        return now + timedelta(minutes=interval_minutes)
    return max(org.last_synced_at + timedelta(minutes=interval_minutes), now)
