"""Tracking categories on every line: which Xero option each mapped category takes for one
Amazon line item, or why the purchase is held.

PURE. For each ``Mapping.tracking`` entry, the Amazon value comes from its source
(``TRACKING_SOURCES``: the transaction's legal entity, purchasing group or buyer's name; the
line's purchase order number, budget id or a ``businessOrderInfo`` key) and becomes an option:
a hand mapping first, then the option of the same name (``match_by_name``), then, when the user
allows it (``create_missing``), an option the posting run creates in Xero first
(``options_to_create``; until then the purchase is held as ``tracking_option_to_create``),
then the user's default option; otherwise it is held (``unmapped_tracking``). A line without a
value takes the default option, or none of that category. The category and option chosen must
exist in Xero and be ACTIVE, checked like an archived account: an archived one holds the
purchase with a reason saying what to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from plugin.amazon.models import Transaction
from plugin.amazon.models import TransactionLineItem
from plugin.posting.coding import FIX as CODING_FIX
from plugin.posting.inputs import MAX_TRACKING_CATEGORIES as MAX_CATEGORIES
from plugin.posting.inputs import Chart
from plugin.posting.inputs import Mapping
from plugin.posting.inputs import TrackingCategory
from plugin.posting.inputs import TrackingMapping
from plugin.posting.inputs import TrackingOption
from plugin.posting.results import Unpostable

MAX_OPTION_NAME: Final = 100
"""Xero's limit on a tracking option's ``Name``."""
FIX: Final = "Change it under Mapping > Tracking categories, or post it by hand."

SOURCE_LABELS: Final = {
    "legal_entity": "legal entity",
    "customer_group": "purchasing group",
    "buyer": "buyer",
    "purchase_order": "purchase order number",
    "budget_id": "budget id",
    "business_order_info": "checkout field",
}


@dataclass(frozen=True)
class LineTracking:
    """One entry of a line's ``Tracking``: the category and option as Xero names them."""

    category: str
    option: str
    category_id: str | None = None
    option_id: str | None = None


def source_label(entry: TrackingMapping) -> str:
    """``'checkout field "Cost center"'``, ``"buyer"``... for reasons and pages."""
    label = SOURCE_LABELS.get(entry.source, entry.source)
    if entry.source == "business_order_info":
        return f'{label} "{entry.key or ""}"'
    return label


def source_value(
    entry: TrackingMapping, transaction: Transaction, item: TransactionLineItem | None
) -> str | None:
    """The Amazon value feeding ``entry`` for this line (``None`` when absent or blank)."""
    source = entry.source
    value: str | None = None
    if source == "legal_entity":
        value = transaction.legal_entity_name
    elif source == "customer_group":
        value = transaction.purchasing_customer_group_name
    elif source == "buyer":
        value = transaction.buyer.name if transaction.buyer is not None else None
    elif item is None:
        value = None
    elif source == "purchase_order":
        value = item.purchase_order_number
    elif source == "budget_id":
        value = item.budget_id
    elif source == "business_order_info" and entry.key:
        value = (item.business_order_info or {}).get(entry.key)
    value = (value or "").strip()
    return value or None


def category_for(entry: TrackingMapping, chart: Chart) -> TrackingCategory:
    """The mapped category, which must exist in Xero and be ACTIVE."""
    category = chart.tracking_category(entry.category)
    if category is None:
        raise Unpostable(
            "unknown_tracking_category",
            f"Tracking category {entry.category!r} is mapped but Xero has no tracking category "
            f"of that name (renamed or deleted in Xero?). {FIX}",
        )
    if category.status != "ACTIVE":
        raise Unpostable(
            "archived_tracking_category",
            f"Tracking category {category.name!r} is archived in Xero. Restore it in Xero "
            f"(Settings > Tracking categories) or stop mapping it. {FIX}",
        )
    return category


def _can_create(value: str) -> bool:
    return len(value) <= MAX_OPTION_NAME


def option_name_for(
    entry: TrackingMapping, value: str | None, category: TrackingCategory, writable: bool = True
) -> str | None:
    """The option name for ``value`` (see the module), ``None`` for no option of ``category``.

    ``writable``: Xero lets the app create options (``Chart.tracking_options_writable``).
    """
    if value is None:
        return entry.default_option
    by_hand = entry.hand_mapped(value)
    if by_hand:
        return by_hand
    if (entry.match_by_name or entry.create_missing) and category.option(value) is not None:
        return value
    what = f"The {source_label(entry)} {value!r}"
    if entry.create_missing and _can_create(value) and writable:
        raise Unpostable(
            "tracking_option_to_create",
            f"{what} has no option in Xero tracking category {category.name!r} yet; creating "
            "it in Xero is allowed, so it is created at the next posting run and this purchase "
            "then posts by itself.",
        )
    if entry.default_option:
        return entry.default_option
    no_permission = (
        " Creating it is allowed in the mapping, but Xero has not given this app permission to "
        "change its settings (reconnect Xero with the accounting.settings scope)."
        if entry.create_missing and not writable
        else ""
    )
    raise Unpostable(
        "unmapped_tracking",
        f"{what} has no option in Xero tracking category {category.name!r}.{no_permission} Map "
        "it to an option, allow creating options in Xero, or choose a default option under "
        "Mapping > Tracking categories; the purchase then posts by itself.",
    )


