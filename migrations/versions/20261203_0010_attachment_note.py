"""``ledger_entry.attachment_note``: what became of the entry's Amazon document, in words.

Why a document was not attached (an archive that is not a PDF, a corrupt ZIP: Amazon spec,
December 2026, item 3), or what was attached instead of a tax invoice ("Order summary (not a
tax invoice)", item 2). Shown on the entry page next to ``attachment_state``.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("ledger_entry", sa.Column("attachment_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_entry") as batch:
        batch.drop_column("attachment_note")
