"""``ledger_count``: entries per organisation and state, kept by triggers on ``ledger_entry``
(issue 17 point 2: Manage Integrations reads a handful of rows instead of counting the ledger).

Every insert, state change and delete of a ledger entry adds ``+n``/``-n`` rows; nothing is
updated in place, so concurrent writers of one organisation never wait on a counter row.
PostgreSQL: statement-level triggers with transition tables (one insert per statement, however
many rows it touched). SQLite: row-level triggers. The table starts with the counts of the
ledger as it is.

A later migration that makes SQLite rebuild ``ledger_entry`` (``batch_alter_table`` with an
operation SQLite cannot do in place) drops these triggers with the old table: it must call
``create_triggers`` of this module again. ``tests/ledger/test_counts.py`` checks at head that the
counts still follow every kind of write.

Revision ID: 0017
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_count_follow() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO ledger_count (organisation_id, state, delta)
      SELECT organisation_id, state, count(*) FROM new_rows GROUP BY organisation_id, state;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO ledger_count (organisation_id, state, delta)
      SELECT organisation_id, state, -count(*) FROM old_rows GROUP BY organisation_id, state;
  ELSE
    INSERT INTO ledger_count (organisation_id, state, delta)
      SELECT organisation_id, state, sum(change) FROM (
        SELECT organisation_id, state, -1 AS change FROM old_rows
        UNION ALL
        SELECT organisation_id, state, 1 AS change FROM new_rows
      ) AS moves
      GROUP BY organisation_id, state
      HAVING sum(change) <> 0;
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql
"""

POSTGRES_TRIGGERS = [
    "CREATE TRIGGER ledger_count_insert AFTER INSERT ON ledger_entry "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ledger_count_follow()",
    "CREATE TRIGGER ledger_count_update AFTER UPDATE ON ledger_entry "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION ledger_count_follow()",
    "CREATE TRIGGER ledger_count_delete AFTER DELETE ON ledger_entry "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ledger_count_follow()",
]

SQLITE_TRIGGERS = [
    "CREATE TRIGGER ledger_count_insert AFTER INSERT ON ledger_entry BEGIN "
    "INSERT INTO ledger_count (organisation_id, state, delta) "
    "VALUES (NEW.organisation_id, NEW.state, 1); END",
    "CREATE TRIGGER ledger_count_update AFTER UPDATE OF state, organisation_id ON ledger_entry "
    "WHEN OLD.state IS NOT NEW.state OR OLD.organisation_id IS NOT NEW.organisation_id BEGIN "
    "INSERT INTO ledger_count (organisation_id, state, delta) "
    "VALUES (OLD.organisation_id, OLD.state, -1); "
    "INSERT INTO ledger_count (organisation_id, state, delta) "
    "VALUES (NEW.organisation_id, NEW.state, 1); END",
    "CREATE TRIGGER ledger_count_delete AFTER DELETE ON ledger_entry BEGIN "
    "INSERT INTO ledger_count (organisation_id, state, delta) "
    "VALUES (OLD.organisation_id, OLD.state, -1); END",
]

TRIGGER_NAMES = ("ledger_count_insert", "ledger_count_update", "ledger_count_delete")


def create_triggers(bind: sa.engine.Connection) -> None:
    """(Re)create the triggers that keep ``ledger_count`` (after SQLite rebuilt the table)."""
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(POSTGRES_FUNCTION)
        statements = POSTGRES_TRIGGERS
    else:
        statements = SQLITE_TRIGGERS
    for name in TRIGGER_NAMES:
        suffix = " ON ledger_entry" if bind.dialect.name == "postgresql" else ""
        bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}{suffix}")
    for statement in statements:
        bind.exec_driver_sql(statement)


def upgrade() -> None:
    op.create_table(
        "ledger_count",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_count")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_ledger_count_org_state", "ledger_count", ["organisation_id", "state"])
    bind = op.get_bind()
    bind.exec_driver_sql(
        "INSERT INTO ledger_count (organisation_id, state, delta) "
        "SELECT organisation_id, state, count(*) FROM ledger_entry "
        "GROUP BY organisation_id, state"
    )
    create_triggers(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for name in TRIGGER_NAMES:
        suffix = " ON ledger_entry" if bind.dialect.name == "postgresql" else ""
        bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}{suffix}")
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS ledger_count_follow()")
    op.drop_index("ix_ledger_count_org_state", table_name="ledger_count")
    op.drop_table("ledger_count")
