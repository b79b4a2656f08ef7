"""Entries findable by the people who bought (issue 16 point 2): ``ledger_entry`` gains
``purchase_orders`` (the buyer's purchase order numbers of the lines, distinct, space
separated) and ``buyer_name`` (Amazon's ``buyer.name``), which the entries list filters by.
Existing entries are filled in from their stored Amazon payload, a thousand at a time.

Tracking categories need no schema: they are ``mapping`` rows (``plugin.mapping.tracking_rows``).

Revision ID: 0016
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
LIMIT = 255


def _purchase_orders(payload: dict[str, Any]) -> str | None:
    lines = payload.get("transactionLineItems") or []
    numbers = dict.fromkeys(
        str(line.get("purchaseOrderNumber") or "").strip()
        for line in lines
        if isinstance(line, dict)
    )
    text = ""
    for number in (n for n in numbers if n):
        candidate = f"{text} {number}".strip()
        if len(candidate) > LIMIT:
            break
        text = candidate
    return text or None


def _buyer(payload: dict[str, Any]) -> str | None:
    buyer = payload.get("buyer")
    name = buyer.get("name") if isinstance(buyer, dict) else None
    return str(name).strip()[:LIMIT] or None if isinstance(name, str) else None


def upgrade() -> None:
    with op.batch_alter_table("ledger_entry") as batch:
        batch.add_column(sa.Column("purchase_orders", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("buyer_name", sa.String(length=255), nullable=True))
    entries = sa.table(
        "ledger_entry",
        sa.column("id", sa.Integer),
        sa.column("raw_payload", sa.JSON),
        sa.column("purchase_orders", sa.String),
        sa.column("buyer_name", sa.String),
    )
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(entries.c.id, entries.c.raw_payload)
            .where(entries.c.id > last)
            .order_by(entries.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for entry_id, payload in rows:
            if isinstance(payload, dict):
                values = {
                    "purchase_orders": _purchase_orders(payload),
                    "buyer_name": _buyer(payload),
                }
                if any(values.values()):
                    connection.execute(
                        entries.update().where(entries.c.id == entry_id).values(**values)
                    )
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("ledger_entry") as batch:
        batch.drop_column("buyer_name")
        batch.drop_column("purchase_orders")
