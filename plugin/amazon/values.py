"""Strict readers for Amazon's wire values: money, tax rates, currency codes and date-times.

- Money amounts become ``Decimal``, never ``float``. Amazon documents them as strings
  (``"5.99"``, ``"-2.99"``); a string must be a plain decimal (optional sign, digits, optional
  fraction) and nothing else, so ``"5.99abc"``, ``"1e3"``, ``"NaN"``, ``"Infinity"`` and ``""`` are
  rejected. JSON numbers are tolerated (the Reporting API sends numbers): integers exactly, and
  finite floats through their shortest repr (``5.99`` -> ``Decimal("5.99")``); booleans are not
  numbers. Precision is kept as sent; ``plugin.posting`` refuses sub-cent amounts.
- Tax rates (``taxRate``, ``shipTaxRate``, ``giftWrapTaxRate``) are fractions as strings
  (``"0.20"``) and become ``Decimal`` with the same strictness; they must not be negative.
- Date-times must be ISO 8601 with a time zone (``Z`` or ``±hh:mm``), with or without fractional
  seconds (any number of digits; beyond microseconds they are truncated), and become aware
  ``datetime`` objects. A date-time without a zone is rejected: its instant would be a guess.

The ``Annotated`` types (``AmountDecimal``, ``RateDecimal``, ``CurrencyCode``, ``AwareDatetime``)
plug these readers into the pydantic models of ``plugin.amazon.models``.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from decimal import Decimal
from decimal import InvalidOperation
from typing import Annotated

from pydantic import BeforeValidator

_DECIMAL_TEXT = re.compile(r"[+-]?\d+(\.\d+)?")
_ISO_DATETIME = re.compile(
    r"(?P<base>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?)"
    r"(\.(?P<fraction>\d+))?"
    r"(?P<zone>Z|z|[+-]\d{2}:?\d{2})"
)
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
_MAX_REPR = 60


def show(value: object) -> str:
    """Return a short repr of a bad value for a human-readable reason (a ``Decimal`` as its
    digits: the preview reads JSON numbers with a fraction as ``Decimal``)."""
    text = str(value) if isinstance(value, Decimal) else repr(value)
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 3] + "..."


def parse_decimal(value: object, what: str = "an amount") -> Decimal:
    """Return ``value`` as a finite ``Decimal``; raise ``ValueError`` naming it otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"{show(value)} is not {what}")
    if isinstance(value, Decimal) and value.is_finite():  # JSON read with exact numbers
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{show(value)} is not {what}")
        return Decimal(repr(value))
    if isinstance(value, str) and _DECIMAL_TEXT.fullmatch(value):
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid text
            pass
    raise ValueError(f"{show(value)} is not {what}")


def _amount(value: object) -> Decimal:
    return parse_decimal(value, "an amount")


def _rate(value: object) -> Decimal:
    rate = parse_decimal(value, "a tax rate")
    if rate < 0:
        raise ValueError(f"{show(value)} is not a tax rate (negative)")
    return rate


def _currency(value: object) -> str:
    if isinstance(value, str) and _CURRENCY_CODE.fullmatch(value):
        return value
    raise ValueError(f"{show(value)} is not a currency code (three capital letters)")


def parse_datetime(value: object) -> datetime:
    """Return an aware ``datetime`` from ISO 8601 text with ``Z`` or an offset."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{show(value)} has no time zone")
        return value
    if not isinstance(value, str):
        raise ValueError(f"{show(value)} is not a date-time")
    match = _ISO_DATETIME.fullmatch(value)
    if match is None:
        raise ValueError(f"{show(value)} is not an ISO 8601 date-time with a time zone")
    fraction = (match["fraction"] or "")[:6]
    zone = "+00:00" if match["zone"] in ("Z", "z") else match["zone"]
    text = match["base"] + (f".{fraction.ljust(6, '0')}" if fraction else "") + zone
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{show(value)} is not a valid date-time") from None


AmountDecimal = Annotated[Decimal, BeforeValidator(_amount)]
RateDecimal = Annotated[Decimal, BeforeValidator(_rate)]
CurrencyCode = Annotated[str, BeforeValidator(_currency)]
AwareDatetime = Annotated[datetime, BeforeValidator(parse_datetime)]
