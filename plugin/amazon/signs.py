"""Refund signs: Amazon writes refund amounts both negative and positive (spec §9 item 4).

Amazon's model says refunds carry negative amounts; production feeds send them positive too.
The sign therefore comes from ``transactionType`` and the size from the number: a CHARGE is
money out (positive), a REFUND or OVERREFUND money back (negative in Amazon's documented
spelling). ``documented_amount`` writes any amount in that one spelling, so two spellings of
the same refund look the same wherever we show or compare amounts.
"""

from __future__ import annotations

from decimal import Decimal

REFUND_TYPES = frozenset({"REFUND", "OVERREFUND"})
"""The ``transactionType`` values whose money comes back to the buyer."""


def is_refund(transaction_type: str | None) -> bool:
    """Whether ``transactionType`` is a refund (REFUND or OVERREFUND)."""
    return transaction_type in REFUND_TYPES


def documented_amount(transaction_type: str | None, amount: Decimal) -> Decimal:
    """``amount`` in Amazon's documented spelling: negative for refunds, as sent otherwise."""
    return -abs(amount) if is_refund(transaction_type) else amount
