"""``ledger_entry.charge_identifier``: Amazon's ``chargeIdentifier``, the key of the card
statement line a transaction is (North America and Europe, card payments; Amazon spec,
December 2026). Existing rows take it from their stored payload (portable: no JSON SQL).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("ledger_entry", sa.Column("charge_identifier", sa.String(255), nullable=True))
    entries = sa.table(
        "ledger_entry",
        sa.column("id", sa.Integer()),
        sa.column("raw_payload", sa.JSON()),
        sa.column("charge_identifier", sa.String(255)),
    )
    bind = op.get_bind()
    for entry_id, payload in bind.execute(sa.select(entries.c.id, entries.c.raw_payload)).all():
        value = payload.get("chargeIdentifier") if isinstance(payload, dict) else None
        if isinstance(value, str) and value:
            bind.execute(
                entries.update()
                .where(entries.c.id == entry_id)
                .values(charge_identifier=value[:255])
            )


def downgrade() -> None:
    with op.batch_alter_table("ledger_entry") as batch:
        batch.drop_column("charge_identifier")
