"""``ix_ledger_entry_state_date`` (organisation, state, transaction_date, id) replaces
``ix_ledger_entry_org_state`` (its first two columns): the entries list of Manage Integrations
is sorted by purchase date, newest first, one index range scan per state (issue 15 point 4).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["organisation_id", "state", "transaction_date", "id"]


def upgrade() -> None:
    with op.batch_alter_table("ledger_entry") as batch:
        batch.create_index("ix_ledger_entry_state_date", COLUMNS, unique=False)
        batch.drop_index("ix_ledger_entry_org_state")


def downgrade() -> None:
    with op.batch_alter_table("ledger_entry") as batch:
        batch.create_index("ix_ledger_entry_org_state", COLUMNS[:2], unique=False)
        batch.drop_index("ix_ledger_entry_state_date")
