"""Tax per line as Xero computes it (issue 13 point 2): every line carries Xero's own figure, the
cents of difference from Amazon's tax go on one line (bills, credit notes) or a zero-net pair
(bank transactions), and every document's total is Amazon's amount. UK 20% and 5%, a US org
with unreclaimable sales tax, a euro-zone org (DE, 19% and 7%)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from decimal import ROUND_HALF_EVEN
from decimal import ROUND_HALF_UP
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from plugin.posting import settling_amount
from plugin.posting import xero_line_tax
from sandbox.xero.validation import own_tax as sandbox_xero_tax
from tests.common.tax_orgs import BANK
from tests.common.tax_orgs import BILL
from tests.common.tax_orgs import item
from tests.common.tax_orgs import post
from tests.common.tax_orgs import purchase

D = Decimal
CENT = D("0.01")


@dataclass
class Case:
    org: str
    how: tuple[str, str | None]
    items: list[dict[str, Any]]
    lines: list[tuple[str, str, str]]  # LineAmount, TaxType, TaxAmount
    descriptions: dict[int, str] = field(default_factory=dict)


DISCOUNTED = item("20.00", "0.14", "0.20", discount="-19.35")
CASES = {
    # the case: not 4.31 / -4.17 (Amazon's 0.14 spread by signed amounts)
    "uk-20-discount-bank": Case(
        "UK",
        BANK,
        [DISCOUNTED],
        [
            ("20.00", "INPUT2", "4.00"),
            ("-19.35", "INPUT2", "-3.87"),
            ("0.03", "INPUT2", "0.01"),
            ("-0.03", "NONE", "0.00"),
        ],
        {
            2: "Tax rounding at 20%: Amazon charged 0.14 tax, Xero's per-line tax is 0.13",
            3: "Tax rounding at 20%: offsets the 0.03 above (no tax)",
        },
    ),
    "uk-20-discount-bill": Case(
        "UK", BILL, [DISCOUNTED], [("20.00", "INPUT2", "4.01"), ("-19.35", "INPUT2", "-3.87")]
    ),
    "uk-20-amazon-lower-bank": Case(  # 38.97 x 20% = 7.794 -> 7.79; per line 7.20 + 0.60
        "UK",
        BANK,
        [item("35.98", "7.79", "0.20", shipping="2.99")],
        [
            ("35.98", "INPUT2", "7.20"),
            ("2.99", "INPUT2", "0.60"),
            ("-0.03", "INPUT2", "-0.01"),
            ("0.03", "NONE", "0.00"),
        ],
    ),
    "uk-20-exact-bank": Case(
        "UK",
        BANK,
        [item("35.98", "7.80", "0.20", shipping="2.99")],
        [("35.98", "INPUT2", "7.20"), ("2.99", "INPUT2", "0.60")],
    ),
    "uk-5-bank": Case(  # 13.09 x 5% = 0.6545 -> 0.65; per line 0.51 + 0.15
        "UK",
        BANK,
        [item("10.10", "0.65", "0.05", shipping="2.99")],
        [
            ("10.10", "RRINPUT", "0.51"),
            ("2.99", "RRINPUT", "0.15"),
            ("-0.10", "RRINPUT", "-0.01"),
            ("0.10", "NONE", "0.00"),
        ],
    ),
    "uk-5-bill": Case(
        "UK",
        BILL,
        [item("10.10", "0.65", "0.05", shipping="2.99")],
        [("10.10", "RRINPUT", "0.50"), ("2.99", "RRINPUT", "0.15")],
    ),
    "uk-two-items-cancel": Case(  # +0.01 on one item, -0.01 on the other: nothing to settle
        "UK",
        BANK,
        [DISCOUNTED, item("35.98", "7.79", "0.20", shipping="2.99")],
        [
            ("20.00", "INPUT2", "4.00"),
            ("-19.35", "INPUT2", "-3.87"),
            ("35.98", "INPUT2", "7.20"),
            ("2.99", "INPUT2", "0.60"),
        ],
    ),
    "uk-20-and-5-bank": Case(
        "UK",
        BANK,
        [DISCOUNTED, item("10.10", "0.65", "0.05", shipping="2.99")],
        [
            ("20.00", "INPUT2", "4.00"),
            ("-19.35", "INPUT2", "-3.87"),
            ("10.10", "RRINPUT", "0.51"),
            ("2.99", "RRINPUT", "0.15"),
            ("0.03", "INPUT2", "0.01"),
            ("-0.03", "NONE", "0.00"),
            ("-0.10", "RRINPUT", "-0.01"),
            ("0.10", "NONE", "0.00"),
        ],
    ),
    "us-unreclaimable-bank": Case(  # sales tax is its own NONE line; nothing to round
        "US",
        BANK,
        [item("199.99", "15.37", "0.0725", shipping="12.00")],
        [("199.99", "INPUT", "0.00"), ("12.00", "INPUT", "0.00"), ("15.37", "NONE", "0.00")],
    ),
    "us-unreclaimable-bill": Case(
        "US",
        BILL,
        [item("10.00", "0.73", "0.0725", discount="-9.90")],
        [("10.00", "INPUT", "0.00"), ("-9.90", "INPUT", "0.00"), ("0.73", "NONE", "0.00")],
    ),
    "de-19-bank": Case(  # 14.50 x 19% = 2.755 -> 2.76; per line 1.90 + 0.85
        "DE",
        BANK,
        [item("10.01", "2.76", "0.19", shipping="4.49")],
        [
            ("10.01", "TAX001", "1.90"),
            ("4.49", "TAX001", "0.85"),
            ("0.03", "TAX001", "0.01"),
            ("-0.03", "NONE", "0.00"),
        ],
    ),
    "de-19-bill": Case(
        "DE",
        BILL,
        [item("10.01", "2.76", "0.19", shipping="4.49")],
        [("10.01", "TAX001", "1.91"), ("4.49", "TAX001", "0.85")],
    ),
    "de-7-bank": Case(  # 14.50 x 7% = 1.015 -> 1.02; per line 0.70 + 0.31
        "DE",
        BANK,
        [item("10.01", "1.02", "0.07", shipping="4.49")],
        [
            ("10.01", "TAX002", "0.70"),
            ("4.49", "TAX002", "0.31"),
            ("0.08", "TAX002", "0.01"),
            ("-0.08", "NONE", "0.00"),
        ],
    ),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_lines_carry_xeros_tax_and_the_difference_goes_on_one_line(case: Case) -> None:
    raw = purchase(case.org, case.how, case.items)
    doc = post(case.org, raw)
    got = [
        (str(li["LineAmount"]), li["TaxType"], str(li["TaxAmount"])) for li in doc.body["LineItems"]
    ]
    assert got == case.lines
    assert doc.total == D(raw["amount"]["amount"])
    assert sum(D(li["TaxAmount"]) for li in doc.body["LineItems"]) == reclaimed(case.org, raw)
    for index, text in case.descriptions.items():
        assert doc.body["LineItems"][index]["Description"] == text


def reclaimed(org: str, raw: dict[str, Any]) -> Decimal:
    """The tax reclaimed: Amazon's, except in the US where sales tax is not reclaimable."""
    if org == "US":
        return D(0)
    return sum((D(i["tax"]["amount"]) for i in raw["transactionLineItems"]), D(0))


