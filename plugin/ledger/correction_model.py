"""The table of corrections (``correction``): one row per change this app makes, or declines to
make, to a document it posted: Amazon changing or cancelling a posted transaction, and (later)
a rolled-back run or a corrected mapping (``plugin.ledger.corrections``).

Kept out of ``plugin.models`` only because that module is at its size limit; ``plugin.models``
imports this module at its end, so importing it still registers every table. Like a posting
batch, the row is the change's intent: the exact body and its ``Idempotency-Key`` are committed
(``sent``) before the call, so a worker killed between Xero's answer and our commit leaves it
``sent``, and the next run reads the document in Xero before anything is sent again. The row
is also the entry's audit trail of changes: who asked, when, the versions before and after.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlmodel import Field
from sqlmodel import SQLModel

from plugin.models import NEVER_REUSE_IDS
from plugin.models import _created
from plugin.models import _json
from plugin.models import _state
from plugin.models import _text
from plugin.models import _ts


class CorrectionState(enum.StrEnum):
    PENDING = "pending"  # recorded, not sent (waits for the next posting run)
    SENT = "sent"  # request on the wire: outcome unknown until recorded
    APPLIED = "applied"  # Xero holds the new version (or voided/deleted the document)
    HELD = "held"  # not applied: reconciled, paid, refused... the bookkeeper decides
    SUPERSEDED = "superseded"  # a later change of the same entry replaced it before it was sent


class CorrectionCause(enum.StrEnum):
    AMAZON_CHANGED = "amazon_changed"  # a later feed changed the amount or the lines
    AMAZON_CANCELLED = "amazon_cancelled"  # a later feed cancelled the charge
    ROLLBACK = "rollback"  # a person rolled back the run that posted it
    REMAP = "remap"  # a person corrected it after a mapping change


class Correction(SQLModel, table=True):
    """One change to one posted document, from intent to Xero's answer."""

    __tablename__ = "correction"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    ledger_entry_id: int = Field(foreign_key="ledger_entry.id", index=True, ondelete="CASCADE")
    cause: CorrectionCause = _state(CorrectionCause, None, 32)
    action: str | None = Field(default=None, max_length=16)  # update | void | delete
    actor: str = Field(default="", max_length=255)  # who asked: the Amazon feed, or a person
    endpoint: str | None = Field(default=None, max_length=32)
    xero_document_id: str | None = Field(default=None, max_length=64)
    before_payload: dict[str, Any] | None = _json(dict)  # Amazon's version as posted
    after_payload: dict[str, Any] | None = _json(dict)  # Amazon's new version
    after_hash: str = Field(default="", max_length=64)
    before_document: dict[str, Any] | None = _json(dict)  # the Xero document as read before
    body: dict[str, Any] | None = _json(dict)  # exactly what was (or is to be) sent
    after_document: dict[str, Any] | None = _json(dict)  # the Xero document as it came back
    idempotency_key: str | None = Field(default=None, max_length=64, index=True)
    state: CorrectionState = _state(CorrectionState, CorrectionState.PENDING, 16, index=True)
    attempts: int = 0
    answered: bool = False  # the last send got an answer from Xero (a 500): look it up at once
    reason: str | None = _text()  # why it is held, in plain words, with what to do
    import_run_id: int | None = Field(default=None, index=True)  # the import run rolled back
    posting_run_id: int | None = Field(default=None, index=True)  # the posting run rolled back
    hold_after: bool = False  # a rollback: the entry is held afterwards, not posted again
    created_at: datetime = _created()
    sent_at: datetime | None = _ts()
    recorded_at: datetime | None = _ts()
