"""session token and ids never reused

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 09:00:00.000000

The session cookie carries ``user_account.session_token`` instead of the row id. Every user gets
a random token here, so cookies issued before (they hold row ids) sign in no one.

On SQLite every table is rebuilt with ``AUTOINCREMENT`` (``sqlite_autoincrement``), so the id of
a deleted row is never handed out again. SQLite cannot add it in place: the table is copied
(batch mode, ``recreate="always"``). Foreign keys are switched off meanwhile, otherwise dropping
the old copy of a parent table would cascade into its children; they are checked before the
end. PostgreSQL sequences never reuse ids, so there only the column is added.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Parents before children (the order does not matter with foreign keys off; it reads better).
TABLES = (
    "user_account",
    "organisation",
    "membership",
    "amazon_connection",
    "payment_method",
    "mapping",
    "posting_batch",
    "ledger_entry",
    "import_run",
    "audit_event",
)
TOKEN_CONSTRAINT = "uq_user_account_session_token"  # noqa: S105 (a constraint name)


def upgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
    _give_every_user_a_token()
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite_tables(autoincrement=True, token_column=True)
        return
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.alter_column("session_token", nullable=False)
        batch_op.create_unique_constraint(TOKEN_CONSTRAINT, ["session_token"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite_tables(autoincrement=False, token_column=False)
        return
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint(TOKEN_CONSTRAINT, type_="unique")
        batch_op.drop_column("session_token")


def _give_every_user_a_token() -> None:
    bind = op.get_bind()
    ids = [row[0] for row in bind.execute(sa.text("SELECT id FROM user_account"))]
    for user_id in ids:
        bind.execute(
            sa.text("UPDATE user_account SET session_token = :token WHERE id = :id"),
            {"token": secrets.token_urlsafe(32), "id": user_id},
        )


def _rebuild_sqlite_tables(autoincrement: bool, token_column: bool) -> None:
    """Copy every table with (or without) AUTOINCREMENT, foreign keys off meanwhile."""
    context = op.get_context()
    with context.autocommit_block():  # the pragma is ignored inside a transaction
        op.execute("PRAGMA foreign_keys=OFF")
    try:
        for table in TABLES:
            with op.batch_alter_table(
                table,
                schema=None,
                recreate="always",
                table_kwargs={"sqlite_autoincrement": autoincrement},
            ) as batch_op:
                if table != "user_account":
                    continue
                if token_column:
                    batch_op.alter_column("session_token", nullable=False)
                    batch_op.create_unique_constraint(TOKEN_CONSTRAINT, ["session_token"])
                else:
                    batch_op.drop_constraint(TOKEN_CONSTRAINT, type_="unique")
                    batch_op.drop_column("session_token")
        broken = op.get_bind().execute(sa.text("PRAGMA foreign_key_check")).fetchall()
        if broken:
            raise RuntimeError(f"Foreign keys broken by the table rebuild: {broken[:5]}")
    finally:
        with context.autocommit_block():
            op.execute("PRAGMA foreign_keys=ON")
