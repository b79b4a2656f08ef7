"""Xero's rules for tracking categories, pure over a ``Tenant``: find a category or option, check
a new or renamed one (at most 2 ACTIVE categories per organisation, 100 options per category,
names unique and at most 100 characters), and check a line's ``Tracking`` (at most 2 entries,
each naming an ACTIVE category by ``TrackingCategoryID`` or ``Name`` and one of its ACTIVE
options by ``TrackingOptionID`` or ``Option``).

Messages follow Xero's wording where it is known; what Xero stores on a line is the four fields
``Name``, ``Option``, ``TrackingCategoryID``, ``TrackingOptionID``.
"""

from __future__ import annotations

from typing import Any
from typing import Final

from sandbox.xero.world import Tenant

MAX_ACTIVE_CATEGORIES: Final = 2
MAX_OPTIONS: Final = 100
MAX_NAME: Final = 100
MAX_PER_LINE: Final = 2


def _same(a: Any, b: Any) -> bool:
    return str(a or "").strip().lower() == str(b or "").strip().lower()


def live_categories(tenant: Tenant) -> list[dict[str, Any]]:
    """Categories that are not deleted."""
    return [c for c in tenant.tracking_categories if c["Status"] != "DELETED"]


def category_by_id(tenant: Tenant, category_id: str) -> dict[str, Any] | None:
    wanted = category_id.lower()
    return next((c for c in live_categories(tenant) if c["TrackingCategoryID"] == wanted), None)


def option_by_id(category: dict[str, Any], option_id: str) -> dict[str, Any] | None:
    wanted = option_id.lower()
    return next(
        (
            o
            for o in category["Options"]
            if o["TrackingOptionID"] == wanted and o["Status"] != "DELETED"
        ),
        None,
    )


def active_count(tenant: Tenant) -> int:
    return sum(1 for c in tenant.tracking_categories if c["Status"] == "ACTIVE")


def name_errors(name: Any, taken: list[str], what: str) -> list[str]:
    """Problems with a new name for a category or option."""
    text = str(name or "").strip()
    if not text:
        return [f"{what} Name must be specified."]
    if len(text) > MAX_NAME:
        return [f"{what} Name must not be more than {MAX_NAME} characters long."]
    if any(_same(text, other) for other in taken):
        return [f"{what} Name '{text}' already exists."]
    return []


def category_write_errors(
    tenant: Tenant, element: dict[str, Any], existing: dict[str, Any] | None
) -> list[str]:
    """Problems with creating (``existing`` None) or updating a category."""
    errors: list[str] = []
    others = [c["Name"] for c in live_categories(tenant) if c is not existing]
    if existing is None or "Name" in element:
        errors += name_errors(element.get("Name"), others, "Tracking Category")
    status = element.get("Status", "ACTIVE" if existing is None else existing["Status"])
    if status not in ("ACTIVE", "ARCHIVED"):
        errors.append(f"Tracking Category Status '{status}' is not valid.")
    becomes_active = status == "ACTIVE" and (existing is None or existing["Status"] != "ACTIVE")
    if becomes_active and active_count(tenant) >= MAX_ACTIVE_CATEGORIES:
        errors.append("You can only have 2 active tracking categories.")
    return errors


def option_write_errors(
    category: dict[str, Any], element: dict[str, Any], existing: dict[str, Any] | None
) -> list[str]:
    """Problems with creating (``existing`` None) or updating an option of ``category``."""
    errors: list[str] = []
    live = [o for o in category["Options"] if o["Status"] != "DELETED"]
    if existing is None and len(live) >= MAX_OPTIONS:
        errors.append(f"A tracking category can have at most {MAX_OPTIONS} options.")
    if existing is None or "Name" in element:
        taken = [o["Name"] for o in live if o is not existing]
        errors += name_errors(element.get("Name"), taken, "Tracking Option")
    status = element.get("Status", "ACTIVE" if existing is None else existing["Status"])
    if status not in ("ACTIVE", "ARCHIVED"):
        errors.append(f"Tracking Option Status '{status}' is not valid.")
    return errors


def _find_category(tenant: Tenant, entry: dict[str, Any]) -> dict[str, Any] | None:
    if entry.get("TrackingCategoryID"):
        return category_by_id(tenant, str(entry["TrackingCategoryID"]))
    return next((c for c in live_categories(tenant) if _same(c["Name"], entry.get("Name"))), None)


def _find_option(category: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any] | None:
    if entry.get("TrackingOptionID"):
        return option_by_id(category, str(entry["TrackingOptionID"]))
    return next(
        (
            o
            for o in category["Options"]
            if o["Status"] != "DELETED" and _same(o["Name"], entry.get("Option"))
        ),
        None,
    )


def _entry_label(entry: dict[str, Any], key: str, id_key: str) -> str:
    return str(entry.get(key) or entry.get(id_key) or "")


def check_line_tracking(tenant: Tenant, raw: Any, errors: list[str]) -> list[dict[str, Any]]:
    """A line's ``Tracking`` as Xero stores it; problems go to ``errors``."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors.append("Tracking must be a list of tracking categories.")
        return []
    if len(raw) > MAX_PER_LINE:
        errors.append("A line item can have at most 2 tracking categories.")
        return []
    stored: list[dict[str, Any]] = []
    for entry in raw:
        if not isinstance(entry, dict):
            errors.append("Tracking must be a list of tracking categories.")
            continue
        category = _find_category(tenant, entry)
        name = _entry_label(entry, "Name", "TrackingCategoryID")
        if category is None:
            errors.append(f"The TrackingCategory '{name}' does not exist.")
            continue
        if category["Status"] != "ACTIVE":
            errors.append(f"The TrackingCategory '{category['Name']}' is archived.")
            continue
        if any(s["TrackingCategoryID"] == category["TrackingCategoryID"] for s in stored):
            errors.append(
                f"The TrackingCategory '{category['Name']}' is given more than once on a line."
            )
            continue
        option = _find_option(category, entry)
        option_name = _entry_label(entry, "Option", "TrackingOptionID")
        if option is None:
            errors.append(
                f"The TrackingOption '{option_name}' does not exist in TrackingCategory "
                f"'{category['Name']}'."
            )
            continue
        if option["Status"] != "ACTIVE":
            errors.append(
                f"The TrackingOption '{option['Name']}' in TrackingCategory "
                f"'{category['Name']}' is archived."
            )
            continue
        stored.append(
            {
                "Name": category["Name"],
                "Option": option["Name"],
                "TrackingCategoryID": category["TrackingCategoryID"],
                "TrackingOptionID": option["TrackingOptionID"],
            }
        )
    return stored
