"""Alembic environment: our SQLModel metadata, the URL from the app's settings."""

from __future__ import annotations

from pathlib import Path

from alembic import context
from sqlmodel import SQLModel

import plugin.models  # noqa: F401  (registers the tables)
from plugin.config import ROOT
from plugin.config import load_settings
from plugin.db import default_sqlite_url
from plugin.db import make_engine
from plugin.db import normalise_url

config = context.config
target_metadata = SQLModel.metadata


def database_url() -> str:
    """The URL passed in by plugin.db, else the app's settings."""
    url = config.attributes.get("database_url")
    if url:
        return str(url)
    settings = load_settings()
    instance = Path(settings.get("INSTANCE_PATH") or ROOT / "instance")
    return normalise_url(settings.get("DATABASE_URL") or default_sqlite_url(instance))


def run_migrations_offline() -> None:
    """Emit SQL without a database connection (``alembic upgrade head --sql``)."""
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        compare_type=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Apply migrations over a live connection."""
    engine = make_engine(database_url(), pooled=False)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            compare_type=True,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
