"""The tie-out report (issue 16 point 5), pure: per month (in the organisation's time zone), per
payment method and currency, Amazon's total against what is in Xero (posted by this app, posted
by hand, linked to a document already there, cancelled), what is held and why, what waits, and
the difference, to the cent.

Amazon's total comes from Amazon's data: the amount the ledger recorded from the feed for every
entry (refunds negative, a cancellation fed again at 0.00), replaced by Amazon's newer version
where a correction of a posted document is still open (not yet applied in Xero, or held). The
other figures are the entries' recorded amounts by where each entry is, so the difference is
exactly what Amazon changed that Xero does not show yet: each such entry is listed (``changes``).

Where an entry is comes from one explicit mapping of states (``STATE_BUCKETS``); a state it
does not name (a review state added later, say) counts as waiting. The SQL that feeds this is
``plugin.manage.tie_out_query`` (GROUP BY, never an entry at a time).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from datetime import tzinfo
from decimal import Decimal

from plugin.posting import HELD_CODES

ZERO = Decimal("0.00")
UNDATED = "undated"  # entries without a purchase date (Amazon sent none we could read)
NO_METHOD = "-"  # entries without a payment method key
ALREADY_IN_XERO = "already_in_xero"  # plugin.ledger.by_hand.ALREADY_IN_XERO ("That is this …")


class Bucket(enum.StrEnum):
    """Where an entry's amount is counted."""

    POSTED = "posted"  # posted by this app
    BY_HAND = "by_hand"  # the user posted it in Xero and marked it so
    LINKED = "linked"  # the bank-feed guard's "That is this purchase": a document already there
    CANCELLED = "cancelled"  # Amazon cancelled it; its document voided or deleted (0.00)
    HELD = "held"  # held with a reason
    FAILED = "failed"  # refused by Xero (held too, with Xero's reason)
    WAITING = "waiting"  # fetched, ready, posting, or any other state not named here


IN_XERO = (Bucket.POSTED, Bucket.BY_HAND, Bucket.LINKED, Bucket.CANCELLED)
HELD = (Bucket.HELD, Bucket.FAILED)

STATE_BUCKETS: dict[str, Bucket] = {
    "posted": Bucket.POSTED,
    "by_hand": Bucket.BY_HAND,  # LINKED when its reason code is ALREADY_IN_XERO
    "cancelled": Bucket.CANCELLED,
    "held": Bucket.HELD,
    "failed": Bucket.FAILED,
    "fetched": Bucket.WAITING,
    "ready": Bucket.WAITING,
    "posting": Bucket.WAITING,
    "review": Bucket.WAITING,  # waiting for the bookkeeper's approval (review before posting)
}
"""Every state the ledger has today; any other state counts as waiting (``bucket_of``)."""

BUCKET_LABELS = {
    Bucket.POSTED: "Posted by this app",
    Bucket.BY_HAND: "Posted by hand",
    Bucket.LINKED: "Linked to a Xero document",
    Bucket.CANCELLED: "Cancelled by Amazon",
    Bucket.HELD: "Held",
    Bucket.FAILED: "Refused by Xero",
    Bucket.WAITING: "Waiting to post",
}


def bucket_of(state: str, reason_code: str | None) -> Bucket:
    """Where an entry in ``state`` (with ``reason_code``) is counted."""
    bucket = STATE_BUCKETS.get(str(state), Bucket.WAITING)
    if bucket == Bucket.BY_HAND and reason_code == ALREADY_IN_XERO:
        return Bucket.LINKED
    return bucket


# --- Months in the organisation's time zone -----------------------------------------------------


def month_of(moment: datetime | None, zone: tzinfo | None) -> str:
    """``"2026-03"``: the month of ``moment`` in the organisation's zone (UTC without one)."""
    if moment is None:
        return UNDATED
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{moment.astimezone(zone or UTC):%Y-%m}"


def month_start(month: str, zone: tzinfo | None) -> datetime:
    """The UTC instant the organisation's month ``"YYYY-MM"`` starts (ValueError if malformed)."""
    year, number = (int(part) for part in month.split("-"))
    return datetime(year, number, 1, tzinfo=zone or UTC).astimezone(UTC)


def next_month(month: str) -> str:
    """The month after ``"YYYY-MM"``."""
    year, number = (int(part) for part in month.split("-"))
    return f"{year + number // 12}-{number % 12 + 1:02d}"


def month_bounds(month: str, zone: tzinfo | None) -> tuple[datetime, datetime]:
    """[start, end) of the organisation's month in UTC."""
    return month_start(month, zone), month_start(next_month(month), zone)


