"""The table of review decisions (``entry_review``): what the bookkeeper decided about one
entry in review mode (``plugin.ledger.review``): its coding, if they changed it (account, tax
rate and tracking per Amazon line item, ``plugin.posting.coding``), and when and by whom it was
approved.

An entry approved once stays approved: held later for a missing mapping, it posts by itself once
the mapping is fixed, without a second approval. Kept out of ``plugin.models`` only because that
module is at its size limit (``plugin.work.tables`` registers it with the others).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field
from sqlmodel import SQLModel

from plugin.models import NEVER_REUSE_IDS
from plugin.models import _created
from plugin.models import _json
from plugin.models import _ts


class EntryReview(SQLModel, table=True):
    """One entry's review: its coding override (None: as mapped) and its approval."""

    __tablename__ = "entry_review"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    entry_id: int = Field(foreign_key="ledger_entry.id", unique=True, ondelete="CASCADE")
    coding: dict[str, Any] | None = _json()  # plugin.posting.coding.Coding.as_json()
    coded_by: str | None = Field(default=None, max_length=255)
    coded_at: datetime | None = _ts()
    approved_by: str | None = Field(default=None, max_length=255)
    approved_at: datetime | None = _ts()
    created_at: datetime = _created()
