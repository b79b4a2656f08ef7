"""The status part of Manage Integrations: connections' health, ledger counts, what is running.

Anything that needs Redis (the work lock, the outage re-queue, queued jobs) degrades to
"unknown" when Redis is down: the page keeps answering and the banner says background work is
paused.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta

import redis
from flask import Flask
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import func
from sqlmodel import select

from plugin import ledger
from plugin.infra.keys import org_work_job_ids
from plugin.infra.keys import post_later_job_ids
from plugin.infra.locks import running_holder
from plugin.infra.queues import get_queue
from plugin.infra.queues import get_redis
from plugin.ledger.review import REVIEW_FIRST
from plugin.ledger.review import mode_of
from plugin.manage.outage_words import REVOKED_HEADLINE
from plugin.manage.outage_words import PauseNotice
from plugin.manage.outage_words import pause_notice
from plugin.models import AmazonConnection
from plugin.models import ConnectionStatus
from plugin.models import EntryState
from plugin.models import ImportRun
from plugin.models import OnboardingStep
from plugin.models import Organisation
from plugin.models import OrgStatus
from plugin.models import PaymentMethod
from plugin.models import RunState
from plugin.xero.contact import ContactProblem
from plugin.xero.contact import contact_problem_of
from plugin.xero.organisations import REVOKED_IN_XERO

REDIS_ERRORS = (redis.RedisError, OSError)
"""What a Redis that is down or unreachable raises."""


@dataclass
class Summary:
    """Everything the status part of the page shows."""

    org: Organisation
    connections: list[AmazonConnection]
    counts: dict[str, int]
    new_methods: list[PaymentMethod]
    contact_problem: ContactProblem | None
    xero_pause: XeroPause | None
    running: str | None
    set_up: bool
    reconnect_amazon: list[AmazonConnection] = field(default_factory=list)
    last_import: datetime | None = None  # the latest finished import of any kind

    @property
    def last_sync(self) -> datetime | None:
        """When purchases were last fetched from Amazon: the scheduled sync's time, or a later
        import's (the wizard's history and Manage's imports fetch too)."""
        times = [t for t in (self.org.last_synced_at, self.last_import) if t is not None]
        return max(times) if times else None

    @property
    def needs_xero_reconnect(self) -> bool:
        """Xero refused our tokens, or the organisation was disconnected."""
        return self.org.status in (OrgStatus.NEEDS_RECONNECT, OrgStatus.DISCONNECTED)

    @property
    def reconnect_headline(self) -> str:
        """What the status says when the organisation must reconnect to Xero."""
        revoked_in_xero = self.org.status_reason == REVOKED_IN_XERO
        if self.org.status == OrgStatus.NEEDS_RECONNECT or revoked_in_xero:
            return REVOKED_HEADLINE
        return "This organisation is disconnected from Xero."

    @property
    def total(self) -> int:
        """All entries in the ledger."""
        return sum(self.counts.values())

    @property
    def in_review(self) -> int:
        """Entries waiting for the bookkeeper's approval (review mode, ``ledger.review``): never
        counted as "waiting to post", which they are not until approved."""
        return self.counts.get(EntryState.REVIEW, 0)

    @property
    def review_mode(self) -> bool:
        """Whether the organisation reviews purchases before they post."""
        return mode_of(self.org) == REVIEW_FIRST

    @property
    def waiting(self) -> int:
        """Entries fetched (or approved) but not yet posted, held or failed."""
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


@dataclass(frozen=True)
class XeroPause:
    """A posting run paused by a Xero outage, and when it resumes."""

    resumes_at: datetime
    kind: str | None  # plugin.xero.errors.PauseKind; None for a job queued without it
    http_status: int | None

    @property
    def notice(self) -> PauseNotice:
        """What the status says about it."""
        return pause_notice(self.kind, self.http_status, self.resumes_at)


def xero_pause(app: Flask, org_id: int) -> XeroPause | None:
    """The posting run waiting after a Xero outage (rate limit, 5xx, no answer), if any.

    The re-queued job is ``post-later-<org>`` (``-again`` when it paused a second time in a
    row); the kind of outage is in its meta (``plugin.work.posting_run.pause_meta``).
    """
    try:
        redis_connection = get_redis(app)
        registry = get_queue("default", app).scheduled_job_registry
        found = []
        for job_id in post_later_job_ids(org_id):
            try:
                at = registry.get_scheduled_time(job_id)
            except NoSuchJobError:
                continue
            try:
                meta = Job.fetch(job_id, connection=redis_connection).get_meta(refresh=False)
            except NoSuchJobError:
                meta = {}
            status = meta.get("pause_status")
            found.append(XeroPause(at, meta.get("pause_kind"), int(status) if status else None))
    except REDIS_ERRORS:
        return None
    return min(found, key=lambda pause: pause.resumes_at) if found else None


# A posting run that found the organisation busy waits as "scheduled" (RQ's scheduler).
WAITING_OR_RUNNING = frozenset({"queued", "started", "deferred", "scheduled"})


def work_in_progress(app: Flask, org_id: int) -> str | None:
    """The job working for the organisation now, or queued to (None: none, or Redis is down)."""
    try:
        holder = running_holder(get_redis(app), org_id)
        if holder:
            return holder
        ids = org_work_job_ids(org_id)
        for job_id, job in zip(ids, Job.fetch_many(ids, connection=get_redis(app)), strict=True):
            if job is not None and job.get_status(refresh=False) in WAITING_OR_RUNNING:
                return job_id  # one round trip to Redis for all of them (a pipeline)
    except REDIS_ERRORS:
        return None
    return None


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
        xero_pause=xero_pause(app, org_id),
        running=work_in_progress(app, org_id),
        set_up=org.onboarding_step == OnboardingStep.DONE,
        # A store the user disconnected is shown as such under Connections, not as a problem.
        reconnect_amazon=[c for c in connections if c.status == ConnectionStatus.NEEDS_RECONNECT],
        last_import=session.exec(
            select(func.max(ImportRun.finished_at)).where(
                ImportRun.organisation_id == org_id, ImportRun.state == RunState.SUCCEEDED
            )
        ).one(),
    )


def next_sync_estimate(org: Organisation, interval_minutes: int, now: datetime) -> datetime | None:
    """When the scheduler should next sync the org (None when syncing is off)."""
    if not org.sync_enabled or org.status != OrgStatus.ACTIVE:
        return None
    if org.next_sync_at is not None:
        return org.next_sync_at
    if org.last_synced_at is None:
        return now + timedelta(minutes=interval_minutes)
    return max(org.last_synced_at + timedelta(minutes=interval_minutes), now)
