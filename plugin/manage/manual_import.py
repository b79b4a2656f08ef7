"""Manual imports from Manage Integrations: a date range fetched again from Amazon Business,
nothing posted until the user presses "Post N new"; and the import history.
"""

from __future__ import annotations

from flask import Flask
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.infra.forms import first_error
from plugin.infra.keys import post_job_id
from plugin.infra.locks import AlreadyRunning
from plugin.infra.queues import get_redis
from plugin.manage.actions import queue_job
from plugin.manage.org_actions import refusal_for
from plugin.manage.status import REDIS_ERRORS
from plugin.manage.status import connections_of
from plugin.models import AuditEvent
from plugin.models import ConnectionStatus
from plugin.models import ImportRun
from plugin.models import ImportTrigger
from plugin.models import Organisation
from plugin.models import RunState
from plugin.onboarding.forms import DateRangeForm
from plugin.onboarding.history import Progress
from plugin.onboarding.history import progress_of
from plugin.work.imports import ImportRangeError
from plugin.work.imports import start_import

HISTORY_SIZE = 10
POSTED_ACTION = "manual_import_posted"


class ImportFormError(ValueError):
    """The manual import form is not filled in right; the message is for the user."""


def start_manual_import(
    session: Session, app: Flask, org: Organisation, dates: DateRangeForm, actor: str
) -> ImportRun:
    """Validate the date range and queue a manual import (nothing is posted until confirmed).

    Raises ImportFormError with a message for the user.
    """
    refusal = refusal_for(org, "importing")
    if refusal is not None:
        raise ImportFormError(refusal)
    if not any(c.status == ConnectionStatus.ACTIVE for c in connections_of(session, org.id or 0)):
        raise ImportFormError("Connect an Amazon Business store before importing.")
    if not dates.validate():
        raise ImportFormError(first_error(dates))
    start, end = dates.chosen()
    try:
        return start_import(session, app, org, start, end, ImportTrigger.MANUAL, actor)
    except ImportRangeError as exc:
        raise ImportFormError(str(exc)) from exc
    except AlreadyRunning as exc:
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


def queued_message(run: ImportRun) -> str:
    """What the page says once a manual import is queued."""
    start, end = run.range_start, run.range_end
    return (
        f"Import queued: {start.day} {start:%b %Y} \u2013 {end.day} {end:%b %Y}. "
        "You see how many purchases are new before anything is posted."
    )


def post_new(app: Flask, session: Session, org: Organisation, run: ImportRun, actor: str) -> bool:
    """Queue posting after a manual import; False when Redis is down."""
    org_id = int(org.id or 0)
    queued = queue_job(app, "jobs.posting.post_ready", post_job_id(org_id), org_id)
    if queued is None:
        return False
    session.add(
        AuditEvent(
            organisation_id=org.id,
            actor=actor,
            action=POSTED_ACTION,
            detail={"run": run.id, "new": run.new},
        )
    )
    session.commit()
    return True


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
            AuditEvent.organisation_id == org_id, AuditEvent.action == POSTED_ACTION
        )
    )
    return any((detail or {}).get("run") == run_id for detail in events)


def run_active(run: ImportRun | None) -> bool:
    """Whether an import run is still queued or running."""
    return run is not None and run.state in (RunState.QUEUED, RunState.RUNNING)


def progress_while_active(app: Flask, run: ImportRun | None) -> Progress | None:
    """A running import's progress (store, page, counts, what it does now); None otherwise or
    when Redis cannot say (the section then shows the run's own counts)."""
    if run is None or not run_active(run):
        return None
    try:
        return progress_of(run, get_redis(app))
    except REDIS_ERRORS:
        return None


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
