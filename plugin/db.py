"""The database: one engine per process, one session per request and per job, Alembic checks.

SQLite under ``instance/`` by default (WAL mode, foreign keys on, waits for locks), PostgreSQL
through ``DATABASE_URL=postgresql+psycopg://...``. The schema is only ever changed by Alembic
migrations (``flask --app wsgi db-upgrade``); a process refuses to serve against a schema that is
behind the code.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import simplejson
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask import current_app
from flask import g
from sqlalchemy import Engine
from sqlalchemy import event
from sqlalchemy import text
from sqlalchemy.pool import NullPool
from sqlmodel import Session
from sqlmodel import create_engine

from plugin.config import ROOT

UPGRADE_COMMAND = "flask --app wsgi db-upgrade"


class SchemaBehindError(RuntimeError):
    """The database schema is older (or newer) than the code expects."""


def normalise_url(url: str) -> str:
    """Accept the usual spellings of a PostgreSQL URL and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def default_sqlite_url(instance_path: Path) -> str:
    """The embedded default: a SQLite file in the instance folder."""
    instance_path.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{instance_path / 'app.db'}"


def json_dumps(value: Any) -> str:
    """JSON columns: a ``Decimal`` (an amount of a request body) is written as its exact digits."""
    return simplejson.dumps(value, use_decimal=True)


def json_loads(text: str | bytes) -> Any:
    """JSON columns: a number with a fraction is read back as the exact ``Decimal`` it was."""
    return simplejson.loads(text, use_decimal=True)


def make_engine(url: str, pooled: bool = True) -> Engine:
    """An engine tuned for the backend: SQLite shared by web and worker processes, or Postgres.

    ``pooled=False`` gives one short-lived connection per use (migrations, scripts). JSON columns
    keep amounts exact both ways (``json_dumps`` / ``json_loads``).
    """
    url = normalise_url(url)
    pool_args: dict[str, Any] = {} if pooled else {"poolclass": NullPool}
    pool_args.update(json_serializer=json_dumps, json_deserializer=json_loads)
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **pool_args
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    if not pooled:
        return create_engine(url, **pool_args)
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, **pool_args)


def alembic_config(url: str) -> AlembicConfig:
    """Alembic's configuration pointing at our migrations and the given database."""
    config = AlembicConfig(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = normalise_url(url)
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision``."""
    alembic_command.upgrade(alembic_config(url), revision)


def schema_revisions(engine: Engine) -> tuple[set[str], set[str]]:
    """(revisions the database is at, revisions the code expects)."""
    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current, set(script.get_heads())


def require_current_schema(engine: Engine) -> None:
    """Raise SchemaBehindError, naming the command that fixes it, unless the schema is current."""
    current, expected = schema_revisions(engine)
    if current != expected:
        where = ", ".join(sorted(current)) or "an empty database"
        raise SchemaBehindError(
            f"The database schema is at {where} but this code needs "
            f"{', '.join(sorted(expected))}. Run: {UPGRADE_COMMAND}"
        )


def get_engine(app: Flask | None = None) -> Engine:
    """The process-wide engine of the app."""
    app = app or current_app
    return app.extensions["db_engine"]


def get_session() -> Session:
    """The session for this request (opened on first use, closed at teardown)."""
    if "db_session" not in g:
        g.db_session = Session(get_engine(), expire_on_commit=False)
    return g.db_session


def close_session(_exc: BaseException | None = None) -> None:
    """Close the request's session, rolling back anything uncommitted."""
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


@contextmanager
def session_scope(app: Flask | None = None) -> Iterator[Session]:
    """A session for work outside a request (jobs, CLI); closed afterwards."""
    with Session(get_engine(app), expire_on_commit=False) as session:
        yield session


def database_ok(engine: Engine) -> tuple[bool, str]:
    """(True, "ok") when the database answers a trivial query, else (False, why)."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True, "ok"
    except Exception as exc:  # any driver error means "down" for the health check
        return False, type(exc).__name__


def init_app(app: Flask) -> None:
    """Create the engine, register session teardown, and dispose pools in forked children."""
    url = app.config.get("DATABASE_URL") or default_sqlite_url(Path(app.instance_path))
    app.config["DATABASE_URL"] = normalise_url(url)
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["db_engine"] = engine
    app.teardown_appcontext(close_session)
    # A forked RQ work-horse must not reuse the parent's pooled connections.
    engine_ref = weakref.ref(engine)

    def _dispose_in_child() -> None:
        forked_engine = engine_ref()
        if forked_engine is not None:
            forked_engine.dispose(close=False)

    os.register_at_fork(after_in_child=_dispose_in_child)
