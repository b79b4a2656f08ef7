"""legal entities: which Xero organisation takes each legal entity of an Amazon Business account

Revision ID: 0018
Revises: 0016

``legal_entity`` (``plugin.amazon.legal_entity_table``, issue 16 point 3): one row per (Amazon
Business account, legal entity), unique, with the one organisation that takes it (or none).
A new table: existing organisations get their rows at their next import (an organisation alone
on its account takes every legal entity it sees, as before); until then nothing changes for them
(``plugin.amazon.legal_entities.scope_for`` applies no rule to an account without rows).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import plugin.models

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "legal_entity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_key", _text(255), nullable=False),
        sa.Column("name", _text(255), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("first_seen_at", plugin.models.UTCDateTime(), nullable=False),
        sa.Column("taken_at", plugin.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_legal_entity_organisation_id_organisation"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_entity")),
        sa.UniqueConstraint("account_key", "name", name=op.f("uq_legal_entity_account_key_name")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("legal_entity", schema=None) as batch_op:
        for column in ("account_key", "organisation_id"):
            batch_op.create_index(batch_op.f(f"ix_legal_entity_{column}"), [column], unique=False)


def downgrade() -> None:
    op.drop_table("legal_entity")
