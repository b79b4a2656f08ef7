"""The mapping export format, CHART.json, TX.json and preview: one clear line per fault."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import simplejson

from plugin.amazon.models import ParseFailure
from plugin.amazon.models import Transaction
from plugin.mapping.chart_file import ChartFileError
from plugin.mapping.chart_file import load_chart
from plugin.mapping.files import MappingFileError
from plugin.mapping.files import dump_mapping
from plugin.mapping.files import load_mapping
from plugin.mapping.json_files import InputFileError
from plugin.mapping.preview import TransactionsFileError
from plugin.mapping.preview import load_transactions_file
from plugin.mapping.preview import preview
from plugin.posting import SAME_AS_ITEM
from plugin.posting import ExpenseRule
from plugin.posting import LineTypeAccounts
from plugin.posting import Mapping
from plugin.posting import PaymentMethodMapping
from plugin.posting import TaxRateMapping
from plugin.posting import xero_date
from tests.common.amazon_payloads import spec_example_page
from tests.common.amazon_payloads import us_card_charge
from tests.common.amazon_payloads import us_pbi_charge
from tests.common.charts import uk_chart
from tests.common.charts import uk_mapping
from tests.common.charts import us_chart
from tests.common.charts import us_mapping

DESIGN_EXAMPLE: dict[str, Any] = {
    "version": 1,
    "payment_methods": [
        {"type": "Visa", "last4": "4242", "treatment": "spend_money", "account_code": "800"},
        {
            "type": "Pay by Invoice",
            "last4": None,
            "treatment": "bill",
            "payment_account_code": "090",
        },
    ],
    "expense_default_account_code": "429",
    "expense_rules": [
        {
            "field": "business_order_info",
            "key": "GL code",
            "value": "6100-office",
            "account_code": "461",
        },
        {"field": "unspsc_prefix", "value": "44", "account_code": "461"},
    ],
    "tax_rates": [
        {"rate": "0.20", "tax_type": "INPUT2"},
        {"rate": "0.00", "tax_type": "ZERORATEDINPUT"},
    ],
    "unreclaimable_tax": "separate_line",
    "line_types": {
        "shipping": "425",
        "gift_wrap": "429",
        "regulatory_fee": "429",
        "discount": "same_as_item",
        "tax": "429",
    },
}


def test_design_example_loads_exactly() -> None:
    assert load_mapping(copy.deepcopy(DESIGN_EXAMPLE), "MAP.json") == Mapping(
        payment_methods=(
            PaymentMethodMapping("Visa", "4242", "spend_money", account_code="800"),
            PaymentMethodMapping("Pay by Invoice", None, "bill", payment_account_code="090"),
        ),
        expense_default_account_code="429",
        expense_rules=(
            ExpenseRule("business_order_info", "6100-office", "461", key="GL code"),
            ExpenseRule("unspsc_prefix", "44", "461"),
        ),
        tax_rates=(
            TaxRateMapping(Decimal("0.20"), "INPUT2"),
            TaxRateMapping(Decimal("0.00"), "ZERORATEDINPUT"),
        ),
        unreclaimable_tax="separate_line",
        line_types=LineTypeAccounts("425", "429", "429", SAME_AS_ITEM, "429"),
        bill_due_days=30,
    )


@pytest.mark.parametrize("data", [DESIGN_EXAMPLE, us_mapping(), uk_mapping(bill_due_days=45)])
def test_dump_then_load_round_trips(data: dict[str, Any]) -> None:
    mapping = load_mapping(copy.deepcopy(data), "MAP.json")
    dumped = dump_mapping(mapping)
    assert load_mapping(json.loads(json.dumps(dumped)), "again") == mapping
    assert dumped["version"] == 2
    assert dumped["tracking"] == []
    assert dumped["tax_rates"] == [
        {"rate": t["rate"], "tax_type": t["tax_type"]} for t in data["tax_rates"]
    ]


def test_only_version_is_required() -> None:
    assert load_mapping({"version": 1}, "MAP.json") == Mapping()


def _with(change) -> dict[str, Any]:
    data = copy.deepcopy(DESIGN_EXAMPLE)
    change(data)
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("text", 'MAP.json: $: should be an object, got "text"'),
        ({}, "MAP.json: $.version: is missing"),
        ({"version": 3}, "MAP.json: $.version: should be 1 or 2, got 3"),
        ({"version": True}, "MAP.json: $.version: should be 1 or 2, got true"),
        (
            {"version": 1, "expense_rule": []},
            "MAP.json: $.expense_rule: unknown key (allowed: version,",
        ),
        (
            {"version": 1, "payment_methods": {}},
            "MAP.json: $.payment_methods: should be a list, got {}",
        ),
        (
            _with(lambda d: d["payment_methods"][1].update(treatment="invoice")),
            "MAP.json: $.payment_methods[1].treatment: must be one of 'spend_money', 'bill', "
            'got "invoice"',
        ),
        (
            _with(lambda d: d["payment_methods"][0].pop("account_code")),
            "MAP.json: $.payment_methods[0].account_code: is missing "
            "(spend_money needs a bank account)",
        ),
        (
            _with(lambda d: d["payment_methods"][0].update(last4=4242)),
            "MAP.json: $.payment_methods[0].last4: should be text or null, got 4242",
        ),
        (
            _with(lambda d: d["payment_methods"][0].update(type="")),
            'MAP.json: $.payment_methods[0].type: should be non-empty text, got ""',
        ),
        (
            _with(lambda d: d["payment_methods"][0].update(colour="red")),
            "MAP.json: $.payment_methods[0].colour: unknown key",
        ),
        (
            _with(lambda d: d["payment_methods"].append(dict(d["payment_methods"][1], last4=""))),
            "MAP.json: $.payment_methods[2]: repeats the type and last4 of $.payment_methods[1]",
        ),
        (
            _with(lambda d: d["payment_methods"][0].update(account_code="12345678901")),
            "MAP.json: $.payment_methods[0].account_code: should be at most 10 characters",
        ),
        (
            _with(lambda d: d["expense_rules"][0].pop("key")),
            "MAP.json: $.expense_rules[0].key: is missing",
        ),
        (
            _with(lambda d: d["expense_rules"][1].update(key="GL code")),
            "MAP.json: $.expense_rules[1].key: is only used by business_order_info rules",
        ),
        (
            _with(lambda d: d["expense_rules"][1].update(field="category")),
            "MAP.json: $.expense_rules[1].field: must be one of 'business_order_info', "
            "'unspsc_prefix', 'legal_entity', 'customer_group', got \"category\"",
        ),
        (
            _with(lambda d: d["tax_rates"][0].update(rate=0.2)),
            'MAP.json: $.tax_rates[0].rate: should be a rate as text, like "0.20", got 0.2',
        ),
        (
            _with(lambda d: d["tax_rates"][0].update(rate="20%")),
            "MAP.json: $.tax_rates[0].rate: '20%' is not a tax rate",
        ),
        (
            _with(lambda d: d["tax_rates"][0].update(rate="20")),
            "MAP.json: $.tax_rates[0].rate: should be a fraction from 0 to 1",
        ),
        (
            _with(lambda d: d["tax_rates"].append({"rate": "0.2", "tax_type": "X"})),
            "MAP.json: $.tax_rates[2]: repeats the rate of $.tax_rates[0]",
        ),
        (
            _with(lambda d: d["tax_rates"][1].pop("tax_type")),
            "MAP.json: $.tax_rates[1].tax_type: is missing",
        ),
        (
            _with(lambda d: d.update(unreclaimable_tax="expense")),
            "MAP.json: $.unreclaimable_tax: must be one of 'separate_line', 'fold_into_item'",
        ),
        (
            _with(lambda d: d["line_types"].update(freight="425")),
            "MAP.json: $.line_types.freight: unknown key",
        ),
        (
            _with(lambda d: d["line_types"].update(shipping=425)),
            "MAP.json: $.line_types.shipping: should be non-empty text, got 425",
        ),
        (
            _with(lambda d: d.update(bill_due_days=-1)),
            "MAP.json: $.bill_due_days: should be a whole number from 0 to 3650, got -1",
        ),
        (
            _with(lambda d: d.update(bill_due_days="30")),
            'MAP.json: $.bill_due_days: should be a whole number from 0 to 3650, got "30"',
        ),
    ],
)
def test_mapping_errors_are_one_line_naming_source_path_and_problem(data, message: str) -> None:
    with pytest.raises(MappingFileError) as caught:
        load_mapping(data, "MAP.json")
    text = str(caught.value)
    assert text.startswith(message), text
    assert "\n" not in text


# --- chart -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-31T00:00:00", date(2026, 1, 31)),
        ("2026-01-31", date(2026, 1, 31)),
        ("/Date(1769817600000+0000)/", date(2026, 1, 31)),
        ("/Date(1769817600000)/", date(2026, 1, 31)),
        ("/Date(1769810400000+1300)/", date(2026, 1, 31)),
        ("/Date(1769817600000-0500)/", date(2026, 1, 30)),
    ],
)
def test_xero_dates(value: str, expected: date) -> None:
    assert xero_date(value) == expected


@pytest.mark.parametrize(
    "value", ["", "31/01/2026", "/Date(abc)/", "/Date(1+00)/", 1769817600000, None]
)
def test_bad_xero_dates(value: object) -> None:
    with pytest.raises(ValueError, match="is not a Xero date"):
        xero_date(value)


def test_us_chart_loads() -> None:
    chart = load_chart(us_chart(), "CHART.json")
    assert chart.base_currency == "USD"
    assert chart.lock_date == date(2025, 12, 31)
    assert chart.end_of_year_lock_date == date(2024, 12, 31)
    assert chart.enabled_currencies == {"USD"}
    visa = chart.account("1090")
    assert visa is not None
    assert (visa.type, visa.bank_account_type, visa.status) == ("BANK", "CREDITCARD", "ACTIVE")
    rate = chart.tax_rate("INPUT")
    assert rate is not None
    assert rate.effective_rate == Decimal("0")
    assert chart.account("2000").system_account == "CREDITORS"  # type: ignore[union-attr]


def test_uk_chart_loads_with_eur_card_and_percent_rates() -> None:
    chart = load_chart(uk_chart(), "CHART.json")
    assert chart.enabled_currencies == {"GBP", "EUR"}
    assert chart.account("810").currency_code == "EUR"  # type: ignore[union-attr]
    assert chart.tax_rate("INPUT2").fraction == Decimal("0.2")  # type: ignore[union-attr]
    assert chart.lock_date == date(2025, 1, 31)


def test_chart_without_currencies_enables_only_the_base_currency() -> None:
    data = uk_chart()
    del data["Currencies"]
    assert load_chart(data, "CHART.json").enabled_currencies == {"GBP"}


def _chart_with(change) -> dict[str, Any]:
    data = us_chart()
    change(data)
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "CHART.json: $: should be an object"),
        ({}, "CHART.json: $.Organisation: is missing"),
        (
            _chart_with(lambda c: c["Organisation"].pop("BaseCurrency")),
            "CHART.json: $.Organisation.BaseCurrency: is missing",
        ),
        (
            _chart_with(lambda c: c["Organisation"].update(BaseCurrency="usd")),
            "CHART.json: $.Organisation.BaseCurrency: should be a three-letter currency code",
        ),
        (
            _chart_with(lambda c: c["Organisation"].update(PeriodLockDate="31/12/2025")),
            "CHART.json: $.Organisation.PeriodLockDate: should be a Xero date",
        ),
        (_chart_with(lambda c: c.update(Accounts={})), "CHART.json: $.Accounts: should be a list"),
        (
            _chart_with(lambda c: c["Accounts"][3].pop("Status")),
            "CHART.json: $.Accounts[3].Status: is missing",
        ),
        (
            _chart_with(lambda c: c["Accounts"][0].pop("Type")),
            "CHART.json: $.Accounts[0].Type: is missing",
        ),
        (
            _chart_with(lambda c: c["TaxRates"][1].update(EffectiveRate="seven")),
            "CHART.json: $.TaxRates[1].EffectiveRate: 'seven' is not a percentage",
        ),
        (
            _chart_with(lambda c: c["TaxRates"][1].update(EffectiveRate=120)),
            "CHART.json: $.TaxRates[1].EffectiveRate: should be a percentage from 0 to 100",
        ),
        (
            _chart_with(lambda c: c["TaxRates"][0].pop("CanApplyToExpenses")),
            "CHART.json: $.TaxRates[0].CanApplyToExpenses: is missing",
        ),
        (
            _chart_with(lambda c: c["TaxRates"][0].update(CanApplyToExpenses="true")),
            "CHART.json: $.TaxRates[0].CanApplyToExpenses: should be true or false",
        ),
        (
            _chart_with(lambda c: c.update(Currencies=[{"Code": 978}])),
            "CHART.json: $.Currencies[0].Code: should be",
        ),
        (
            _chart_with(lambda c: c.update(Contact={})),
            "CHART.json: $.Contact.ContactID: is missing",
        ),
    ],
)
def test_chart_errors_are_one_line(data, message: str) -> None:
    with pytest.raises(ChartFileError) as caught:
        load_chart(data, "CHART.json")
    assert str(caught.value).startswith(message), str(caught.value)
    assert "\n" not in str(caught.value)


# --- transactions and preview ----------------------------------------------------------------


def test_transactions_file_keeps_every_element_in_order() -> None:
    body = spec_example_page()
    body["transactions"].insert(1, {"transactionId": "X", "amount": 5})
    items = load_transactions_file(body, "TX.json")
    assert [type(i) for i in items] == [Transaction, ParseFailure, Transaction]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "TX.json: $: the response should be an object"),
        ({"transaction": []}, "TX.json: $: 'transactions' is missing"),
        ({"transactions": "x"}, "TX.json: $: 'transactions' should be a list"),
    ],
)
def test_malformed_transactions_file(data, message: str) -> None:
    with pytest.raises(TransactionsFileError) as caught:
        load_transactions_file(data, "TX.json")
    assert str(caught.value).startswith(message)


def test_preview_output_is_designs_shape_with_every_transaction_once() -> None:
    tx = {
        "transactions": [
            us_card_charge(transaction_id="A"),
            us_card_charge(transaction_id="B", last4="9911"),
            us_pbi_charge(transaction_id="C"),
            {"amount": "nope"},
        ]
    }
    out = preview(tx, us_mapping(), us_chart())
    assert set(out) == {"documents", "held"}
    assert [(d["endpoint"], d["amazon_transaction_id"]) for d in out["documents"]] == [
        ("BankTransactions", "A"),
        ("Invoices", "C"),
    ]
    assert all(set(d) == {"endpoint", "amazon_transaction_id", "body"} for d in out["documents"])
    assert [(h["amazon_transaction_id"], h["code"]) for h in out["held"]] == [
        ("B", "unmapped_payment_method"),
        (None, "parse_error"),
    ]
    assert out["held"][0]["reason"] == (
        "Payment method Visa ending 9911 is not mapped to a Xero account yet. "
        "Map it under Payment methods."
    )
    # JSON as it is printed: amounts are exact JSON numbers (Decimal both ways)
    assert simplejson.loads(simplejson.dumps(out, use_decimal=True), use_decimal=True) == out


def test_preview_accepts_json_text_and_bytes() -> None:
    out = preview(
        json.dumps(spec_example_page()),
        json.dumps(uk_mapping()).encode(),
        json.dumps(uk_chart()),
    )
    assert len(out["documents"]) == 2
    assert out["held"] == []


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("{", "{}", "{}"), TransactionsFileError, "TX.json: line 1 column 2: not valid JSON"),
        (("{}", "{}", "{}"), TransactionsFileError, "TX.json: $: 'transactions' is missing"),
        (
            ('{"transactions": []}', "[1", "{}"),
            MappingFileError,
            "MAP.json: line 1 column 3: not valid JSON",
        ),
        (
            ('{"transactions": []}', '{"version": 1}', b"\xff"),
            ChartFileError,
            "CHART.json: line 1 column 1: not UTF-8 text (byte 0xFF",
        ),
        (
            ('{"transactions": []}', '{"version": 1}', "{}"),
            ChartFileError,
            "CHART.json: $.Organisation: is missing",
        ),
    ],
)
def test_preview_fails_with_one_line_naming_the_file(args, error, message: str) -> None:
    with pytest.raises(error) as caught:
        preview(*args)
    assert isinstance(caught.value, InputFileError)
    assert str(caught.value).startswith(message), str(caught.value)
    assert "\n" not in str(caught.value)
