"""Xero's own exchange rates, as the sandbox gives them: a deterministic table per day.

Xero converts a foreign-currency document or payment at the ``CurrencyRate`` sent with it, else
at its own rate for the document's (or payment's) date (XE.com's day rate in the real service).
A rate is Xero's way round: units of the foreign currency for one unit of the base currency
(a GBP org's EUR bill at 1.170000 means 1 GBP = 1.17 EUR), six decimal places; an amount in
the base currency is the foreign amount divided by the rate, to the cent.

The table is a fixed value per currency (units per US dollar) moved by at most 0.5 % a day by a
hash of the date, so tests can compute the rate Xero would use without the sandbox sharing our
assumptions about it.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import ROUND_HALF_UP
from decimal import Decimal

PER_USD: dict[str, Decimal] = {
    "USD": Decimal("1"),
    "GBP": Decimal("0.79"),
    "EUR": Decimal("0.92"),
    "CAD": Decimal("1.36"),
    "AUD": Decimal("1.52"),
    "NZD": Decimal("1.65"),
    "JPY": Decimal("150"),
}
RATE_PLACES = Decimal("0.000001")
CENT = Decimal("0.01")


def _units_per_usd(code: str, day: date) -> Decimal:
    base = PER_USD.get(code.upper(), Decimal("1"))
    digest = hashlib.sha256(f"{code.upper()}:{day.isoformat()}".encode()).digest()
    wobble = Decimal(int.from_bytes(digest[:4], "big") % 1001 - 500) / Decimal(100_000)
    return base * (1 + wobble)


def xero_rate(base: str, currency: str, day: date) -> Decimal:
    """Units of ``currency`` for one ``base`` on ``day`` (1 when they are the same)."""
    if base.upper() == currency.upper():
        return Decimal(1)
    rate = _units_per_usd(currency, day) / _units_per_usd(base, day)
    return rate.quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def to_base(amount: Decimal, rate: Decimal) -> Decimal:
    """A foreign amount in the base currency at ``rate``, to the cent (halves away from zero)."""
    return (amount / rate).quantize(CENT, rounding=ROUND_HALF_UP)
