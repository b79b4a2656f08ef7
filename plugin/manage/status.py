"""The status part of Manage Integrations: connections' health, ledger counts, what is running.

Anything that needs Redis (the work lock, the rate-limit re-queue, queued jobs) degrades to
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
from sqlmodel import select

from plugin import ledger
from plugin.infra.keys import org_work_job_ids
from plugin.infra.keys import post_later_job_ids
from plugin.infra.locks import running_holder
from plugin.infra.queues import get_queue
from plugin.infra.queues import get_redis
from plugin.models import AmazonConnection
from plugin.models import ConnectionStatus
from plugin.models import EntryState
from plugin.models import OnboardingStep
from plugin.models import Organisation
from plugin.models import OrgStatus
from plugin.models import PaymentMethod
from plugin.xero.contact import ContactProblem
from plugin.xero.contact import contact_problem_of

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


def rate_limited_until(app: Flask, org_id: int) -> datetime | None:
    """When a posting run re-queued after a Xero 429 will try again (None: not waiting).

    The re-queued job is ``post-later-<org>`` (``-again`` when it paused a second time in a row).
    """
    try:
        registry = get_queue("default", app).scheduled_job_registry
        times = []
        for job_id in post_later_job_ids(org_id):
            try:
                times.append(registry.get_scheduled_time(job_id))
            except NoSuchJobError:
                continue
    except REDIS_ERRORS:
        return None
    return min(times) if times else None


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
        rate_limited_until=rate_limited_until(app, org_id),
        running=work_in_progress(app, org_id),
        set_up=org.onboarding_step == OnboardingStep.DONE,
        reconnect_amazon=[c for c in connections if c.status != ConnectionStatus.ACTIVE],
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
