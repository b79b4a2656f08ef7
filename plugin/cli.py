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

from plugin import db
from plugin.queues import QUEUE_NAMES
from plugin.queues import get_queue
from plugin.queues import get_redis

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
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the database migrations."""
    db.upgrade(current_app.config["DATABASE_URL"], revision)
    current, _ = db.schema_revisions(db.get_engine())
    click.echo(f"Database schema at {', '.join(sorted(current))}.")


@click.command("db-current")
def db_current() -> None:
    """Show the schema revision the database is at and the one the code needs."""
    current, expected = db.schema_revisions(db.get_engine())
    click.echo(f"database: {', '.join(sorted(current)) or '(empty)'}")
    click.echo(f"code:     {', '.join(sorted(expected))}")


@click.command("worker")
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
    from rq import Worker

    import jobs.context

    # Jobs run in forks of this process: let them reuse this app (engines are re-pooled).
    jobs.context.use_app(current_app._get_current_object())  # type: ignore[attr-defined]
    names = [n.strip() for n in queues.split(",") if n.strip()]
    unknown = set(names) - set(QUEUE_NAMES)
    if unknown:
        raise click.BadParameter(f"unknown queues: {', '.join(sorted(unknown))}")
    rq_worker = Worker([get_queue(n) for n in names], connection=get_redis(), name=name)
    rq_worker.work(with_scheduler=True, burst=burst, logging_level="INFO")


def init_app(app: Flask) -> None:
    """Register the commands."""
    for command in (db_upgrade, db_current, worker):
        app.cli.add_command(command)
