"""Suggested defaults for realistic UK and US charts; suggestions never replace choices."""

from __future__ import annotations

from decimal import Decimal

import pytest

from plugin.mapping.chart_checks import validate_mapping
from plugin.mapping.files import dump_mapping
from plugin.mapping.preview import preview
from plugin.mapping.suggestions import default_expense_account
from plugin.mapping.suggestions import instrument_label
from plugin.mapping.suggestions import suggest_card_account
from plugin.mapping.suggestions import suggest_mapping
from plugin.mapping.suggestions import suggest_treatment
from plugin.posting import SAME_AS_ITEM
from plugin.posting import LineTypeAccounts
from plugin.posting import Mapping
from plugin.posting import PaymentMethodMapping
from plugin.posting import TaxRateMapping
from tests.common.amazon_payloads import uk_card_charge
from tests.common.amazon_payloads import uk_card_refund
from tests.common.amazon_payloads import us_card_charge
from tests.common.amazon_payloads import us_card_refund
from tests.common.amazon_payloads import us_pbi_charge
from tests.common.amazon_payloads import us_pbi_refund
from tests.common.charts import account
from tests.common.charts import bank
from tests.common.charts import chart_of
from tests.common.charts import uk_chart
from tests.common.charts import us_chart

UK = chart_of(uk_chart())
US = chart_of(us_chart())
US_METHODS = [
    ("Visa", "4242"),
    ("American Express", "1005"),
    ("Pay by Invoice", None),
    ("Gift Card Balance", None),
]
US_RATES = [Decimal("0.0725"), Decimal("0.08875"), Decimal("0.00")]
UK_METHODS = [("Visa", "4242"), ("Mastercard", "7777"), ("Pay by Invoice", None)]
UK_RATES = [Decimal("0.20"), Decimal("0.05"), Decimal("0.00"), Decimal("0.19")]


@pytest.mark.parametrize(
    ("instrument", "last4", "treatment"),
    [
        ("Visa", "4242", "spend_money"),
        ("Pay by Invoice", None, "bill"),
        ("PAY BY INVOICE", "", "bill"),
        ("Invoice (Net 30)", None, "bill"),
        ("Gift Card Balance", None, "spend_money"),
        ("Amazon Business Rewards", None, "spend_money"),
        (None, None, "spend_money"),
    ],
)
def test_suggested_treatment(instrument, last4, treatment) -> None:
    assert suggest_treatment(instrument, last4) == treatment


@pytest.mark.parametrize(
    ("instrument", "last4", "label"),
    [
        ("Visa", "4242", "Visa ending 4242"),
        ("Pay by Invoice", None, "Pay by Invoice"),
        ("Gift Card Balance", "", "Gift Card Balance"),
        ("", None, "Unnamed payment method"),
    ],
)
def test_instrument_label(instrument, last4, label) -> None:
    assert instrument_label(instrument, last4) == label


def test_us_chart_suggestions() -> None:
    s = suggest_mapping(US, US_METHODS, US_RATES)
    assert dump_mapping(s.mapping) == {
        "version": 2,
        "payment_methods": [
            {"type": "Visa", "last4": "4242", "treatment": "spend_money", "account_code": "1090"},
            {
                "type": "American Express",
                "last4": "1005",
                "treatment": "spend_money",
                "account_code": "1095",
            },
            {
                "type": "Pay by Invoice",
                "last4": None,
                "treatment": "bill",
                "payment_account_code": "1000",
            },
        ],
        "expense_default_account_code": "6000",
        "expense_rules": [],
        # US sales tax cannot be reclaimed: every rate goes to 0% "Tax on Purchases"
        "tax_rates": [
            {"rate": "0.00", "tax_type": "INPUT"},
            {"rate": "0.0725", "tax_type": "INPUT"},
            {"rate": "0.08875", "tax_type": "INPUT"},
        ],
        "unreclaimable_tax": "separate_line",
        "line_types": {
            "shipping": "6020",
            "gift_wrap": "6000",
            "regulatory_fee": "6000",
            "discount": "same_as_item",
            "tax": "6000",
        },
        "bill_due_days": 30,
        "tracking": [],
    }
    # the gift card balance gets a treatment but no guessed account
    assert s.treatments == {
        "Visa:4242": "spend_money",
        "American Express:1005": "spend_money",
        "Pay by Invoice:": "bill",
        "Gift Card Balance:": "spend_money",
    }
    assert not s.is_suggested("payment_method", "Gift Card Balance:")
    assert s.is_suggested("payment_method", "Visa:4242")
    assert s.is_suggested("tax", "0.08875")
    assert s.is_suggested("expense_default")
    assert validate_mapping(s.mapping, US) == []


