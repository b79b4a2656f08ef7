"""Seed tracking categories of the Xero sandbox, per tenant key: plain data.

Each category is ``(name, status, options)``, each option ``(name, status)``. Thames has two
active categories (Xero's limit) and an archived third; some options are archived, and some
values its Amazon data carries (``IT-03``) have no option, so mapping by name must hold them.
Hudson has two active categories; the German tenant none.
"""

from __future__ import annotations

from typing import Final

Option = tuple[str, str]
Category = tuple[str, str, tuple[Option, ...]]

TRACKING: Final[dict[str, tuple[Category, ...]]] = {
    "thames": (
        (
            "Department",
            "ACTIVE",
            (
                ("Office", "ACTIVE"),
                ("Warehouse", "ACTIVE"),
                ("IT", "ACTIVE"),
                ("Old Stores", "ARCHIVED"),
            ),
        ),
        (
            "Cost Centre",
            "ACTIVE",
            (("FAC-01", "ACTIVE"), ("WH-02", "ACTIVE"), ("LEGACY-00", "ARCHIVED")),
        ),
        ("Region", "ARCHIVED", (("North", "ACTIVE"), ("South", "ACTIVE"))),
    ),
    "hudson": (
        (
            "Department",
            "ACTIVE",
            (("Design", "ACTIVE"), ("Studio", "ACTIVE"), ("Operations", "ACTIVE")),
        ),
        ("Project", "ACTIVE", (("Alpha", "ACTIVE"), ("Beta", "ACTIVE"))),
    ),
}
