"""The one Xero date parser (``plugin.xero.dates``): ``/Date(ms±hhmm)/`` with its offset kept,
negative timestamps, ISO dates and datetimes; anything else is a ``ValueError``."""

from __future__ import annotations

from datetime import date

import pytest

from plugin.xero.dates import optional_xero_date
from plugin.xero.dates import xero_date
from plugin.xero.errors import XeroMalformedResponse
from plugin.xero.models import XeroOrganisation
from plugin.xero.models import parse_item


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/Date(1769817600000)/", date(2026, 1, 31)),
        ("/Date(1769817600000+0000)/", date(2026, 1, 31)),
        ("/Date(1769810400000+1300)/", date(2026, 1, 31)),  # 11:00 UTC on the 30th, NZ time
        ("/Date(1769810400000)/", date(2026, 1, 30)),  # the same instant without its offset
        ("/Date(1769817600000-0500)/", date(2026, 1, 30)),
        ("/Date(1769817600000+0530)/", date(2026, 1, 31)),
        ("/Date(1769884200000+0530)/", date(2026, 2, 1)),  # 18:30 UTC + 5:30 is midnight
        (" /Date(1769817600000+0000)/ ", date(2026, 1, 31)),
    ],
)
def test_wcf_dates_are_the_date_at_their_offset(value: str, expected: date) -> None:
    assert xero_date(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/Date(-62135596800000)/", date(1, 1, 1)),  # .NET's DateTime.MinValue
        ("/Date(-62135596800000+0000)/", date(1, 1, 1)),
        ("/Date(-86400000)/", date(1969, 12, 31)),
        ("/Date(-1+0000)/", date(1969, 12, 31)),
        ("/Date(-86400000+0100)/", date(1969, 12, 31)),
        ("/Date(0)/", date(1970, 1, 1)),
    ],
)
def test_negative_timestamps_are_before_1970(value: str, expected: date) -> None:
    assert xero_date(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-31", date(2026, 1, 31)),
        ("2026-01-31T00:00:00", date(2026, 1, 31)),
        ("2026-01-31T23:59:59.123", date(2026, 1, 31)),
        ("2026-01-31T23:00:00+13:00", date(2026, 1, 31)),  # the date as written
        ("2026-01-31T00:00:00Z", date(2026, 1, 31)),
    ],
)
def test_iso_dates_and_datetimes(value: str, expected: date) -> None:
    assert xero_date(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "31/01/2026",
        "2026-02-30",
        "yesterday",
        "/Date()/",
        "/Date(abc)/",
        "/Date(1+00)/",
        "/Date(1+00000)/",
        "/Date(1769817600000+0000)",
        "/Date(--1)/",
        "/Date(-62135596800000-0100)/",  # before year 1
        "/Date(999999999999999999999)/",
        1769817600000,
        None,
        date(2026, 1, 31),
    ],
)
def test_anything_else_is_not_a_xero_date(value: object) -> None:
    with pytest.raises(ValueError, match="is not a Xero date"):
        xero_date(value)


@pytest.mark.parametrize("value", [None, "", "  "])
def test_an_absent_optional_date_is_none(value: object) -> None:
    assert optional_xero_date(value) is None
    assert parse_item(XeroOrganisation, {"PeriodLockDate": value}, "Org").period_lock_date is None


def test_organisations_and_posting_read_xero_dates_alike() -> None:
    from plugin import posting

    for value in ("/Date(1769810400000+1300)/", "/Date(-62135596800000)/", "2026-01-31T00:00:00"):
        read = parse_item(XeroOrganisation, {"PeriodLockDate": value}, "Organisations[0]")
        assert read.period_lock_date == optional_xero_date(value) == posting.xero_date(value)
    with pytest.raises(XeroMalformedResponse, match=r"PeriodLockDate: .*is not a Xero date"):
        parse_item(XeroOrganisation, {"PeriodLockDate": "31/01/2026"}, "Organisations[0]")
