"""Date-time parsing and formatting in the shapes Amazon Business uses."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime

# ISO 8601 date-time with a zone designator (Z or ±hh:mm); fraction optional.
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$")


def parse_iso(value: str) -> datetime | None:
    """Parse an ISO-8601 date-time that carries a zone; None when it is not one."""
    if not _ISO_DATETIME.match(value):
        return None
    try:
        return datetime.fromisoformat(value).astimezone(UTC)
    except ValueError:
        return None


def iso_ms(moment: datetime) -> str:
    """``2025-03-04T10:15:42.120Z`` (transaction and feed dates)."""
    m = moment.astimezone(UTC)
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
        f".{m.microsecond // 1000:03d}Z"
    )


def iso_s(moment: datetime) -> str:
    """``2025-03-04T10:15:42Z`` (shipment dates, reports, due dates)."""
    m = moment.astimezone(UTC)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"
