"""Building Xero ``where`` filters: quoting a value, and packing many clauses into as few
queries as fit a URL (a batch of 50 documents is looked up in one query)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from datetime import date
from datetime import datetime

WHERE_MAX_CHARS = 4000  # a ``where`` filter this long still fits a URL everywhere


def quote_where(value: str) -> str:
    """``value`` inside a double-quoted ``where`` string."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def joined_within(parts: list[str], separator: str, max_chars: int) -> Iterator[str]:
    """``parts`` joined by ``separator`` into as few strings as fit ``max_chars`` each (a part
    longer than that on its own is one string)."""
    current: list[str] = []
    length = 0
    for part in parts:
        extra = len(part) + (len(separator) if current else 0)
        if current and length + extra > max_chars:
            yield separator.join(current)
            current, length = [], 0
            extra = len(part)
        current.append(part)
        length += extra
    if current:
        yield separator.join(current)


def chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def xero_moment(moment: datetime) -> str:
    """A moment as ``If-Modified-Since`` takes it: UTC, to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def xero_date(day: date) -> str:
    """A date in a ``where`` filter: ``DateTime(2026,06,30)``."""
    return f"DateTime({day.year},{day.month:02d},{day.day:02d})"


def bank_account_window(account: str, start: date, end: date, live_only: bool = True) -> str:
    """Documents on one bank account (``code:<Code>`` or ``id:<AccountID>``, as
    ``posting.bank_feed.account_key`` writes it) dated start..end (only the live ones)."""
    kind, _, value = account.partition(":")
    on_account = (
        f'BankAccount.AccountID==guid("{quote_where(value)}")'
        if kind == "id"
        else f'BankAccount.Code=="{quote_where(value)}"'
    )
    live = ' AND Status=="AUTHORISED"' if live_only else ""
    return f"{on_account}{live} AND Date>={xero_date(start)} AND Date<={xero_date(end)}"
