"""The Pay by Invoice settlement steps table: every allocation and payment we mean to make.

A step is written (amount, target, ``Idempotency-Key``) and committed *before* its call to
Xero, so a worker killed in between leaves a ``sending`` step behind: the next run looks the
allocation or payment up in Xero before it sends anything again (``plugin/work/
settlement_steps.py``). One row per credit note (``allocation``) and per bill (``payment``);
``generation`` counts the sends, and every send has its own key.

Registered with the other tables by ``plugin.models`` (imported at its end).
"""

from __future__ import annotations

import enum
from datetime import date
from datetime import datetime
from decimal import Decimal

from sqlalchemy import UniqueConstraint
from sqlmodel import Field
from sqlmodel import SQLModel

from plugin.models import NEVER_REUSE_IDS
from plugin.models import _created
from plugin.models import _money
from plugin.models import _state
from plugin.models import _text
from plugin.models import _ts


class StepKind(enum.StrEnum):
    ALLOCATION = "allocation"  # a credit note's credit applied to the bill it refunds
    PAYMENT = "payment"  # the bill's payment from the mapped account


class StepState(enum.StrEnum):
    PLANNED = "planned"  # known (a payment: its date, the day Amazon was seen Closed), not sent
    SENDING = "sending"  # committed with amount and key; the call may or may not have happened
    DONE = "done"  # Xero has it (``xero_id``)
    REFUSED = "refused"  # Xero refused it (``message``); planned again on a later run


class SettlementStep(SQLModel, table=True):
    """One allocation or payment of a Pay by Invoice document, recorded before it is sent."""

    __tablename__ = "settlement_step"
    __table_args__ = (UniqueConstraint("kind", "entry_id"), NEVER_REUSE_IDS)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    kind: StepKind = _state(StepKind, None, 16)
    # The credit note's entry (allocation) or the bill's entry (payment).
    entry_id: int = Field(foreign_key="ledger_entry.id", ondelete="CASCADE")
    bill_entry_id: int = Field(foreign_key="ledger_entry.id", index=True, ondelete="CASCADE")
    state: StepState = _state(StepState, StepState.PLANNED, 16, index=True)
    amount: Decimal = _money()
    on_date: date | None = None  # the allocation's or payment's date (the org's calendar)
    account_code: str | None = Field(default=None, max_length=32)
    generation: int = 0  # sends so far; the key of send n ends in ``g<n>``
    idempotency_key: str | None = Field(default=None, max_length=128, unique=True)
    xero_id: str | None = Field(default=None, max_length=64)  # AllocationID / PaymentID
    message: str | None = _text()
    created_at: datetime = _created()
    sent_at: datetime | None = _ts()
    recorded_at: datetime | None = _ts()
