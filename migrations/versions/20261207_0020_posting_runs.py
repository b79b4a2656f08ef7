"""posting runs: a row per posting run that sent something to Xero, so it can be rolled back

Revision ID: 0020
Revises: 0019

``posting_run`` (``plugin.ledger.posting_run_model``): what started the run, its state and
counts; its batches name it in their request summary. ``correction`` gains ``posting_run_id``
(the posting run a rollback correction undoes, as ``import_run_id`` for an import) and
``hold_after`` (the rollback holds the entry afterwards instead of letting it post again).
Existing rows: corrections are of no posting run and hold nothing afterwards; past posting
runs left no record, so none is made for them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import plugin.models

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "posting_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("cause", _text(16), nullable=False),
        sa.Column("rq_job_id", _text(128), nullable=True),
        sa.Column("state", _text(16), nullable=False),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.Column("posted", sa.Integer(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", plugin.models.UTCDateTime(), nullable=False),
        sa.Column("started_at", plugin.models.UTCDateTime(), nullable=True),
        sa.Column("finished_at", plugin.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_posting_run_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posting_run")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_posting_run_organisation_id"), "posting_run", ["organisation_id"], unique=False
    )
    # Plain ADD COLUMN on both databases: ``correction`` has no triggers to recreate.
    op.add_column("correction", sa.Column("posting_run_id", sa.Integer(), nullable=True))
    op.add_column(
        "correction",
        sa.Column("hold_after", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index(
        op.f("ix_correction_posting_run_id"), "correction", ["posting_run_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_correction_posting_run_id"), table_name="correction")
    with op.batch_alter_table("correction") as batch:
        batch.drop_column("hold_after")
        batch.drop_column("posting_run_id")
    op.drop_index(op.f("ix_posting_run_organisation_id"), table_name="posting_run")
    op.drop_table("posting_run")
