"""The table of card-bill payments (``card_payment``): one row per posted card bill or credit
note, the payment it needs and what Xero answered (``plugin.work.card_bill_payments``).

Kept out of ``plugin.models`` only because that module is at its size limit; ``plugin.models``
imports this module at its end, so importing it still registers every table. The row is the
payment's intent, committed with its call's ``Idempotency-Key`` before the call: a worker killed
between Xero's answer and our commit leaves it ``sent``, and the next run looks the payment up
on the document in Xero before sending anything again.
"""

from __future__ import annotations

import enum
from datetime import date
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column
from sqlalchemy import Numeric
from sqlmodel import Field
from sqlmodel import SQLModel

from plugin.models import NEVER_REUSE_IDS
from plugin.models import _created
from plugin.models import _json
from plugin.models import _money
from plugin.models import _state
from plugin.models import _text
from plugin.models import _ts


class CardPaymentState(enum.StrEnum):
    PENDING = "pending"  # committed, not sent
    SENT = "sent"  # request on the wire: outcome unknown until recorded
    PAID = "paid"  # Xero's payment id, rate and bank amount stored
    REFUSED = "refused"  # Xero refused it (the reason says why); paid by hand in Xero


class CardPayment(SQLModel, table=True):
    """The payment of one card bill (or refund of one card credit note) from the card account."""

    __tablename__ = "card_payment"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    ledger_entry_id: int = Field(
        foreign_key="ledger_entry.id", unique=True, index=True, ondelete="CASCADE"
    )
    target: str = Field(max_length=16)  # Invoices | CreditNotes
    xero_document_id: str = Field(max_length=64)
    account: dict[str, Any] | None = _json(dict)  # {"AccountID": ...} or {"Code": ...}
    payment_date: date
    amount: Decimal = _money()  # in the document's currency
    currency: str = Field(max_length=3)
    account_currency: str = Field(max_length=3)
    reference: str = Field(default="", max_length=255)
    idempotency_key: str = Field(max_length=64, index=True)  # one per call of up to 50 payments
    state: CardPaymentState = _state(CardPaymentState, CardPaymentState.PENDING, 16, index=True)
    attempts: int = 0
    xero_payment_id: str | None = Field(default=None, max_length=64)
    currency_rate: Decimal | None = Field(
        default=None, sa_column=Column(Numeric(18, 6), nullable=True)
    )
    bank_amount: Decimal | None = Field(
        default=None, sa_column=Column(Numeric(18, 2), nullable=True)
    )
    reason: str | None = _text()
    created_at: datetime = _created()
    sent_at: datetime | None = _ts()
    recorded_at: datetime | None = _ts()
