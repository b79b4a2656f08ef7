"""Tax: reclaimable VAT carries the mapped tax type and Amazon's amount; US sales tax does not."""

from __future__ import annotations

from decimal import Decimal

import pytest

from plugin.posting import percent_text
from tests.common.amazon_payloads import line_item
from tests.common.amazon_payloads import transaction
from tests.common.amazon_payloads import uk_line
from tests.common.amazon_payloads import us_taxed_line
from tests.common.charts import uk_mapping
from tests.common.charts import us_mapping
from tests.common.posting import amounts
from tests.common.posting import document
from tests.common.posting import held
from tests.common.posting import post_uk
from tests.common.posting import post_us


def uk_tx(*lines: dict) -> dict:
    return transaction(currency="GBP", lines=list(lines))


@pytest.mark.parametrize(
    ("rate", "principal", "tax_type", "tax"),
    [
        ("0.20", "35.98", "INPUT2", Decimal("7.20")),
        ("0.2", "35.98", "INPUT2", Decimal("7.20")),  # "0.2" == "0.20" as numbers
        ("0.05", "120.00", "RRINPUT", Decimal("6.00")),
        ("0.00", "12.50", "ZERORATEDINPUT", Decimal("0.00")),
        ("0", "12.50", "ZERORATEDINPUT", Decimal("0.00")),
    ],
)
def test_uk_vat_rates_map_to_their_tax_types_with_amazons_tax(rate, principal, tax_type, tax):
    doc = document(post_uk(uk_tx(uk_line(rate, principal))))
    line = doc.body["LineItems"][0]
    assert line["TaxType"] == tax_type
    assert line["TaxAmount"] == tax
    assert len(doc.body["LineItems"]) == 1


def test_mixed_vat_rates_in_one_order_keep_each_lines_type() -> None:
    doc = document(
        post_uk(
            uk_tx(
                uk_line("0.20", "35.98", order_line_item_id="1"),
                uk_line("0.05", "18.40", order_line_item_id="2", title="Child car seat"),
                uk_line("0.00", "9.99", order_line_item_id="3", title="Book"),
            )
        )
    )
    assert amounts(doc, "TaxType") == ["INPUT2", "RRINPUT", "ZERORATEDINPUT"]
    assert amounts(doc, "TaxAmount") == [Decimal("7.20"), Decimal("0.92"), Decimal("0.00")]
    assert doc.total == Decimal("72.49")


def test_vat_is_split_across_the_items_lines_and_sums_to_amazons_tax() -> None:
    item = uk_line("0.20", "10.00", shipping="3.33", gift_wrap="1.67", discount="-1.00")
    doc = document(post_uk(uk_tx(item)))
    taxes = amounts(doc, "TaxAmount")
    assert sum(taxes) == Decimal(item["tax"]["amount"]) == Decimal("2.80")
    assert taxes == [Decimal("2.00"), Decimal("0.67"), Decimal("0.33"), Decimal("-0.20")]
    assert set(amounts(doc, "TaxType")) == {"INPUT2"}


def test_vat_mapping_accepts_rates_written_differently() -> None:
    mapping = uk_mapping(tax_rates=[{"rate": "0.2000", "tax_type": "INPUT2"}])
    doc = document(post_uk(uk_tx(uk_line("0.20", "35.98")), mapping=mapping))
    assert doc.body["LineItems"][0]["TaxType"] == "INPUT2"


US_RATES = ["0.0725", "0.08875", "0.0625"]


@pytest.mark.parametrize("rate", US_RATES)
def test_us_sales_tax_as_a_separate_line_to_the_tax_account(rate: str) -> None:
    item = us_taxed_line(rate, "199.99", shipping="12.00")
    doc = document(post_us(transaction(lines=[item])))
    tax = Decimal(item["tax"]["amount"])
    assert amounts(doc, "LineAmount") == [Decimal("199.99"), Decimal("12.00"), tax]
    assert amounts(doc, "TaxAmount") == [Decimal("0.00"), Decimal("0.00"), Decimal("0.00")]
    assert amounts(doc, "TaxType") == ["INPUT", "INPUT", "NONE"]
    assert amounts(doc, "AccountCode") == ["6000", "6020", "6050"]
    assert doc.body["LineItems"][2]["Description"] == (
        f"Tax at {percent_text(Decimal(rate))} charged by Amazon (not reclaimable)"
    )
    assert doc.total == Decimal(item["totalAmount"]["amount"])


