"""The one change signal of Manage Integrations (issue 15 point 2): a fingerprint of each part
of the page, cheap enough to be asked for every 2 seconds, so that the page refreshes a part
(tiles and banners, the entries list, payment methods, the import section and its history) as
soon as what it shows changed, whoever changed it (a job, another tab, another member).

Each part's fingerprint is read from rows the database keeps anyway:

- ``status``: the organisation row (status, set-up step, last sync), its Amazon stores, the
  ledger's count rows (``ledger_count``: every state change adds one), and how many of the
  organisation's jobs have ended (``plugin.infra.job_ends``, bumped by the worker);
- ``entries``: the ledger's count rows and the jobs that ended (a re-check changes reasons
  without changing states);
- ``methods``: the organisation's payment methods (how many, the newest, how many are new);
- ``import``: the newest import run's state and counts.

``static/js/manage_signal.js`` asks ``GET …/manage/signal`` and triggers ``manage-changed``
(and ``manage-<part>-changed`` for each part that changed) on the page.
"""

from __future__ import annotations

import hashlib

import redis
from flask import Flask
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import select as select_columns
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.infra.job_ends import REDIS_ERRORS
from plugin.infra.job_ends import jobs_ended
from plugin.infra.queues import get_redis
from plugin.ledger.count_table import LedgerCount
from plugin.models import AmazonConnection
from plugin.models import ImportRun
from plugin.models import Organisation
from plugin.models import PaymentMethod


def _digest(*values: object) -> str:
    return hashlib.blake2b(repr(values).encode(), digest_size=6).hexdigest()


def fingerprints(
    session: Session, connection: redis.Redis | None, org: Organisation
) -> dict[str, str]:
    """The fingerprint of each part of the page: status, entries, methods, import."""
    org_id = int(org.id or 0)
    ledger_version = session.exec(
        select(func.max(LedgerCount.id)).where(LedgerCount.organisation_id == org_id)
    ).one()
    ended = jobs_ended(connection, org_id) if connection is not None else ""
    stores = session.exec(
        select(func.count(), func.max(AmazonConnection.updated_at)).where(
            AmazonConnection.organisation_id == org_id
        )
    ).one()
    methods = session.exec(
        select(
            func.count(),
            func.max(PaymentMethod.id),
            func.sum(case((col(PaymentMethod.acknowledged), 1), else_=0)),
        ).where(PaymentMethod.organisation_id == org_id)
    ).one()
    run = session.execute(
        select_columns(
            *(
                col(column)
                for column in (
                    ImportRun.id,
                    ImportRun.state,
                    ImportRun.fetched,
                    ImportRun.new,
                    ImportRun.posted,
                    ImportRun.held,
                    ImportRun.failed,
                )
            )
        )
        .where(col(ImportRun.organisation_id) == org_id)
        .order_by(col(ImportRun.id).desc())
        .limit(1)
    ).first()
    organisation = (org.status, org.onboarding_step, org.last_synced_at, org.updated_at)
    return {
        "status": _digest(organisation, tuple(stores), ledger_version, ended, tuple(methods)),
        "entries": _digest(ledger_version, ended),
        "methods": _digest(tuple(methods)),
        "import": _digest(tuple(run) if run else None),
    }


def page_fingerprints(session: Session, app: Flask, org: Organisation) -> dict[str, str]:
    """``fingerprints`` with the app's Redis (without it when Redis is down: the parts that read
    it then change once it is back)."""
    try:
        connection: redis.Redis | None = get_redis(app)
    except REDIS_ERRORS:
        connection = None
    return fingerprints(session, connection, org)