@pytest.mark.parametrize(
    ("difference", "rate", "amount"),
    [
        ("0.01", "0.20", "0.03"),
        ("-0.01", "0.20", "-0.03"),
        ("0.02", "0.20", "0.08"),
        ("0.01", "0.05", "0.10"),
        ("0.01", "0.19", "0.03"),
        ("0.01", "0.07", "0.08"),
        ("0.03", "0.055", "0.46"),
        ("0.01", "1", "0.01"),
        ("0.01", "0", None),
    ],
)
def test_settling_amount_is_the_smallest_whose_xero_tax_is_the_difference(
    difference: str, rate: str, amount: str | None
) -> None:
    found = settling_amount(D(difference), D(rate))
    assert found == (None if amount is None else D(amount))
    if found is not None:
        assert xero_line_tax(found, D(rate)) == D(difference)
        assert xero_line_tax(found - CENT.copy_sign(found), D(rate)) != D(difference)


@pytest.mark.parametrize(
    ("amount", "rate", "tax"),
    [("0.025", "0.20", "0.01"), ("-0.03", "0.20", "-0.01"), ("2.5", "0.05", "0.13")],
)
def test_xero_rounds_halves_away_from_zero(amount: str, rate: str, tax: str) -> None:
    assert xero_line_tax(D(amount), D(rate)) == D(tax)
    assert sandbox_xero_tax(D(amount), D(rate) * 100, "Exclusive") == D(tax)


