"""What the mapping page's tracking section shows (pure): two slots, one per Xero tracking
category, each with the Amazon field feeding it, how values become options, the default option
and the hand mappings; the choices come from the chart (active categories and options, plus the
current choice even when Xero has archived it, flagged as such).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from plugin.mapping.options import Option
from plugin.mapping.options import OptionGroup
from plugin.posting import MAX_TRACKING_CATEGORIES
from plugin.posting import Chart
from plugin.posting import Mapping
from plugin.posting import TrackingMapping

__all__ = ["SOURCE_CHOICES", "TrackingRow", "tracking_rows"]

SOURCE_CHOICES: Final = (
    ("legal_entity", "Legal entity (legalEntityName)"),
    ("customer_group", "Purchasing group (purchasingCustomerGroupName)"),
    ("buyer", "Buyer's name"),
    ("purchase_order", "Purchase order number (per line)"),
    ("budget_id", "Budget id (per line)"),
    ("business_order_info", "Checkout field (businessOrderInfo, per line)"),
)


@dataclass(frozen=True)
class TrackingRow:
    """One tracking category slot of the page."""

    n: int
    entry: TrackingMapping | None
    category_groups: list[OptionGroup]
    source_groups: list[OptionGroup]
    default_groups: list[OptionGroup]
    values_text: str
    warning: str | None = None

    @property
    def match_by_name(self) -> bool:
        return True if self.entry is None else self.entry.match_by_name

    @property
    def create_missing(self) -> bool:
        return False if self.entry is None else self.entry.create_missing


def _categories(chart: Chart, current: str | None) -> list[OptionGroup]:
    active = [c.name for c in chart.tracking_categories if c.status == "ACTIVE"]
    options = [Option(name, name) for name in active]
    if current and chart.tracking_category(current) is None:
        options.append(Option(current, f"{current} (not in Xero)"))
    elif current and current not in active:
        found = chart.tracking_category(current)
        if found is not None and found.status != "ACTIVE":
            options.append(Option(found.name, f"{found.name} (archived in Xero)"))
    return [OptionGroup("Xero tracking categories", tuple(options))]


def _defaults(chart: Chart, entry: TrackingMapping | None) -> list[OptionGroup]:
    if entry is None:
        return []
    category = chart.tracking_category(entry.category)
    names = [o.name for o in category.options if o.status == "ACTIVE"] if category else []
    options = [Option(name, name) for name in names]
    current = entry.default_option
    if current and current not in names:
        options.append(Option(current, f"{current} (archived or not in Xero)"))
    return [OptionGroup(f"Options of {entry.category}", tuple(options))]


def _warning(chart: Chart, entry: TrackingMapping | None) -> str | None:
    if entry is None:
        return None
    category = chart.tracking_category(entry.category)
    if category is None:
        return f"Xero has no tracking category “{entry.category}”: purchases are held."
    if category.status != "ACTIVE":
        return f"“{category.name}” is archived in Xero: purchases are held."
    return None


def tracking_rows(mapping: Mapping, chart: Chart) -> list[TrackingRow]:
    """The two slots: the mapped categories first, then empty ones."""
    sources = [OptionGroup("Amazon field", tuple(Option(v, label) for v, label in SOURCE_CHOICES))]
    rows = []
    for n in range(MAX_TRACKING_CATEGORIES):
        entry = mapping.tracking[n] if n < len(mapping.tracking) else None
        rows.append(
            TrackingRow(
                n=n,
                entry=entry,
                category_groups=_categories(chart, entry.category if entry else None),
                source_groups=sources,
                default_groups=_defaults(chart, entry),
                values_text="\n".join(f"{v.value} = {v.option}" for v in entry.values)
                if entry
                else "",
                warning=_warning(chart, entry),
            )
        )
    return rows
