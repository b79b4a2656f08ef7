"""Tracking categories for posting tests: a chart's ``TrackingCategories`` in Xero's shape and
mappings (version 2) that use them, for the US org of ``tests.common.charts``."""

from __future__ import annotations

from typing import Any

from tests.common.charts import us_chart
from tests.common.charts import us_mapping

DEPARTMENT_ID = "6f1a3b70-1c2d-4e5f-8a9b-0c1d2e3f4a01"
COST_CENTRE_ID = "6f1a3b70-1c2d-4e5f-8a9b-0c1d2e3f4a02"
REGION_ID = "6f1a3b70-1c2d-4e5f-8a9b-0c1d2e3f4a03"


def option_id(category_id: str, index: int) -> str:
    return f"{category_id[:-2]}{index + 10:02d}"


def category(
    name: str, category_id: str, options: list[tuple[str, str]], status: str = "ACTIVE"
) -> dict[str, Any]:
    return {
        "TrackingCategoryID": category_id,
        "Name": name,
        "Status": status,
        "Options": [
            {"TrackingOptionID": option_id(category_id, i), "Name": n, "Status": s}
            for i, (n, s) in enumerate(options)
        ],
    }


def tracking_categories() -> list[dict[str, Any]]:
    """Department (Facilities, Office, IT archived), Cost Centre, and an archived Region."""
    return [
        category(
            "Department",
            DEPARTMENT_ID,
            [("Facilities", "ACTIVE"), ("Office", "ACTIVE"), ("IT", "ARCHIVED")],
        ),
        category("Cost Centre", COST_CENTRE_ID, [("FAC-01", "ACTIVE"), ("WH-02", "ACTIVE")]),
        category("Region", REGION_ID, [("North", "ACTIVE")], status="ARCHIVED"),
    ]


def tracked_chart(**overrides: Any) -> dict[str, Any]:
    """The US chart with ``tracking_categories()``."""
    return us_chart(TrackingCategories=tracking_categories(), **overrides)


def department(**entry: Any) -> dict[str, Any]:
    """Department fed by the purchasing group (``"Facilities"`` in the default payloads)."""
    return {"category": "Department", "source": "customer_group", **entry}


def cost_centre(**entry: Any) -> dict[str, Any]:
    """Cost Centre fed by the ``businessOrderInfo`` key ``"Cost center"``."""
    return {
        "category": "Cost Centre",
        "source": "business_order_info",
        "key": "Cost center",
        **entry,
    }


def tracked_mapping(*entries: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """The US mapping, version 2, with ``entries`` as its ``tracking``."""
    return us_mapping(version=2, tracking=list(entries), **overrides)
