"""The tie-out report's chart of the months, pure geometry for an SVG drawn by the template
(server-side: no chart library, nothing loaded from elsewhere).

One chart per currency: per month a bar stacked from what is in Xero, held and waiting, and a
mark at Amazon's total (they meet when the month ties out). Negative amounts (a month of
refunds) stack below the zero line.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING
from decimal import ROUND_FLOOR
from decimal import Decimal

from plugin.manage.tie_out import UNDATED
from plugin.manage.tie_out import Month
from plugin.manage.tie_out import month_label
from plugin.posting.amounts import money_text as money

WIDTH = 720
HEIGHT = 260
TOP, BOTTOM, LEFT, RIGHT = 16, 40, 72, 12
MAX_LABELS = 12  # month names that fit under the axis
PARTS = (("in_xero", "In Xero"), ("held", "Held"), ("waiting", "Waiting"))


@dataclass(frozen=True)
class Segment:
    """One coloured part of a bar."""

    part: str
    label: str
    x: float
    y: float
    width: float
    height: float
    amount: str


@dataclass(frozen=True)
class Bar:
    """One month: its segments, Amazon's mark, its label and whether it ties out."""

    month: str
    label: str
    x: float
    width: float
    segments: list[Segment]
    mark_y: float
    amazon: str
    difference: str
    ties_out: bool
    labelled: bool = True  # with many months only every few are named under the axis


@dataclass(frozen=True)
class Tick:
    """A gridline of the amount axis."""

    y: float
    text: str


@dataclass(frozen=True)
class Chart:
    """A chart of one currency's months, oldest on the left."""

    currency: str
    width: int
    height: int
    zero_y: float
    bars: list[Bar]
    ticks: list[Tick]
    left: int = LEFT
    right: int = WIDTH - RIGHT


def _nice_step(span: Decimal) -> Decimal:
    """A round step giving about four gridlines over ``span``."""
    raw = span / 4 if span > 0 else Decimal(1)
    step = Decimal(1)
    while step * 10 <= raw:
        step *= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= raw:
            return step * factor
    return step * 10


def chart_of(currency: str, months: list[Month]) -> Chart:
    """The chart of ``months`` (one currency; undated entries are not a month and left out)."""
    dated = sorted((m for m in months if m.currency == currency and m.month != UNDATED), key=_key)
    values: list[Decimal] = []
    for month in dated:
        parts = [_part(month, name) for name, _ in PARTS]
        values.append(sum((p for p in parts if p > 0), Decimal(0)))
        values.append(sum((p for p in parts if p < 0), Decimal(0)))
        values.append(month.total.amazon.amount)
    top = max([Decimal(0), *values])
    bottom = min([Decimal(0), *values])
    step = _nice_step(top - bottom)
    top = (top / step).to_integral_value(rounding=ROUND_CEILING) * step
    bottom = (bottom / step).to_integral_value(rounding=ROUND_FLOOR) * step
    span = (top - bottom) or Decimal(1)
    plot = HEIGHT - TOP - BOTTOM

    def y_of(amount: Decimal) -> float:
        return TOP + float((top - amount) / span) * plot

    ticks = []
    value = bottom
    while value <= top:
        ticks.append(Tick(round(y_of(value), 1), f"{value:,.0f}"))
        value += step
    slot = (WIDTH - LEFT - RIGHT) / max(len(dated), 1)
    every = -(-len(dated) // MAX_LABELS)  # name every n-th month (the newest always)
    width = min(slot * 0.6, 64.0)
    bars = []
    for index, month in enumerate(dated):
        x = LEFT + slot * index + (slot - width) / 2
        up = down = Decimal(0)
        segments = []
        for name, label in PARTS:
            amount = _part(month, name)
            if amount == 0:
                continue
            if amount > 0:
                start, up = up, up + amount
                y0, y1 = y_of(up), y_of(start)
            else:
                start, down = down, down + amount
                y0, y1 = y_of(start), y_of(down)
            segments.append(
                Segment(
                    name,
                    label,
                    round(x, 1),
                    round(y0, 1),
                    round(width, 1),
                    round(max(y1 - y0, 0.5), 1),
                    money(amount),
                )
            )
        total = month.total
        bars.append(
            Bar(
                month=month.month,
                label=month_label(month.month),
                x=round(x, 1),
                width=round(width, 1),
                segments=segments,
                mark_y=round(y_of(total.amazon.amount), 1),
                amazon=money(total.amazon.amount),
                difference=money(total.difference),
                ties_out=total.ties_out,
                labelled=(len(dated) - 1 - index) % every == 0,
            )
        )
    return Chart(currency, WIDTH, HEIGHT, round(y_of(Decimal(0)), 1), bars, ticks)


def _key(month: Month) -> str:
    return month.month


def _part(month: Month, name: str) -> Decimal:
    figure = {
        "in_xero": month.total.in_xero,
        "held": month.total.held,
        "waiting": month.total.waiting,
    }[name]
    return figure.amount


def charts_of(months: list[Month]) -> list[Chart]:
    """One chart per currency, in the order the currencies first appear."""
    currencies = list(dict.fromkeys(month.currency for month in months))
    return [chart_of(currency, months) for currency in currencies]
