"""entry_review: review before posting (issue 16 point 4)

Revision ID: 0019
Revises: 0018

``entry_review`` (``plugin.ledger.review_model``): per ledger entry, the coding the bookkeeper
chose for it in review (account, tax rate, tracking per Amazon line item; JSON) and when and by
whom it was approved. The review state itself is a new value of ``ledger_entry.state``
(``review``, a ``VARCHAR(16)``: no schema change), counted by the ``ledger_count`` triggers of
0017 like every other state; ``ledger_entry`` is not rebuilt. The organisation's posting mode
is a key of ``organisation.settings`` (JSON). A new table: nothing to migrate in existing rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import plugin.models

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "entry_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("coding", sa.JSON(), nullable=True),
        sa.Column("coded_by", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("coded_at", plugin.models.UTCDateTime(), nullable=True),
        sa.Column("approved_by", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("approved_at", plugin.models.UTCDateTime(), nullable=True),
        sa.Column("created_at", plugin.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["ledger_entry.id"],
            name=op.f("fk_entry_review_entry_id_ledger_entry"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_entry_review_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_review")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_entry_review_entry_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_entry_review_organisation_id"), "entry_review", ["organisation_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_entry_review_organisation_id"), table_name="entry_review")
    op.drop_table("entry_review")
