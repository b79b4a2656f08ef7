"""The wizard's historical import: the allowed date range and live progress (the form is
``plugin.onboarding.forms.DateRangeForm``).

Progress comes from the ``ImportRun`` row (durable counts and state) and, while the job runs,
from the RQ job's meta (``plugin.work.import_progress.Progress``), which also gives the store,
its page and what the job does this moment, in words. A run whose job has vanished or died while
the row still says queued/running (a killed worker) is shown as stopped, so the progress bar
never polls forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import timedelta
from typing import Any

import redis
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.job import JobStatus
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.models import ImportRun
from plugin.models import ImportTrigger
from plugin.models import RunState
from plugin.work import import_progress
from plugin.work.imports import EARLIEST_IMPORT_DATE
from plugin.work.imports import range_rule

DEFAULT_DAYS = 30
ACTIVE_STATES = (RunState.QUEUED, RunState.RUNNING)
DEAD_JOB_STATES = (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)
STOPPED_MESSAGE = "The import stopped before it finished. Start it again; nothing is duplicated."


@dataclass(frozen=True)
class DateBounds:
    """What the date inputs allow and show by default."""

    earliest: date
    latest: date
    default_start: date
    default_end: date

    @property
    def rule(self) -> str:
        """The range rule in words, as Manage's import form says it."""
        return range_rule()


def bounds(today: date) -> DateBounds:
    """Return the allowed range (``work.imports.range_rule``: Manage's too) and the default
    (the last 30 days)."""
    return DateBounds(
        earliest=EARLIEST_IMPORT_DATE,
        latest=today,
        default_start=today - timedelta(days=DEFAULT_DAYS),
        default_end=today,
    )


def latest_historical_run(session: Session, org_id: int) -> ImportRun | None:
    """Return the organisation's most recent historical import, if any."""
    return session.exec(
        select(ImportRun)
        .where(ImportRun.organisation_id == org_id, ImportRun.trigger == ImportTrigger.HISTORICAL)
        .order_by(col(ImportRun.id).desc())
    ).first()


def run_of_org(session: Session, org_id: int, run_id: int) -> ImportRun | None:
    """Return import run ``run_id`` if it belongs to the organisation."""
    run = session.get(ImportRun, run_id)
    return run if run is not None and run.organisation_id == org_id else None


@dataclass(frozen=True)
class Progress:
    """What the progress fragment shows."""

    run_id: int
    state: str
    fetched: int
    new: int
    already_known: int
    pages: int
    error: str | None
    range_start: date
    range_end: date
    where: str = ""
    """While it runs: "UK store: page 3 — 250 fetched, 180 new" (``import_progress.doing``)."""
    now: str = ""
    """While it runs: what it does this moment ("Asking Amazon for the next page…")."""
    running_percent: int = 0

    @property
    def active(self) -> bool:
        """True while the import is queued or running (the fragment keeps polling)."""
        return self.state in ACTIVE_STATES

    @property
    def succeeded(self) -> bool:
        """True when the import finished without error."""
        return self.state == RunState.SUCCEEDED

    @property
    def percent(self) -> int | None:
        """The share of the feed dates read while it runs (None before the first report);
        100 once finished."""
        if not self.active:
            return 100
        return self.running_percent if self.where else None


def _job_meta(client: redis.Redis, job_id: str | None) -> tuple[dict[str, Any] | None, bool]:
    """(the job's progress meta, whether the job is gone or dead)."""
    if not job_id:
        return None, True
    try:
        job = Job.fetch(job_id, connection=client)
    except NoSuchJobError:
        return None, True
    progress = job.get_meta(refresh=True).get("progress")
    dead = job.get_status(refresh=False) in DEAD_JOB_STATES
    return (progress if isinstance(progress, dict) else None), dead


def progress_of(run: ImportRun, client: redis.Redis) -> Progress:
    """Return the run's progress, from the job's meta while it runs and the row otherwise."""
    state, error = str(run.state), run.error
    counts = {"fetched": run.fetched, "new": run.new, "already_known": run.already_known}
    pages, where, now, share = 0, "", "", 0
    if run.state in ACTIVE_STATES:
        meta, dead = _job_meta(client, run.rq_job_id)
        if meta:
            pages = int(meta.get("pages") or 0)
            for name in counts:
                counts[name] = max(counts[name], int(meta.get(name) or 0))
            where, now = import_progress.doing(meta)
            share = import_progress.percent(meta)
        if dead:
            state, error = RunState.FAILED, STOPPED_MESSAGE
    return Progress(
        run_id=int(run.id or 0),
        state=state,
        pages=pages,
        error=error,
        range_start=run.range_start.date(),
        range_end=run.range_end.date(),
        where=where,
        now=now,
        running_percent=share,
        **counts,
    )
