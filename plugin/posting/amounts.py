"""Amounts: the ``Decimal`` constants, one Amazon line item's amounts in document sign, and how
amounts and rates are written in reasons and descriptions."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from plugin.amazon.models import Money
from plugin.amazon.models import TransactionLineItem

CENT: Final = Decimal("0.01")
ZERO: Final = Decimal(0)
HUNDRED: Final = Decimal(100)
MAX_AMOUNT: Final = Decimal(10) ** 11


def money_text(amount: Decimal) -> str:
    """``Decimal("7.2")`` -> ``"7.20"``."""
    return f"{amount.quantize(CENT):,.2f}".replace(",", "")


def percent_text(rate: Decimal) -> str:
    """Amazon fraction -> ``"7.25%"`` / ``"20%"``."""
    value = (rate * HUNDRED).normalize()
    return f"{value:f}%"


@dataclass(frozen=True)
class Components:
    """One Amazon line item's amounts, already in document sign (refunds made positive)."""

    principal: Decimal
    shipping: Decimal
    gift_wrap: Decimal
    regulatory_fee: Decimal
    discount: Decimal
    tax: Decimal

    @property
    def net(self) -> Decimal:
        """Everything but tax."""
        return (
            self.principal + self.shipping + self.gift_wrap + self.regulatory_fee + (self.discount)
        )

    @property
    def total(self) -> Decimal:
        """Everything including tax."""
        return self.net + self.tax


def _signed(money: Money | None, factor: Decimal) -> Decimal:
    return ZERO if money is None else money.amount * factor


def components_of(item: TransactionLineItem, factor: Decimal) -> Components:
    """Return the line item's amounts in document sign (missing ones are zero)."""
    return Components(
        principal=_signed(item.principal_amount, factor),
        shipping=_signed(item.shipping_charge, factor),
        gift_wrap=_signed(item.gift_wrapping_charge, factor),
        regulatory_fee=_signed(item.regulatory_fee, factor),
        discount=_signed(item.discount, factor),
        tax=_signed(item.tax, factor),
    )
