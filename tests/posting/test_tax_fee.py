"""The regulatory (WEEE) fee's tax (issue 13 point 3): Amazon documents no separate tax for it, so
both readings are accepted when they reconcile (the fee's tax inside the line's ``tax``, or the
fee untaxed); only a real mismatch is held, with Amazon's figure and each reading's."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.common.posting import held
from tests.common.posting import post_uk
from tests.common.tax_orgs import BANK
from tests.common.tax_orgs import BILL
from tests.common.tax_orgs import de_chart
from tests.common.tax_orgs import de_mapping
from tests.common.tax_orgs import item
from tests.common.tax_orgs import post
from tests.common.tax_orgs import purchase

D = Decimal


def lines_of(org, how, items):
    raw = purchase(org, how, items)
    doc = post(org, raw)
    assert doc.total == D(raw["amount"]["amount"])
    return [
        (str(li["LineAmount"]), li["TaxType"], str(li["TaxAmount"])) for li in doc.body["LineItems"]
    ]


@pytest.mark.parametrize(
    ("org", "how", "fee_item", "expected"),
    [
        # 50.69 x 20% = 10.138: the fee's VAT is inside the tax; the fee line carries INPUT2
        (
            "UK",
            BANK,
            item("49.99", "10.14", "0.20", regulatory_fee="0.70"),
            [("49.99", "INPUT2", "10.00"), ("0.70", "INPUT2", "0.14")],
        ),
        # 49.99 x 20% = 9.998: the fee is untaxed; its line carries NONE (no VAT to reclaim)
        (
            "UK",
            BANK,
            item("49.99", "10.00", "0.20", regulatory_fee="0.70"),
            [("49.99", "INPUT2", "10.00"), ("0.70", "NONE", "0.00")],
        ),
        (
            "UK",
            BILL,
            item("49.99", "10.00", "0.20", regulatory_fee="0.70"),
            [("49.99", "INPUT2", "10.00"), ("0.70", "NONE", "0.00")],
        ),
        # ten units, a 0.50 fee: both readings are within rounding; the nearer one wins
        (
            "UK",
            BANK,
            item("89.90", "18.08", "0.20", regulatory_fee="0.50", quantity=10),
            [("89.90", "INPUT2", "17.98"), ("0.50", "INPUT2", "0.10")],
        ),
        (
            "UK",
            BANK,
            item("89.90", "17.98", "0.20", regulatory_fee="0.50", quantity=10),
            [("89.90", "INPUT2", "17.98"), ("0.50", "NONE", "0.00")],
        ),
        # the fee's VAT inside the tax, with a cent of rounding settled as usual
        (
            "UK",
            BILL,
            item("10.01", "2.14", "0.20", regulatory_fee="0.66"),  # 10.67 x 20% = 2.134 ~ 2.14
            [("10.01", "INPUT2", "2.01"), ("0.66", "INPUT2", "0.13")],
        ),
        (
            "DE",
            BANK,
            item("99.00", "19.95", "0.19", regulatory_fee="6.00"),  # 105 x 19% = 19.95
            [("99.00", "TAX001", "18.81"), ("6.00", "TAX001", "1.14")],
        ),
        (
            "DE",
            BANK,
            item("99.00", "18.81", "0.19", regulatory_fee="6.00"),
            [("99.00", "TAX001", "18.81"), ("6.00", "NONE", "0.00")],
        ),
        # US: sales tax is not reclaimable, whatever it covers
        (
            "US",
            BANK,
            item("199.99", "14.50", "0.0725", regulatory_fee="5.00"),
            [("199.99", "INPUT", "0.00"), ("5.00", "INPUT", "0.00"), ("14.50", "NONE", "0.00")],
        ),
    ],
)
def test_either_reading_of_the_fee_posts_when_it_reconciles(org, how, fee_item, expected):
    assert lines_of(org, how, [fee_item]) == expected


@pytest.mark.parametrize(
    ("org", "fee_item", "fragments"),
    [
        (
            "UK",
            item("49.99", "10.50", "0.20", regulatory_fee="0.70"),
            [
                "Amazon's tax of 10.50 on ",
                "20% of 50.69 is 10.14, or 10.00 if the regulatory fee of 0.70 is untaxed",
                "rounding explains at most 0.02",
            ],
        ),
        (
            "UK",
            item("49.99", "10.07", "0.20", regulatory_fee="0.70"),  # between the readings
            ["tax of 10.07", "is 10.14, or 10.00 if the regulatory fee"],
        ),
        (
            "UK",
            item("35.98", "7.50", "0.20"),
            ["tax of 7.50", "20% of 35.98 is 7.20 (rounding explains at most 0.01)"],
        ),
        ("UK", item("12.50", "0.01", "0.00"), ["tax of 0.01", "0% of 12.50 is 0.00"]),
        (
            "DE",
            item("99.00", "17.00", "0.19", regulatory_fee="6.00"),
            ["tax of 17.00", "19% of 105.00 is 19.95, or 18.81 if the regulatory fee of 6.00"],
        ),
    ],
)
def test_a_real_mismatch_is_held_with_both_figures(org, fee_item, fragments):
    raw = purchase(org, BANK, [fee_item])
    options = {"chart": de_chart(), "mapping": de_mapping()} if org == "DE" else {}
    result = held(post_uk(raw, **options))
    assert result.code == "tax_amount_mismatch"
    for fragment in fragments:
        assert fragment in result.reason, result.reason
