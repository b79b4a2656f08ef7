"""Which purchases belong to an import's range: fetched by feed date, judged by transaction date.

Amazon's ``getTransactions`` filters by ``feedDate``, and a feed date can trail the purchase's
``transactionDate`` by months (spec §9 item 6). An import a person asks for (the history import,
a manual import) is a range of *purchase* dates, so:

- ``feed_window`` reads feed dates from the range's start up to now: a feed date is never
  before its transaction date, so every purchase dated in the range is in that window, however
  late Amazon fed it;
- ``keep_in_range`` keeps what belongs to the range: transactions dated in it, and anything we
  cannot date (unreadable or undated transactions are recorded and held, never dropped). The
  others are dated outside the range: they belong to another range's import, are not recorded
  or counted by this one, and are returned so the import can say how many it left.

A scheduled sync is a feed window (everything Amazon fed since the last sync): it keeps all.

The rule for a range a person asks for (``range_rule``, ``validate_range``) is here too.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time

from plugin.amazon.models import ParseFailure
from plugin.amazon.models import Transaction
from plugin.amazon.models import TransactionsPage
from plugin.models import ImportRun
from plugin.models import ImportTrigger
from plugin.models import utcnow

# One rule for every import a person asks for (Manage's form, the wizard, the CLI): Amazon
# Business opened on 28 April 2015, so nothing is dated before it, and one import covers at most
# a year (Amazon's own reporting ranges stop at 366 days; a longer range is several imports).
EARLIEST_IMPORT_DATE = date(2015, 4, 28)
MAX_IMPORT_DAYS = 366


class ImportRangeError(ValueError):
    """The requested import range is not allowed; the message is fit to show the user."""


def range_rule() -> str:
    """The rule for requested ranges, in words for the import forms (the wizard's and Manage's
    say the same sentence)."""
    return (
        f"Any dates from {EARLIEST_IMPORT_DATE.day} {EARLIEST_IMPORT_DATE:%b %Y} (when Amazon "
        f"Business opened) to today, at most {MAX_IMPORT_DAYS} days in one import."
    )


def check_requested_range(start: date, end: date) -> None:
    """ImportRangeError when a range a person asked for breaks the rule of ``range_rule``."""
    if start < EARLIEST_IMPORT_DATE:
        raise ImportRangeError(
            f"Amazon Business has no purchases before "
            f"{EARLIEST_IMPORT_DATE.strftime('%-d %B %Y')}: choose a start on or after that day."
        )
    days = (end - start).days + 1
    if days > MAX_IMPORT_DAYS:
        raise ImportRangeError(
            f"That range is {days} days; one import covers at most {MAX_IMPORT_DAYS}. "
            "Import it in parts of a year or less."
        )


def validate_range(start: date, end: date, trigger: str, today: date) -> tuple[datetime, datetime]:
    """The feed-date window for a requested range of days (end inclusive), or ImportRangeError."""
    if start > end:
        raise ImportRangeError("The start date is after the end date.")
    if end > today:
        raise ImportRangeError("The end date is in the future.")
    if trigger != ImportTrigger.SCHEDULED:  # the wizard's history and Manage: one rule
        check_requested_range(start, end)
    window_start = datetime.combine(start, time.min, tzinfo=UTC)
    window_end = min(datetime.combine(end, time.max, tzinfo=UTC), utcnow())
    return window_start, window_end


def judged_by_transaction_date(run: ImportRun) -> bool:
    """Whether the run's range is one of purchase dates (a person's import), not a feed window."""
    return run.trigger != ImportTrigger.SCHEDULED


def feed_window(run: ImportRun, now: datetime) -> tuple[datetime, datetime]:
    """The feed dates to read for ``run``: from its start to ``now`` for a person's import."""
    if judged_by_transaction_date(run):
        return run.range_start, max(run.range_end, now)
    return run.range_start, run.range_end


def in_range(item: Transaction | ParseFailure, start: datetime, end: datetime) -> bool:
    """Whether ``item`` belongs to ``start``..``end`` (undatable items always do)."""
    if isinstance(item, ParseFailure) or item.transaction_date is None:
        return True
    return start <= item.transaction_date <= end


def keep_in_range(
    page: TransactionsPage, start: datetime, end: datetime
) -> tuple[TransactionsPage, tuple[Transaction, ...]]:
    """The page with only what belongs to ``start``..``end``, and the transactions left out."""
    items = page.in_order or (*page.transactions, *page.failures)
    kept = tuple(item for item in items if in_range(item, start, end))
    left = tuple(
        item for item in items if isinstance(item, Transaction) and not in_range(item, start, end)
    )
    filtered = replace(
        page,
        transactions=tuple(item for item in kept if isinstance(item, Transaction)),
        failures=tuple(item for item in kept if isinstance(item, ParseFailure)),
        in_order=kept,
    )
    return filtered, left
