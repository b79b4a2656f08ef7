"""Ledger entries for the tie-out report's tests, written straight into the ledger."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from plugin.models import LedgerEntry


def entry(
    db_session: Any,
    org: Any,
    tid: str,
    state: str,
    amount: str,
    when: datetime | None,
    reason_code: str | None = None,
    currency: str = "GBP",
    method: str | None = "Visa:4242",
    refund: bool = False,
) -> LedgerEntry:
    """One entry of ``org`` in ``state`` (committed)."""
    row = LedgerEntry(
        organisation_id=org.id,
        amazon_transaction_id=tid,
        transaction_type="REFUND" if refund else "CHARGE",
        transaction_date=when,
        amount=Decimal(amount),
        currency=currency,
        payment_method_key=method,
        state=state,
        reason_code=reason_code,
        reason=f"Because {reason_code}." if reason_code else None,
    )
    db_session.add(row)
    db_session.commit()
    return row
