"""Xero's dates, parsed in one place: ``/Date(ms+hhmm)/`` (the JSON API's form, offset kept) and
ISO ``2026-01-31`` / ``2026-01-31T00:00:00``. Pure: no Flask, no HTTP."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_WCF_DATE = re.compile(r"/Date\((?P<millis>-?\d+)(?:(?P<sign>[+-])(?P<hh>\d\d)(?P<mm>\d\d))?\)/")


def xero_date(value: object) -> date:
    """The calendar date of a Xero date; ``ValueError`` for anything else.

    ``/Date(1769817600000+0000)/`` is milliseconds since the epoch (UTC, negative before 1970)
    and the offset of the zone the date belongs to: the date is the one at that offset, so
    ``/Date(1769810400000+1300)/`` is 2026-01-31. Without an offset it is the UTC date. ISO
    dates and datetimes give the date as written.
    """
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a Xero date")
    text = value.strip()
    match = _WCF_DATE.fullmatch(text)
    if match is not None:
        offset = 0
        if match["sign"]:
            offset = int(match["hh"]) * 60 + int(match["mm"])
            offset = -offset if match["sign"] == "-" else offset
        try:
            moment = _EPOCH + timedelta(milliseconds=int(match["millis"]), minutes=offset)
        except OverflowError:
            raise ValueError(f"{value!r} is not a Xero date") from None
        return moment.date()
    if text.startswith("/Date("):
        raise ValueError(f"{value!r} is not a Xero date")
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise ValueError(f"{value!r} is not a Xero date") from None


def optional_xero_date(value: object) -> date | None:
    """``xero_date`` for a field Xero may leave out: ``None`` when absent or empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return xero_date(value)