def option_for(category: TrackingCategory, name: str) -> TrackingOption:
    """The option ``name`` of ``category``, which must exist and be ACTIVE."""
    option = category.option(name)
    if option is None:
        raise Unpostable(
            "unknown_tracking_option",
            f"Tracking option {name!r} is mapped but Xero's tracking category {category.name!r} "
            f"has no option of that name (renamed or deleted in Xero?). {FIX}",
        )
    if option.status != "ACTIVE":
        raise Unpostable(
            "archived_tracking_option",
            f"Tracking option {option.name!r} of {category.name!r} is archived in Xero. Restore "
            f"it in Xero or map the value to another option. {FIX}",
        )
    return option


def tracking_for(
    transaction: Transaction,
    item: TransactionLineItem | None,
    mapping: Mapping,
    chart: Chart,
) -> tuple[LineTracking, ...]:
    """The ``Tracking`` of one Amazon line item's lines (``item`` None: a line of the whole
    transaction, such as an over-refund); raises ``Unpostable`` to hold the purchase."""
    found = []
    for entry in mapping.tracking:
        category = category_for(entry, chart)
        value = source_value(entry, transaction, item)
        name = option_name_for(entry, value, category, chart.tracking_options_writable)
        if name is None:
            continue
        option = option_for(category, name)
        found.append(
            LineTracking(category.name, option.name, category.category_id, option.option_id)
        )
    return tuple(found)


def chosen_tracking(pairs: tuple[tuple[str, str], ...], chart: Chart) -> tuple[LineTracking, ...]:
    """The ``Tracking`` the bookkeeper chose for one line item in review (``posting.coding``):
    each category and option must exist in Xero and be ACTIVE, one option per category, at most
    ``MAX_TRACKING_CATEGORIES``; else the purchase is held saying what to change."""
    fix = f"Change it under {CODING_FIX}, or post it by hand."
    found: list[LineTracking] = []
    for category_name, option_name in pairs:
        category = chart.tracking_category(category_name)
        if category is None or category.status != "ACTIVE":
            state = "not in Xero" if category is None else "archived in Xero"
            raise Unpostable(
                "unknown_tracking_category" if category is None else "archived_tracking_category",
                f"Tracking category {category_name!r}, chosen for this purchase in review, is "
                f"{state}. {fix}",
            )
        option = category.option(option_name)
        if option is None or option.status != "ACTIVE":
            state = "not in Xero" if option is None else "archived in Xero"
            raise Unpostable(
                "unknown_tracking_option" if option is None else "archived_tracking_option",
                f"Tracking option {option_name!r} of {category.name!r}, chosen for this purchase "
                f"in review, is {state}. {fix}",
            )
        if any(t.category == category.name for t in found) or len(found) >= MAX_CATEGORIES:
            raise Unpostable(
                "unknown_tracking_category",
                "The tracking chosen for this purchase in review names a category twice or "
                f"more than {MAX_CATEGORIES} categories (Xero allows two). {fix}",
            )
        found.append(
            LineTracking(category.name, option.name, category.category_id, option.option_id)
        )
    return tuple(found)


def options_to_create(
    transaction: Transaction, mapping: Mapping, chart: Chart
) -> list[tuple[str, str]]:
    """(category name, option name) pairs the posting run must create in Xero for this
    transaction: values with no option, of categories that allow creating, in order, once."""
    wanted: list[tuple[str, str]] = []
    if not chart.tracking_options_writable:
        return wanted
    items: list[TransactionLineItem | None] = list(transaction.line_items) or [None]
    for entry in mapping.tracking:
        if not entry.create_missing:
            continue
        category = chart.tracking_category(entry.category)
        if category is None or category.status != "ACTIVE":
            continue
        for item in items:
            value = source_value(entry, transaction, item)
            if value is None or entry.hand_mapped(value) or not _can_create(value):
                continue
            if category.option(value) is None and (category.name, value) not in wanted:
                wanted.append((category.name, value))
    return wanted
