"""``flask import``, ``flask sync`` and ``flask status``: an operator's work on organisations.

``--org`` takes the organisation's id or its Xero tenant id.
"""

from __future__ import annotations

from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from plugin.cli.database import needs_current_schema
from plugin.infra.queues import get_queue

__all__ = ["import_command", "status_command", "sync_command"]


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
    from plugin.infra.locks import AlreadyRunning
    from plugin.models import ImportTrigger
    from plugin.work.imports import ImportRangeError
    from plugin.work.imports import start_import

    org = _org_or_fail(org_ref)
    try:
        run = start_import(
            get_session(),
            current_app._get_current_object(),  # type: ignore[attr-defined]
            org,
            start.date(),
            end.date(),
            ImportTrigger.MANUAL,
            actor="cli",
        )
    except ImportRangeError as exc:
        raise click.ClickException(str(exc)) from exc
    except AlreadyRunning as exc:
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