def months_between(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last``, both included."""
    months, month = [], first
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def valid_month(text: str | None) -> str | None:
    """``text`` when it is a month ``"YYYY-MM"`` (or ``UNDATED``), else None."""
    text = (text or "").strip()
    if text == UNDATED:
        return text
    try:
        year, number = text.split("-")
        if len(year) == 4 and len(number) == 2 and 1 <= int(number) <= 12 and int(year) >= 1:
            return text
    except ValueError:
        return None
    return None


def month_label(month: str) -> str:
    """``"Mar 2026"`` (or "No date")."""
    if month == UNDATED:
        return "No date"
    year, number = (int(part) for part in month.split("-"))
    return f"{datetime(year, number, 1):%b %Y}"


# --- What the SQL gives ----------------------------------------------------------------------


@dataclass(frozen=True)
class GroupRow:
    """One GROUP BY row: entries of one month, method, currency, state and reason code."""

    month: str
    method: str | None
    currency: str
    state: str
    reason_code: str | None
    count: int
    amount: Decimal


@dataclass(frozen=True)
class Change:
    """A posted entry Amazon changed since (its correction not applied in Xero): the amount
    recorded (what Xero shows) and Amazon's newer one."""

    month: str
    method: str | None
    currency: str
    transaction_id: str
    recorded: Decimal
    amazon: Decimal
    correction_state: str

    @property
    def delta(self) -> Decimal:
        """How much more Amazon says than Xero shows."""
        return self.amazon - self.recorded


# --- The report --------------------------------------------------------------------------------


@dataclass
class Figure:
    """An amount and how many entries make it."""

    amount: Decimal = ZERO
    count: int = 0

    def add(self, amount: Decimal, count: int) -> None:
        """Count ``count`` more entries of ``amount`` in total."""
        self.amount += amount
        self.count += count


@dataclass
class Line:
    """One month, payment method and currency (or a month's total, ``method`` None)."""

    month: str
    method: str | None
    currency: str
    amazon: Figure = field(default_factory=Figure)
    buckets: dict[Bucket, Figure] = field(default_factory=lambda: {b: Figure() for b in Bucket})
    held_by_reason: dict[tuple[Bucket, str], Figure] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)

    def figure(self, bucket: Bucket) -> Figure:
        """The figure of one bucket."""
        return self.buckets[bucket]

    @property
    def in_xero(self) -> Figure:
        """Posted by this app, by hand, linked, and cancelled (0.00): what Xero holds."""
        return _total(self.buckets[b] for b in IN_XERO)

    @property
    def held(self) -> Figure:
        """Held and refused by Xero."""
        return _total(self.buckets[b] for b in HELD)

    @property
    def waiting(self) -> Figure:
        """Not yet in Xero, nothing holding it."""
        return self.buckets[Bucket.WAITING]

    @property
    def difference(self) -> Decimal:
        """Amazon's total less what is in Xero, held and waiting (0.00 when it ties out)."""
        return self.amazon.amount - self.in_xero.amount - self.held.amount - self.waiting.amount

    @property
    def ties_out(self) -> bool:
        """Amazon's total = in Xero + held + waiting, to the cent."""
        return self.difference == 0

    def held_reasons(self) -> list[tuple[Bucket, str, str, Figure]]:
        """(bucket, reason code, label, figure) of the held amounts, biggest count first."""
        rows = [
            (bucket, code, reason_label(bucket, code), figure)
            for (bucket, code), figure in self.held_by_reason.items()
        ]
        return sorted(rows, key=lambda row: (-row[3].count, row[0], row[1]))

    def absorb(self, other: Line) -> None:
        """Add another line's figures to this one (for a month's total)."""
        self.amazon.add(other.amazon.amount, other.amazon.count)
        for bucket, figure in other.buckets.items():
            self.buckets[bucket].add(figure.amount, figure.count)
        for key, figure in other.held_by_reason.items():
            self.held_by_reason.setdefault(key, Figure()).add(figure.amount, figure.count)
        self.changes.extend(other.changes)


def _total(figures: Iterable[Figure]) -> Figure:
    total = Figure()
    for figure in figures:
        total.add(figure.amount, figure.count)
    return total


def reason_label(bucket: Bucket, code: str) -> str:
    """A held reason code in words."""
    gloss = HELD_CODES.get(code)
    if bucket == Bucket.FAILED:
        return "Refused by Xero" + (f": {gloss}" if gloss else "")
    if gloss:
        return gloss
    return (code or "no reason recorded").replace("_", " ").capitalize()


@dataclass
class Month:
    """One month in one currency: its lines (one per payment method) and their total."""

    month: str
    currency: str
    lines: list[Line]
    total: Line

    @property
    def label(self) -> str:
        """The month in words."""
        return month_label(self.month)


@dataclass
class Report:
    """The whole report: months newest first, per currency."""

    months: list[Month]

    @property
    def ties_out(self) -> bool:
        """Every month ties out to the cent."""
        return all(month.total.ties_out for month in self.months)

    @property
    def currencies(self) -> list[str]:
        """The currencies of the report, in order of first appearance."""
        return list(dict.fromkeys(month.currency for month in self.months))

    def changes(self) -> list[Change]:
        """Every entry that makes a difference."""
        return [change for month in self.months for change in month.total.changes]


def build_report(rows: Iterable[GroupRow], changes: Iterable[Change] = ()) -> Report:
    """The report from the GROUP BY rows and the open changes of posted entries."""
    lines: dict[tuple[str, str | None, str], Line] = {}

    def line_of(month: str, method: str | None, currency: str) -> Line:
        key = (month, method, currency)
        if key not in lines:
            lines[key] = Line(month, method, currency)
        return lines[key]

    for row in rows:
        line = line_of(row.month, row.method, row.currency)
        bucket = bucket_of(row.state, row.reason_code)
        line.amazon.add(row.amount, row.count)
        line.buckets[bucket].add(row.amount, row.count)
        if bucket in HELD:
            reason = line.held_by_reason.setdefault((bucket, row.reason_code or ""), Figure())
            reason.add(row.amount, row.count)
    for change in changes:
        line = line_of(change.month, change.method, change.currency)
        line.amazon.add(change.delta, 0)
        line.changes.append(change)
    by_month: dict[tuple[str, str], list[Line]] = {}
    for line in lines.values():
        by_month.setdefault((line.month, line.currency), []).append(line)
    months = []
    for (month, currency), members in by_month.items():
        members.sort(key=lambda line: line.method or "")
        total = Line(month, None, currency)
        for member in members:
            total.absorb(member)
        months.append(Month(month, currency, members, total))
    # Newest month first, undated last; within a month by currency (sorts are stable).
    months.sort(key=lambda m: m.currency)
    months.sort(key=lambda m: (m.month != UNDATED, m.month), reverse=True)
    return Report(months)
