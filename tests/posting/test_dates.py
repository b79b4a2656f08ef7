"""Org calendar dates: Xero's Windows-style zone names and Amazon's UTC instants."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime

import pytest

from plugin.posting.dates import calendar_date
from plugin.posting.dates import xero_zone

LATE_30_JUNE = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("xero_name", "expected"),
    [
        ("GMTSTANDARDTIME", date(2026, 7, 1)),  # London, BST
        ("EASTERNSTANDARDTIME", date(2026, 6, 30)),  # New York
        ("W.EUROPESTANDARDTIME", date(2026, 7, 1)),  # Berlin
        ("WEUROPESTANDARDTIME", date(2026, 7, 1)),
        ("AUSEASTERNSTANDARDTIME", date(2026, 7, 1)),  # Sydney
        ("NEWZEALANDSTANDARDTIME", date(2026, 7, 1)),
        ("Pacific Standard Time", date(2026, 6, 30)),
        ("Europe/London", date(2026, 7, 1)),
        ("UTC", date(2026, 6, 30)),
    ],
)
def test_late_utc_purchase_falls_on_the_orgs_own_date(xero_name: str, expected: date) -> None:
    zone = xero_zone(xero_name)
    assert zone is not None
    assert calendar_date(LATE_30_JUNE, zone) == expected


@pytest.mark.parametrize("name", [None, "", "  ", "NOWHERESTANDARDTIME"])
def test_unknown_zone_names_give_none(name: str | None) -> None:
    assert xero_zone(name) is None


def test_without_a_zone_the_date_is_utcs() -> None:
    assert calendar_date(LATE_30_JUNE, None) == date(2026, 6, 30)
    assert calendar_date(LATE_30_JUNE.replace(tzinfo=None), None) == date(2026, 6, 30)
