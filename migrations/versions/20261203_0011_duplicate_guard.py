"""The bank-feed duplicate guard (issue 14 point 1): ``ledger_entry.duplicate_of`` is the Xero
document a held card purchase may already be (one this app did not create: entered by hand, or
from the bank feed), and ``duplicate_cleared`` says the user answered "it is a different
purchase", so the guard never holds it again.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("ledger_entry", sa.Column("duplicate_of", sa.String(64), nullable=True))
    op.add_column(
        "ledger_entry",
        sa.Column("duplicate_cleared", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("ledger_entry") as batch:
        batch.drop_column("duplicate_cleared")
        batch.drop_column("duplicate_of")
