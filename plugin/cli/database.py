"""``flask db-upgrade`` and ``flask db-current``: migrate the database, show its revision.

The other commands refuse to run against a schema that is behind (``needs_current_schema``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from plugin import db

__all__ = ["db_current", "db_upgrade", "needs_current_schema"]


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
