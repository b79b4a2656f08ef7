"""corrections: one row per change made (or declined) to a document this app posted

Revision ID: 0013
Revises: 0017

``correction`` (``plugin.ledger.correction_model``): Amazon changing or cancelling a posted
transaction, a rolled-back run; the exact body and its Idempotency-Key committed before the
call, the Xero document before and after, who asked and when (the entry's audit trail of
changes). A new table: nothing to migrate in existing rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import plugin.models

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("ledger_entry_id", sa.Integer(), nullable=False),
        sa.Column("cause", _text(32), nullable=False),
        sa.Column("action", _text(16), nullable=True),
        sa.Column("actor", _text(255), nullable=False),
        sa.Column("endpoint", _text(32), nullable=True),
        sa.Column("xero_document_id", _text(64), nullable=True),
        sa.Column("before_payload", sa.JSON(), nullable=True),
        sa.Column("after_payload", sa.JSON(), nullable=True),
        sa.Column("after_hash", _text(64), nullable=False),
        sa.Column("before_document", sa.JSON(), nullable=True),
        sa.Column("body", sa.JSON(), nullable=True),
        sa.Column("after_document", sa.JSON(), nullable=True),
        sa.Column("idempotency_key", _text(64), nullable=True),
        sa.Column("state", _text(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("import_run_id", sa.Integer(), nullable=True),
        sa.Column("created_at", plugin.models.UTCDateTime(), nullable=False),
        sa.Column("sent_at", plugin.models.UTCDateTime(), nullable=True),
        sa.Column("recorded_at", plugin.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ledger_entry_id"],
            ["ledger_entry.id"],
            name=op.f("fk_correction_ledger_entry_id_ledger_entry"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_correction_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_correction")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("correction", schema=None) as batch_op:
        for column in ("organisation_id", "ledger_entry_id", "idempotency_key", "state"):
            batch_op.create_index(batch_op.f(f"ix_correction_{column}"), [column], unique=False)
        batch_op.create_index(
            batch_op.f("ix_correction_import_run_id"), ["import_run_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("correction")