def test_uk_chart_suggestions() -> None:
    s = suggest_mapping(UK, UK_METHODS, UK_RATES)
    mapping = s.mapping
    assert mapping.expense_default_account_code == "429"  # General Expenses
    assert [(str(t.rate), t.tax_type) for t in mapping.tax_rates] == [
        ("0.00", "ZERORATEDINPUT"),  # "Zero Rated Expenses" is named for expenses
        ("0.05", "RRINPUT"),
        ("0.19", "NONE"),  # German VAT cannot be reclaimed: "No VAT", not "zero rated"
        ("0.20", "INPUT2"),
    ]
    assert mapping.line_types == LineTypeAccounts("425", "429", "429", SAME_AS_ITEM, "429")
    assert [
        (pm.key, pm.account_code, pm.payment_account_code) for pm in mapping.payment_methods
    ] == [
        ("Visa:4242", "800", None),
        ("Mastercard:7777", "810", None),  # the EUR card, by the digits in its name
        ("Pay by Invoice:", None, "090"),
    ]
    assert s.suggested == {
        ("expense_default", ""),
        ("tax", "0.00"),
        ("tax", "0.05"),
        ("tax", "0.19"),
        ("tax", "0.20"),
        ("line_type", "shipping"),
        ("line_type", "gift_wrap"),
        ("line_type", "regulatory_fee"),
        ("line_type", "discount"),
        ("line_type", "tax"),
        ("payment_method", "Visa:4242"),
        ("payment_method", "Mastercard:7777"),
        ("payment_method", "Pay by Invoice:"),
    }
    assert validate_mapping(mapping, UK) == []


@pytest.mark.parametrize(
    ("chart", "methods", "rates", "transactions"),
    [
        ("uk", UK_METHODS, UK_RATES, [uk_card_charge(), uk_card_refund()]),
        (
            "us",
            US_METHODS,
            US_RATES,
            [us_card_charge(), us_card_refund(), us_pbi_charge(), us_pbi_refund()],
        ),
    ],
)
def test_the_suggested_mapping_posts_realistic_purchases(chart, methods, rates, transactions):
    chart_json = uk_chart() if chart == "uk" else us_chart()
    s = suggest_mapping(chart_of(chart_json), methods, rates)
    out = preview({"transactions": transactions}, dump_mapping(s.mapping), chart_json)
    assert out["held"] == []
    assert len(out["documents"]) == len(transactions)


def test_office_is_preferred_then_supplies_then_general() -> None:
    accounts = [
        account("429", "General Expenses", "OVERHEADS"),
        account("430", "Cleaning Supplies", "OVERHEADS"),
        account("440", "Office Furniture", "FIXED"),  # not an expense type
        account("450", "Office Expenses", "EXPENSE", status="ARCHIVED"),
        account("453", "Office Expenses", "OVERHEADS"),
    ]
    assert default_expense_account(chart_of(uk_chart(Accounts=accounts))).code == "453"
    assert default_expense_account(chart_of(uk_chart(Accounts=accounts[:2]))).code == "430"
    assert default_expense_account(chart_of(uk_chart(Accounts=accounts[:1]))).code == "429"
    only_other = [account("400", "Advertising", "OVERHEADS")]
    assert default_expense_account(chart_of(uk_chart(Accounts=only_other))).code == "400"
    assert default_expense_account(chart_of(uk_chart(Accounts=[]))) is None


def test_a_card_goes_to_the_only_credit_card_unless_it_names_another_card() -> None:
    plain = chart_of(uk_chart(Accounts=[bank("090", "Bank", "BANK"), bank("800", "Company Card")]))
    assert suggest_card_account(plain, "5555").code == "800"
    named = chart_of(uk_chart(Accounts=[bank("800", "Barclaycard Visa 4242")]))
    assert suggest_card_account(named, "5555") is None
    assert suggest_card_account(named, "4242").code == "800"
    assert suggest_card_account(US, "5555") is None  # two active credit cards: no guess
    assert suggest_card_account(US, None) is None


def test_only_the_gaps_of_the_current_mapping_are_filled() -> None:
    current = Mapping(
        payment_methods=(PaymentMethodMapping("Visa", "4242", "spend_money", "810"),),
        expense_default_account_code="461",
        tax_rates=(TaxRateMapping(Decimal("0.20"), "INPUT2"),),
        line_types=LineTypeAccounts(shipping="429"),
    )
    s = suggest_mapping(UK, UK_METHODS, UK_RATES, current)
    assert s.mapping.payment_method("Visa:4242").account_code == "810"
    assert s.mapping.expense_default_account_code == "461"
    assert s.mapping.line_types == LineTypeAccounts("429", "461", "461", SAME_AS_ITEM, "461")
    assert s.mapping.tax_type_for(Decimal("0.05")) == "RRINPUT"
    assert not s.is_suggested("payment_method", "Visa:4242")
    assert not s.is_suggested("expense_default")
    assert not s.is_suggested("tax", "0.20")
    assert not s.is_suggested("line_type", "shipping")
    assert not s.is_suggested("line_type", "discount")
    assert s.is_suggested("line_type", "gift_wrap")
    assert s.is_suggested("payment_method", "Mastercard:7777")


def test_nothing_is_suggested_from_an_empty_chart() -> None:
    s = suggest_mapping(chart_of(uk_chart(Accounts=[], TaxRates=[])), UK_METHODS, UK_RATES)
    assert s.mapping.expense_default_account_code is None
    assert s.mapping.tax_rates == ()
    assert [pm.key for pm in s.mapping.payment_methods] == ["Pay by Invoice:"]
    assert s.mapping.payment_methods[0].payment_account_code is None
    assert s.suggested == {("line_type", "discount"), ("payment_method", "Pay by Invoice:")}
