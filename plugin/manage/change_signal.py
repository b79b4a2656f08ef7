"""The one change signal of Manage Integrations (issue 15 point 2): a fingerprint of each part
of the page, cheap enough to be asked for every 2 seconds, so that the page refreshes a part
(tiles and banners, the entries list, payment methods, the import section and its history) as
soon as what it shows changed, whoever changed it (a job, another tab, another member).

Each part's fingerprint is read from rows the database keeps anyway:

- ``status``: the organisation row (status, set-up step, last sync), its Amazon stores (what
  the page shows of each), the
  ledger's count rows (``ledger_count``: every state change adds one, and every change of a
  column the entries list shows adds a ``0``, migration 0021), and how many of the
  organisation's jobs have ended (``plugin.infra.job_ends``, bumped by the worker);
- ``entries``: the ledger's count rows, the organisation's corrections (their states make the
  review notes) and the jobs that ended;
- ``methods``: the organisation's payment methods (how many, the newest, how many are new);
- ``import``: the newest import run's state and counts.

``static/js/manage_signal.js`` asks ``GET …/manage/signal`` and triggers ``manage-changed``
(and ``manage-<part>-changed`` for each part that changed) on the page. The status and
entries fingerprints are also what the rendered parts are cached under
(``plugin.manage.part_cache``), so they must change on every write those parts show:
``tests/manage/test_part_cache.py`` holds them to it.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

import redis
from flask import Flask
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import bindparam
from sqlalchemy import case
from sqlalchemy import cast
from sqlalchemy import func
from sqlalchemy import select as select_columns
from sqlalchemy import true
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.infra.job_ends import REDIS_ERRORS
from plugin.infra.job_ends import jobs_ended
from plugin.infra.queues import get_redis
from plugin.ledger.correction_model import Correction
from plugin.ledger.correction_model import CorrectionState
from plugin.ledger.count_table import LedgerCount
from plugin.models import AmazonConnection
from plugin.models import ImportRun
from plugin.models import Organisation
from plugin.models import PaymentMethod


def _digest(*values: object) -> str:
    return hashlib.blake2b(repr(values).encode(), digest_size=6).hexdigest()


RUN_COLUMNS = ("id", "state", "fetched", "new", "posted", "held", "failed")
"""What the import fingerprint reads of the newest import run."""


@functools.cache
def _aggregates_statement() -> Any:
    """The one statement of ``aggregates``, built once (building it per request costs more
    Python than the database spends answering it); the organisation is ``:org_id``."""
    org_id = bindparam("org_id", type_=Integer)
    count_rows = col(LedgerCount.organisation_id) == org_id
    stores = col(AmazonConnection.organisation_id) == org_id
    methods = col(PaymentMethod.organisation_id) == org_id
    corrections = col(Correction.organisation_id) == org_id
    acknowledged = func.sum(case((col(PaymentMethod.acknowledged), 1), else_=0))
    # What the page shows of a new method: its name (a label can change with no new row).
    method_labels = func.aggregate_strings(
        cast(col(PaymentMethod.id), String) + ":" + col(PaymentMethod.label), ";"
    )
    store = AmazonConnection
    shown = [cast(col(store.id), String), col(store.store), col(store.region)]
    shown += [func.coalesce(column, "") for column in (col(store.name), col(store.status))]
    shown.append(func.coalesce(col(store.status_reason), ""))
    row_text = shown[0]
    for part in shown[1:]:
        row_text = row_text + "|" + part
    shown_stores = func.aggregate_strings(row_text, ";")  # what the page shows of each store
    in_state = [
        func.sum(case((col(Correction.state) == state, 1), else_=0))
        for state in (CorrectionState.PENDING, CorrectionState.SENT, CorrectionState.HELD)
    ]

    def newest_run(*columns: Any) -> Any:
        return (
            select_columns(*columns)
            .where(col(ImportRun.organisation_id) == org_id)
            .order_by(col(ImportRun.id).desc())
            .limit(1)
        )

    tables = [
        select(func.max(LedgerCount.id), func.count()).where(count_rows),
        select(func.count(), func.max(AmazonConnection.updated_at), shown_stores).where(stores),
        select(func.count(), func.max(PaymentMethod.id), acknowledged, method_labels).where(
            methods
        ),
        select(func.count(), func.max(Correction.id), *in_state).where(corrections),
    ]
    figures = [table.subquery() for table in tables]
    run = newest_run(*(getattr(ImportRun, name) for name in RUN_COLUMNS)).subquery()
    joined = figures[0].join(figures[1], true()).join(figures[2], true()).join(figures[3], true())
    columns = [column for figure in figures for column in figure.c]
    return select_columns(*columns, *run.c).select_from(joined.outerjoin(run, true()))


def aggregates(session: Session, org_id: int) -> tuple[Any, ...]:
    """The organisation's rows the fingerprints read, in one statement (one round trip):
    ledger count rows (newest id, how many), store connections (how many, last change, what
    the page shows of each), payment methods (how many, newest, how many acknowledged, their
    names), corrections (how many, newest, how many pending, sent and held: what a review note
    says), the newest import run (its id, state and counts)."""
    return tuple(session.execute(_aggregates_statement(), {"org_id": org_id}).one())


def fingerprints(
    session: Session,
    connection: redis.Redis | None,
    org: Organisation,
    ended: str | None = None,
) -> dict[str, str]:
    """The fingerprint of each part of the page: status, entries, methods, import.

    The ledger's version is the newest ``ledger_count`` id *and* how many rows there are: a
    transaction that took an id before another but committed after it adds a row without
    raising the newest id (ids are handed out before commit), and every write the list shows
    adds a row (migration 0021's touches). ``ended``: the jobs-ended counter when the caller
    read it already (``jobs_ended``'s text)."""
    org_id = int(org.id or 0)
    values = aggregates(session, org_id)
    ledger_version, stores, methods = values[:2], values[2:5], values[5:9]
    corrections, run = values[9:14], values[14:]
    if ended is None:
        ended = jobs_ended(connection, org_id) if connection is not None else ""
    organisation = (org.status, org.onboarding_step, org.last_synced_at, org.updated_at)
    return {
        "status": _digest(organisation, stores, ledger_version, ended, methods),
        "entries": _digest(ledger_version, ended, corrections),
        "methods": _digest(methods),
        "import": _digest(run if run[0] is not None else None),
    }


def page_fingerprints(session: Session, app: Flask, org: Organisation) -> dict[str, str]:
    """``fingerprints`` with the app's Redis (without it when Redis is down: the parts that read
    it then change once it is back)."""
    try:
        connection: redis.Redis | None = get_redis(app)
    except REDIS_ERRORS:
        connection = None
    return fingerprints(session, connection, org)
