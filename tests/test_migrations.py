"""Alembic migrations create exactly the tables and columns the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from plugin.db import make_engine
from plugin.db import upgrade
from plugin.models import metadata


def test_upgrade_creates_every_table_and_column(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    engine = make_engine(url, pooled=False)
    inspector = inspect(engine)
    assert set(inspector.get_table_names()) == set(metadata.tables) | {"alembic_version"}
    for table in metadata.sorted_tables:
        columns = {column["name"] for column in inspector.get_columns(table.name)}
        assert columns == {column.name for column in table.columns}, table.name
    engine.dispose()


def test_models_and_migrations_agree(database_url):
    """Catches a model change committed without its migration (on SQLite and Postgres)."""
    engine = make_engine(database_url, pooled=False)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    engine.dispose()
    assert differences == []


def test_unique_constraints_hold(db_session):
    import pytest
    from sqlalchemy.exc import IntegrityError

    from plugin.models import LedgerEntry
    from plugin.models import Organisation

    org = Organisation(xero_tenant_id="tenant-1", name="Org")
    db_session.add(org)
    db_session.commit()
    db_session.add(LedgerEntry(organisation_id=org.id, amazon_transaction_id="T1"))
    db_session.commit()
    db_session.add(LedgerEntry(organisation_id=org.id, amazon_transaction_id="T1"))
    with pytest.raises(IntegrityError):
        db_session.commit()
    db_session.rollback()
    db_session.add(Organisation(xero_tenant_id="tenant-1", name="Duplicate"))
    with pytest.raises(IntegrityError):
        db_session.commit()
