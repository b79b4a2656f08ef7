"""``flask`` commands for operators: migrate the database, run a worker.

Run them as ``flask --app wsgi <command>``. Commands other than the ``db-*`` ones refuse to run
against a schema that is behind.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import click
from flask import Flask
from flask import current_app
from flask.cli import with_appcontext

from plugin import db
from plugin.infra.queues import QUEUE_NAMES
from plugin.infra.queues import get_queue
from plugin.infra.queues import get_redis

log = logging.getLogger(__name__)


def needs_current_schema(command: Callable[..., Any]) -> Callable[..., Any]:
    """Stop a command with a clear message when the schema is behind."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            db.require_current_schema(db.get_engine())
        except db.SchemaBehindError as exc:
            raise click.ClickException(str(exc)) from exc
        return command(*args, **kwargs)

    return wrapper


@click.command("db-upgrade")
@with_appcontext
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the database migrations."""
    db.upgrade(current_app.config["DATABASE_URL"], revision)
    current, _ = db.schema_revisions(db.get_engine())
    click.echo(f"Database schema at {', '.join(sorted(current))}.")


@click.command("db-current")
@with_appcontext
def db_current() -> None:
    """Show the schema revision the database is at and the one the code needs."""
    current, expected = db.schema_revisions(db.get_engine())
    click.echo(f"database: {', '.join(sorted(current)) or '(empty)'}")
    click.echo(f"code:     {', '.join(sorted(expected))}")


@click.command("worker")
@with_appcontext
@click.option("--burst", is_flag=True, help="Exit once the queues are empty.")
@click.option(
    "--queues",
    default=",".join(QUEUE_NAMES),
    show_default=True,
    help="Comma-separated queue names, highest priority first.",
)
@click.option("--name", default=None, help="Worker name (defaults to RQ's).")
@needs_current_schema
def worker(burst: bool, queues: str, name: str | None) -> None:
    """Run an RQ worker with its scheduler (delayed jobs and retries) on the app's Redis."""
    import jobs.context

    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger("plugin").setLevel(logging.INFO)
    log.info("Worker on Redis %s", current_app.config["REDIS_URL"].split("@")[-1])

    # Jobs run in forks of this process: let them reuse this app (engines are re-pooled).
    jobs.context.use_app(current_app._get_current_object())  # type: ignore[attr-defined]
    names = [n.strip() for n in queues.split(",") if n.strip()]
    unknown = set(names) - set(QUEUE_NAMES)
    if unknown:
        raise click.BadParameter(f"unknown queues: {', '.join(sorted(unknown))}")
    from jobs.recovery import queue_resume
    from plugin.infra.worker_runner import run_worker

    # Work a killed worker left half done (an import still "running", entries still "posting")
    # is queued again at every start, not at the next hourly sync (jobs/recovery.py). A lost
    # Redis does not end the process: run_worker waits for it and starts a fresh RQ worker.
    run_worker([get_queue(n) for n in names], get_redis(), name, burst, on_start=queue_resume)


@click.command("cron")
@with_appcontext
@needs_current_schema
def cron() -> None:
    """Run RQ's cron scheduler with jobs/schedule.py (hourly sync, daily contact checks)."""
    from rq.cron import CronScheduler

    logging.getLogger().setLevel(logging.INFO)

    scheduler = CronScheduler(connection=get_redis(), logging_level="INFO")
    scheduler.load_config_from_file("jobs.schedule")
    scheduler.start()


def _org_or_fail(org_ref: str) -> Any:
    from sqlmodel import select

    from plugin.db import get_session
    from plugin.models import Organisation

    session = get_session()
    org = session.get(Organisation, int(org_ref)) if org_ref.isdigit() else None
    org = (
        org
        or session.exec(select(Organisation).where(Organisation.xero_tenant_id == org_ref)).first()
    )
    if org is None:
        raise click.ClickException(f"No organisation with id or Xero tenant id {org_ref!r}.")
    return org


@click.command("import")
@with_appcontext
@click.option("--org", "org_ref", required=True, help="Organisation id or Xero tenant id.")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]))
@needs_current_schema
def import_command(org_ref: str, start: Any, end: Any) -> None:
    """Queue a manual import of a date range (already-known transactions are never duplicated)."""
    from plugin.db import get_session
    from plugin.models import ImportTrigger
    from plugin.work import services as sync

    org = _org_or_fail(org_ref)
    try:
        run = sync.start_import(
            get_session(),
            current_app._get_current_object(),  # type: ignore[attr-defined]
            org,
            start.date(),
            end.date(),
            ImportTrigger.MANUAL,
            actor="cli",
        )
    except sync.ImportRangeError as exc:
        raise click.ClickException(str(exc)) from exc
    except sync.AlreadyRunning as exc:
        raise click.ClickException(f"{exc} (job {exc.job_id})") from exc
    click.echo(f"Import run {run.id} queued as job {run.rq_job_id}.")


@click.command("sync")
@with_appcontext
@needs_current_schema
def sync_command() -> None:
    """Queue a sync of every organisation with sync enabled (what the scheduler does hourly)."""
    get_queue("default").enqueue("jobs.sync.sync_all")
    click.echo("Sync of all organisations queued.")


@click.command("status")
@with_appcontext
@click.option("--org", "org_ref", required=True, help="Organisation id or Xero tenant id.")
@needs_current_schema
def status_command(org_ref: str) -> None:
    """Counts per state, held reasons grouped, and the last import run."""
    from sqlalchemy import func
    from sqlmodel import col
    from sqlmodel import select

    from plugin import ledger
    from plugin.db import get_session
    from plugin.models import EntryState
    from plugin.models import ImportRun
    from plugin.models import LedgerEntry

    session = get_session()
    org = _org_or_fail(org_ref)
    click.echo(
        f"{org.name} ({org.xero_tenant_id}) — Xero {org.status}, sync "
        f"{'on' if org.sync_enabled else 'off'}, set-up step {org.onboarding_step}"
    )
    for state, count in sorted(ledger.counts_by_state(session, org.id).items()):
        click.echo(f"  {state:<8} {count}")
    reasons = session.exec(
        select(LedgerEntry.reason_code, func.count())
        .where(
            LedgerEntry.organisation_id == org.id,
            col(LedgerEntry.state).in_([EntryState.HELD, EntryState.FAILED]),
        )
        .group_by(LedgerEntry.reason_code)
    )
    for code, count in reasons:
        click.echo(f"  held/failed because {code}: {count}")
    last = session.exec(
        select(ImportRun)
        .where(ImportRun.organisation_id == org.id)
        .order_by(col(ImportRun.id).desc())
    ).first()
    if last is None:
        click.echo("  no import yet")
    else:
        click.echo(
            f"  last run {last.id} ({last.trigger}) {last.state}: fetched {last.fetched}, "
            f"new {last.new}, already known {last.already_known}"
            + (f" — {last.error}" if last.error else "")
        )


def init_app(app: Flask) -> None:
    """Register the commands."""
    for command in (
        db_upgrade,
        db_current,
        worker,
        cron,
        import_command,
        sync_command,
        status_command,
    ):
        app.cli.add_command(command)