@pytest.mark.parametrize("rate", US_RATES)
def test_us_sales_tax_folded_into_the_item_line(rate: str) -> None:
    item = us_taxed_line(rate, "199.99", shipping="12.00", quantity=1)
    mapping = us_mapping(unreclaimable_tax="fold_into_item")
    doc = document(post_us(transaction(lines=[item]), mapping=mapping))
    tax = Decimal(item["tax"]["amount"])
    assert amounts(doc, "LineAmount") == [Decimal("199.99") + tax, Decimal("12.00")]
    assert amounts(doc, "TaxAmount") == [Decimal("0.00"), Decimal("0.00")]
    assert amounts(doc, "AccountCode") == ["6000", "6020"]


def test_folded_tax_recomputes_quantity_so_nothing_drifts() -> None:
    item = us_taxed_line("0.0725", "49.98", quantity=2)  # tax 3.62 -> 53.60 = 2 x 26.80
    doc = document(
        post_us(transaction(lines=[item]), mapping=us_mapping(unreclaimable_tax="fold_into_item"))
    )
    line = doc.body["LineItems"][0]
    assert (line["Quantity"], line["UnitAmount"], line["LineAmount"]) == (
        2,
        Decimal("26.80"),
        Decimal("53.60"),
    )
    odd = us_taxed_line("0.0625", "49.98", quantity=2)  # tax 3.12 -> 53.10 = 2 x 26.55
    doc = document(
        post_us(transaction(lines=[odd]), mapping=us_mapping(unreclaimable_tax="fold_into_item"))
    )
    assert doc.body["LineItems"][0]["Quantity"] == 2
    three = us_taxed_line("0.0725", "30.00", quantity=3)  # 32.18 / 3 is not whole cents
    doc = document(
        post_us(transaction(lines=[three]), mapping=us_mapping(unreclaimable_tax="fold_into_item"))
    )
    line = doc.body["LineItems"][0]
    assert (line["Quantity"], line["LineAmount"]) == (1, Decimal("32.18"))
    assert "quantity 3" in line["Description"]


def test_us_tax_lines_are_one_per_rate_across_items() -> None:
    lines = [
        us_taxed_line("0.0725", "10.00", order_line_item_id="1"),
        us_taxed_line("0.08875", "20.00", order_line_item_id="2"),
        us_taxed_line("0.0725", "30.00", order_line_item_id="3"),
    ]
    doc = document(post_us(transaction(lines=lines)))
    tax_lines = [line for line in doc.body["LineItems"] if line["TaxType"] == "NONE"]
    assert [(line["Description"][:13], line["LineAmount"]) for line in tax_lines] == [
        ("Tax at 7.25% ", Decimal("2.90")),
        ("Tax at 8.875%", Decimal("1.78")),
    ]


def test_untaxed_us_line_adds_no_tax_line() -> None:
    doc = document(post_us(transaction(lines=[line_item(tax="0.00", tax_rate="0.0725")])))
    assert amounts(doc, "TaxType") == ["INPUT"]


def test_line_without_rate_or_tax_is_treated_as_zero_rated() -> None:
    doc = document(post_us(transaction(lines=[line_item(tax=None, tax_rate=None)])))
    assert amounts(doc, "TaxType") == ["NONE"]


@pytest.mark.parametrize(
    ("rate", "tax_type", "fragment"),
    [
        ("0.20", "RRINPUT", "Amazon charged tax at 20% but the mapped Xero tax rate 5% (VAT"),
        ("0.05", "INPUT2", "Amazon charged tax at 5% but the mapped Xero tax rate 20% (VAT"),
        ("0.00", "INPUT2", "Amazon charged tax at 0% but the mapped Xero tax rate 20% (VAT"),
    ],
)
def test_rate_mismatch_is_held_naming_both_rates(rate: str, tax_type: str, fragment: str) -> None:
    mapping = uk_mapping(tax_rates=[{"rate": rate, "tax_type": tax_type}])
    result = held(post_uk(uk_tx(uk_line(rate, "35.98")), mapping=mapping))
    assert result.code == "tax_rate_mismatch"
    assert fragment in result.reason
    assert "under Taxes" in result.reason


@pytest.mark.parametrize(
    ("tax", "ok"),
    [("7.20", True), ("7.19", True), ("7.21", True), ("7.23", False), ("1.80", False)],
)
def test_amazons_tax_must_agree_with_its_own_rate(tax: str, ok: bool) -> None:
    item = line_item(currency="GBP", principal="35.98", tax=tax, tax_rate="0.20", quantity=2)
    result = post_uk(uk_tx(item))
    if ok:
        doc = document(result)
        assert doc.body["LineItems"][0]["TaxAmount"] == Decimal("7.20")  # Xero's own figure
        assert sum(amounts(doc, "TaxAmount")) == Decimal(tax)  # the rest: tax rounding lines
        assert doc.total == Decimal("35.98") + Decimal(tax)
    else:
        reason = held(result).reason
        assert held(result).code == "tax_amount_mismatch"
        assert f"tax of {tax}" in reason
        assert "20% of 35.98 is 7.20" in reason
