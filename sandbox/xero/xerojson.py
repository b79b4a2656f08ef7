"""Xero's JSON conventions: MS-JSON dates, response envelopes and error bodies."""

from __future__ import annotations

import re
import uuid
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from typing import Any

from sandbox.xero.seed import PROVIDER_NAME

MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?")


def ms_date(day: date) -> str:
    """A calendar date as Xero writes it: ``/Date(1746057600000+0000)/`` (midnight UTC)."""
    moment = datetime.combine(day, time(0), tzinfo=UTC)
    return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


def ms_datetime(moment: datetime) -> str:
    """A UTC timestamp as Xero writes it, with milliseconds."""
    return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


def date_string(day: date) -> str:
    """The ``DateString`` companion of a date field: ``2026-05-01T00:00:00``."""
    return f"{day.isoformat()}T00:00:00"


def utc_string(moment: datetime) -> str:
    """The ``UpdatedDateUTCString`` form: ``2026-05-01 10:00:00+00:00``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S+00:00")


def parse_date(value: Any) -> date | None:
    """A request date (``YYYY-MM-DD``, ISO date-time or ``/Date(ms)/``), or None if unreadable."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = MS_DATE.match(text)
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC).date()
    match = ISO_DATE.match(text)
    if match:
        try:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            return None
    return None


def parse_ms_moment(value: str) -> datetime | None:
    """The moment an MS-JSON date string stands for, or None."""
    match = MS_DATE.match(value)
    if not match:
        return None
    return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC)


def envelope(now: datetime, key: str, items: list[Any], **extra: Any) -> dict[str, Any]:
    """Xero's response wrapper: ``{"Id", "Status", "ProviderName", "DateTimeUTC", key: items}``."""
    body: dict[str, Any] = {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": PROVIDER_NAME,
        "DateTimeUTC": f"/Date({int(now.timestamp() * 1000)})/",
    }
    body.update(extra)
    body[key] = items
    return body


def validation_exception(elements: list[dict[str, Any]]) -> dict[str, Any]:
    """The 400 body for a request with invalid elements (summarizeErrors=true)."""
    return {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": elements,
    }


def problem(status: int, title: str, detail: str) -> dict[str, Any]:
    """Xero's problem body for 401/403/500: ``{"Type": null, "Title", "Status", "Detail"}``."""
    return {
        "Type": None,
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": str(uuid.uuid4()),
        "Extensions": {},
    }
