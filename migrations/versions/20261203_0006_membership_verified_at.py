"""Membership.verified_at: when Xero's /connections last still granted the membership.

Set at creation, at each sign-in and by the daily membership check; the digest goes only to
members verified within ``plugin.notify.digest.MEMBERSHIP_TRUSTED_DAYS``. Existing rows take
their ``created_at`` (the last time they were known to be granted).

Revision ID: 0006
Revises: 0005_fx
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import plugin.models

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005_fx"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("membership") as batch:
        batch.add_column(sa.Column("verified_at", plugin.models.UTCDateTime(), nullable=True))
    op.execute("UPDATE membership SET verified_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("membership") as batch:
        batch.drop_column("verified_at")
