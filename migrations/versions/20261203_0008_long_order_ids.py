"""Order ids and invoice numbers up to 255 characters (Amazon spec, December 2026).

``ledger_entry.order_id`` and ``invoice_number`` were 64 characters: PostgreSQL refused a
longer id at import (SQLite does not enforce lengths). Batch mode, so SQLite copies the table.

Revision ID: 0008
Revises: 0007_settle
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007_settle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("order_id", "invoice_number")


def _resize(old: int, new: int) -> None:
    """PostgreSQL alters the columns in place; SQLite copies the table (batch mode), with
    AUTOINCREMENT kept and foreign keys off meanwhile, so the copy cascades into no child row
    (as migration 0004 does)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        for name in COLUMNS:
            op.alter_column(
                "ledger_entry", name, existing_type=sa.String(old), type_=sa.String(new)
            )
        return
    context = op.get_context()
    with context.autocommit_block():  # the pragma is ignored inside a transaction
        op.execute("PRAGMA foreign_keys=OFF")
    try:
        with op.batch_alter_table(
            "ledger_entry", recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ) as batch:
            for name in COLUMNS:
                batch.alter_column(name, existing_type=sa.String(old), type_=sa.String(new))
        broken = bind.execute(sa.text("PRAGMA foreign_key_check")).fetchall()
        if broken:
            raise RuntimeError(f"Foreign keys broken by the table rebuild: {broken[:5]}")
    finally:
        with context.autocommit_block():
            op.execute("PRAGMA foreign_keys=ON")


def upgrade() -> None:
    _resize(64, 255)


def downgrade() -> None:
    _resize(255, 64)