# --- the property: totals are Amazon's, every line's tax is Xero's but for the rule's one -----

UK_RATES = {"0.20": "INPUT2", "0.05": "RRINPUT", "0.00": "ZERORATEDINPUT"}
DE_RATES = {"0.19": "TAX001", "0.07": "TAX002"}
PERCENT = {"INPUT2": 20, "RRINPUT": 5, "ZERORATEDINPUT": 0, "TAX001": 19, "TAX002": 7, "NONE": 0}

money = st.integers(min_value=1, max_value=50_000).map(lambda c: D(c) / 100)
extra = st.one_of(st.none(), st.integers(min_value=1, max_value=2_000).map(lambda c: D(c) / 100))


def amazon_tax(parts: dict[str, Decimal], rate: Decimal, how: str, quantity: int) -> Decimal:
    """Amazon's tax as it might round it: once, half up or half even, per part, or per unit."""
    if how == "per_part":
        return sum((xero_line_tax(v, rate) for v in parts.values()), D(0))
    if how == "per_unit" and parts["principal"] % (CENT * quantity) == 0:
        unit = parts["principal"] / quantity
        others = sum((v for k, v in parts.items() if k != "principal"), D(0))
        return xero_line_tax(unit, rate) * quantity + xero_line_tax(others, rate)
    mode = ROUND_HALF_EVEN if how == "half_even" else ROUND_HALF_UP
    return (sum(parts.values(), D(0)) * rate).quantize(CENT, mode)


@st.composite
def items(draw: st.DrawFn, rates: dict[str, str]) -> dict[str, Any]:
    rate = draw(st.sampled_from(sorted(rates)))
    quantity = draw(st.sampled_from([1, 1, 2, 3, 10]))
    principal = draw(money)
    parts = {"principal": principal}
    for name in ("shipping", "regulatory_fee"):
        value = draw(extra)
        if value is not None:
            parts[name] = value
    share = draw(st.sampled_from([None, D("0.1"), D("0.5"), D("0.97"), D("0.999")]))
    if share is not None and 0 < (discount := (principal * share).quantize(CENT)) < principal:
        parts["discount"] = -discount
    fee_taxed = draw(st.booleans())
    taxable = {k: v for k, v in parts.items() if fee_taxed or k != "regulatory_fee"}
    how = draw(st.sampled_from(["half_up", "half_even", "per_part", "per_unit"]))
    tax = amazon_tax(taxable, D(rate), how, quantity)
    return {
        "quantity": quantity,
        "tax_rate": rate,
        "tax": str(tax),
        **{k: str(v) for k, v in parts.items()},
    }


def xero_figure(line: dict[str, Any]) -> Decimal:
    """What the sandbox (as Xero) computes for a line: its own, independent code."""
    return sandbox_xero_tax(D(line["LineAmount"]), D(PERCENT[line["TaxType"]]), "Exclusive")


@settings(max_examples=300, deadline=None)
@given(
    org=st.sampled_from(["UK", "DE"]),
    how=st.sampled_from([BANK, BILL]),
    data=st.data(),
)
def test_every_document_totals_amazons_amount_with_xeros_tax_per_line(org, how, data) -> None:
    rates = UK_RATES if org == "UK" else DE_RATES
    drawn = data.draw(st.lists(items(rates), min_size=1, max_size=4))
    raw = purchase(org, how, drawn)
    doc = post(org, raw)
    lines = doc.body["LineItems"]
    assert doc.total == D(raw["amount"]["amount"])
    assert sum((D(li["LineAmount"]) + D(li["TaxAmount"]) for li in lines), D(0)) == doc.total
    assert sum((D(li["TaxAmount"]) for li in lines), D(0)) == reclaimed(org, raw)
    off = [
        li
        for li in lines
        if D(li["TaxAmount"])
        != sandbox_xero_tax(D(li["LineAmount"]), D(PERCENT[li["TaxType"]]), "Exclusive")
    ]
    if how == BANK:
        assert off == []  # Xero would refuse any other TaxAmount on a bank transaction
    else:
        assert len({li["TaxType"] for li in off}) == len(off)  # at most one line per tax type
        for li in off:
            others = [x for x in lines if x["TaxType"] == li["TaxType"]]
            assert abs(D(li["LineAmount"])) == max(abs(D(x["LineAmount"])) for x in others)
