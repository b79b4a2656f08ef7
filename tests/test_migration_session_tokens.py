"""Migration 0004 (issue 18, point 1): every user gets a session token, and on SQLite every
table is rebuilt with AUTOINCREMENT without losing a row (foreign keys off while it copies)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from plugin.db import alembic_config
from plugin.db import make_engine
from plugin.db import upgrade
from plugin.models import metadata

NOW = "2026-01-01 00:00:00"


def sqlite_tables(url: str) -> dict[str, str]:
    engine = make_engine(url, pooled=False)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type='table'"))
        tables = {name: sql for name, sql in rows}
    engine.dispose()
    return tables


def test_every_table_uses_autoincrement_after_the_migrations(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    tables = sqlite_tables(url)
    for table in metadata.tables:
        assert "PRIMARY KEY AUTOINCREMENT" in tables[table], table


def test_the_rebuild_keeps_every_row_and_gives_each_user_a_token(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0003")
    engine = make_engine(url, pooled=False)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO user_account (id, xero_user_id, email, name, created_at) VALUES "
                "(1, 'u1', 'a@example.com', 'A', :now), (3, 'u3', 'b@example.com', 'B', :now)"
            ),
            {"now": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO organisation (id, xero_tenant_id, name, country, base_currency, "
                "timezone, xero_scopes, status, sync_enabled, onboarding_step, created_at, "
                "updated_at) VALUES (5, 't-5', 'Org', '', '', '', '', 'active', 1, 'done', "
                ":now, :now)"
            ),
            {"now": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO membership (user_id, organisation_id, role, notify, created_at) "
                "VALUES (1, 5, 'admin', 1, :now), (3, 5, 'admin', 1, :now)"
            ),
            {"now": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO ledger_entry (organisation_id, amazon_transaction_id, "
                "transaction_type, amount, currency, payload_hash, state, needs_review, "
                "attempts, created_at, updated_at) VALUES "
                "(5, 'T-1', '', 12.34, 'GBP', '', 'posted', 0, 0, :now, :now)"
            ),
            {"now": NOW},
        )
    engine.dispose()

    upgrade(url)

    engine = make_engine(url, pooled=False)
    with engine.begin() as connection:
        rows = connection.execute(text("SELECT id, session_token FROM user_account"))
        tokens = {row[0]: row[1] for row in rows}
        assert set(tokens) == {1, 3}
        assert len(set(tokens.values())) == 2
        assert all(len(t) >= 40 for t in tokens.values())
        # Nothing cascaded away while the parent tables were rebuilt.
        assert connection.execute(text("SELECT COUNT(*) FROM membership")).scalar() == 2
        assert connection.execute(text("SELECT COUNT(*) FROM ledger_entry")).scalar() == 1
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        # The highest id ever used is remembered: the next user is 4, never 1, 2 or 3 again.
        connection.execute(text("DELETE FROM membership WHERE user_id = 3"))
        connection.execute(text("DELETE FROM user_account WHERE id = 3"))
        connection.execute(
            text(
                "INSERT INTO user_account (xero_user_id, email, name, session_token, "
                "created_at) VALUES ('u4', '', '', 'token-4', :now)"
            ),
            {"now": NOW},
        )
        assert connection.execute(text("SELECT MAX(id) FROM user_account")).scalar() == 4
    engine.dispose()

    command.downgrade(alembic_config(url), "0003")
    tables = sqlite_tables(url)
    assert "AUTOINCREMENT" not in tables["user_account"]
    assert "session_token" not in tables["user_account"]
    upgrade(url)
