"""Issue 13 point 1: documents are dated, and lock dates checked, by the organisation's own
calendar date (Xero's ``Organisation.Timezone``), not by the UTC date of Amazon's timestamp."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from plugin.posting import PostingContext
from plugin.posting.dates import xero_zone
from tests.common.amazon_payloads import uk_card_charge
from tests.common.amazon_payloads import us_card_charge
from tests.common.amazon_payloads import us_pbi_charge
from tests.common.charts import uk_chart
from tests.common.charts import us_chart
from tests.common.posting import document
from tests.common.posting import held
from tests.common.posting import post_uk
from tests.common.posting import post_us
from tests.common.tax_orgs import BANK
from tests.common.tax_orgs import de_chart
from tests.common.tax_orgs import de_mapping
from tests.common.tax_orgs import item
from tests.common.tax_orgs import purchase

LATE_ON_30_JUNE = "2026-06-30T23:30:00.000Z"  # the last day of a quarter, late in UTC
XERO_DATE_30_JUNE = "/Date(1782777600000+0000)/"  # 2026-06-30


def zoned(chart: dict[str, Any], timezone: str | None, lock: str | None = None) -> dict:
    organisation = chart["Organisation"]
    organisation.pop("PeriodLockDate", None)
    if timezone is not None:
        organisation["Timezone"] = timezone
    if lock is not None:
        organisation["PeriodLockDate"] = lock
    return chart


ORGS = {
    # org: (post, a charge, its chart, its mapping, Xero's Timezone, the org's date)
    "UK": (post_uk, uk_card_charge, uk_chart, None, "GMTSTANDARDTIME", date(2026, 7, 1)),
    "US": (post_us, us_card_charge, us_chart, None, "EASTERNSTANDARDTIME", date(2026, 6, 30)),
    "DE": (post_uk, uk_card_charge, de_chart, de_mapping, "W.EUROPESTANDARDTIME", date(2026, 7, 1)),
}


def translate(org: str, zone_name: str | None, lock: str | None = None, **context: Any):
    post, charge, chart, mapping, _zone, _date = ORGS[org]
    raw = charge(date=LATE_ON_30_JUNE)
    if org == "DE":
        raw = purchase("DE", BANK, [item("100.00", "19.00", "0.19")])
        raw["transactionDate"] = LATE_ON_30_JUNE
    options: dict[str, Any] = {"chart": zoned(chart(), zone_name, lock)}
    if mapping is not None:
        options["mapping"] = mapping()
    if context:
        options["context"] = PostingContext(**context)
    return post(raw, **options)


@pytest.mark.parametrize("org", sorted(ORGS))
def test_a_late_utc_purchase_is_dated_by_the_orgs_calendar(org: str) -> None:
    expected = ORGS[org][5]
    doc = document(translate(org, ORGS[org][4]))
    assert doc.body["Date"] == expected.isoformat()


@pytest.mark.parametrize("org", sorted(ORGS))
def test_without_a_time_zone_the_date_is_utcs(org: str) -> None:
    assert document(translate(org, None)).body["Date"] == "2026-06-30"


@pytest.mark.parametrize("org", sorted(ORGS))
def test_a_30_june_lock_date_refuses_only_what_the_org_dates_30_june(org: str) -> None:
    result = translate(org, ORGS[org][4], lock=XERO_DATE_30_JUNE)
    if ORGS[org][5] > date(2026, 6, 30):
        assert document(result).body["Date"] == "2026-07-01"  # next quarter: not locked
    else:
        assert held(result).code == "lock_date"


def test_the_runs_zone_wins_over_the_charts() -> None:
    doc = document(translate("UK", "GMTSTANDARDTIME", timezone=xero_zone("EASTERNSTANDARDTIME")))
    assert doc.body["Date"] == "2026-06-30"


def test_a_bills_due_date_counts_from_the_orgs_date() -> None:
    raw = us_pbi_charge(date="2026-07-01T02:30:00.000Z")  # 30 June, 22:30 in New York
    chart = zoned(us_chart(), "EASTERNSTANDARDTIME")
    body = document(post_us(raw, chart=chart)).body
    assert body["Date"] == "2026-06-30"
    assert body["DueDate"] > body["Date"]
    assert (date.fromisoformat(body["DueDate"]) - date(2026, 6, 30)).days in (30, 60)
