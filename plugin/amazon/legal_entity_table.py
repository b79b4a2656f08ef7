"""The table of legal entities (``legal_entity``): each legal entity an Amazon Business account
buys for, and the one Xero organisation that takes its purchases (issue 16 point 3).

One row per (account, legal entity), unique in the database: a legal entity is taken by at
most one organisation however many are connected to the account. ``organisation_id`` is None
while no organisation takes it (its purchases are then held where they were imported, with a
reason saying so: ``plugin.posting.legal_entities``). Deleting an organisation leaves its legal
entities untaken.

Kept out of ``plugin.models`` only because that module is at its size limit
(``plugin.work.tables`` registers it with the others).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field
from sqlmodel import SQLModel

from plugin.models import NEVER_REUSE_IDS
from plugin.models import _created
from plugin.models import _ts


class LegalEntity(SQLModel, table=True):
    """One legal entity of one Amazon Business account, and who takes it."""

    __tablename__ = "legal_entity"
    __table_args__ = (UniqueConstraint("account_key", "name"), NEVER_REUSE_IDS)

    id: int | None = Field(default=None, primary_key=True)
    # ``AmazonConnection.account_key`` of the account (shared by every org connected to it).
    account_key: str = Field(max_length=255, index=True)
    # ``legalEntityName`` as Amazon sends it, spaces tidied ("" for purchases naming none).
    name: str = Field(default="", max_length=255)
    organisation_id: int | None = Field(
        default=None, foreign_key="organisation.id", index=True, ondelete="SET NULL"
    )
    first_seen_at: datetime = _created()
    taken_at: datetime | None = _ts()
