"""Parsing Amazon's getTransactions payloads: strict money, aware dates, clear failures."""

from __future__ import annotations

import copy
import json
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugin.amazon.models import MalformedPage
from plugin.amazon.models import ParseFailure
from plugin.amazon.models import Transaction
from plugin.amazon.models import parse_transaction
from plugin.amazon.models import parse_transactions_page
from plugin.amazon.models import payment_method_key
from tests.common.amazon_payloads import line_item
from tests.common.amazon_payloads import spec_example_page
from tests.common.amazon_payloads import transaction
from tests.common.amazon_payloads import us_pbi_charge


def parsed(raw: object) -> Transaction:
    result = parse_transaction(raw)
    assert isinstance(result, Transaction), result
    return result


def failure(raw: object) -> ParseFailure:
    result = parse_transaction(raw)
    assert isinstance(result, ParseFailure), result
    return result


def test_spec_example_parses_with_exact_types() -> None:
    page = parse_transactions_page(spec_example_page(), "page 1")
    assert page.failures == ()
    assert page.next_page_token == "eyJwYWdlIjoyfQ=="
    charge, refund = page.transactions
    assert charge.transaction_id == "1x47pVc03Ffs71cjjCct"
    assert charge.transaction_type == "CHARGE"
    assert charge.amount is not None
    assert charge.amount.amount == Decimal("43.18")
    assert type(charge.amount.amount) is Decimal
    assert charge.amount.currency_code == "GBP"
    assert charge.transaction_date == datetime(2025, 3, 4, 10, 15, 42, 120000, tzinfo=UTC)
    assert charge.ship_tax_rate == Decimal("0.20")
    item = charge.line_items[0]
    assert item.discount is not None
    assert item.discount.amount == Decimal("-2.99")
    assert item.tax_rate == Decimal("0.20")
    assert item.item_quantity == 2
    assert item.business_order_info == {"GL code": "6100-office", "Cost center": "FAC-01"}
    assert item.shipment_date == datetime(2025, 3, 4, 9, 58, 3, tzinfo=UTC)
    assert charge.buyer is not None
    assert charge.buyer.email == "jane@acme.example"
    assert charge.associated_transaction_ids == []
    assert refund.amount is not None
    assert refund.amount.amount == Decimal("-21.59")
    assert refund.line_items[0].refund_reason == "Damaged item"
    assert refund.buyer is None


def test_unknown_fields_are_kept_at_every_level() -> None:
    raw = transaction(newTopLevelField={"x": 1})
    raw["transactionLineItems"][0]["sellerRating"] = "4.5"
    raw["amount"]["note"] = "authorised"
    result = parsed(raw)
    assert result.model_extra == {"newTopLevelField": {"x": 1}}
    assert result.line_items[0].model_extra == {"sellerRating": "4.5"}
    assert result.amount is not None
    assert result.amount.model_extra == {"note": "authorised"}


def test_minimal_transaction_needs_only_an_id() -> None:
    result = parsed({"transactionId": "abc"})
    assert result.amount is None
    assert result.line_items == []
    assert result.transaction_type is None
    assert result.payment_method_key == ":"


def test_undocumented_transaction_type_still_parses() -> None:
    assert parsed(transaction(transaction_type="CHARGEBACK")).transaction_type == "CHARGEBACK"


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("5.99", Decimal("5.99")),
        ("-2.99", Decimal("-2.99")),
        ("0", Decimal("0")),
        ("0.0", Decimal("0.0")),
        ("+1.00", Decimal("1.00")),
        ("1234567.891", Decimal("1234567.891")),
        (5, Decimal("5")),
        (5.99, Decimal("5.99")),
        (-0.1, Decimal("-0.1")),
    ],
)
def test_money_amounts_become_exact_decimals(amount: object, expected: Decimal) -> None:
    raw = transaction(amount="1.00")
    raw["amount"]["amount"] = amount
    result = parsed(raw)
    assert result.amount is not None
    assert result.amount.amount == expected
    assert str(result.amount.amount) == str(expected)


@pytest.mark.parametrize(
    "amount",
    [
        "abc",
        "5.99abc",
        "5,99",
        "1e3",
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "",
        " 5.99",
        "5.",
        ".5",
        "$5.99",
        "0x10",
        True,
        None,
        pytest.param(float("nan"), id="float-nan"),
        pytest.param(float("inf"), id="float-inf"),
        [],
        {"amount": "1"},
    ],
)
def test_bad_money_amounts_are_refused_naming_the_field(amount: object) -> None:
    raw = transaction(lines=[line_item(), line_item(), line_item()], amount="1.00")
    raw["transactionLineItems"][2]["principalAmount"]["amount"] = amount
    result = failure(raw)
    assert result.transaction_id == "1x47pVc03Ffs71cjjCct"
    assert result.reason.startswith("transactionLineItems[2].principalAmount.amount: ")
    assert "is not an amount" in result.reason
    assert result.raw is raw


@pytest.mark.parametrize(
    ("currency", "ok"),
    [("USD", True), ("GBP", True), ("usd", False), ("US", False), ("", False), (840, False)],
)
def test_currency_codes_are_three_capital_letters(currency: object, ok: bool) -> None:
    raw = transaction()
    raw["amount"]["currencyCode"] = currency
    result = parse_transaction(raw)
    assert isinstance(result, Transaction) is ok
    if not ok:
        assert isinstance(result, ParseFailure)
        assert result.reason.startswith("amount.currencyCode: ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-04T10:15:42.120Z", datetime(2026, 3, 4, 10, 15, 42, 120000, tzinfo=UTC)),
        ("2026-03-04T10:15:42Z", datetime(2026, 3, 4, 10, 15, 42, tzinfo=UTC)),
        ("2026-03-04T10:15Z", datetime(2026, 3, 4, 10, 15, tzinfo=UTC)),
        ("2026-03-04T10:15:42.1234567Z", datetime(2026, 3, 4, 10, 15, 42, 123456, tzinfo=UTC)),
        (
            "2026-03-04T10:15:42+01:00",
            datetime(2026, 3, 4, 10, 15, 42, tzinfo=timezone(timedelta(hours=1))),
        ),
        (
            "2026-03-04T10:15:42.5-0500",
            datetime(2026, 3, 4, 10, 15, 42, 500000, tzinfo=timezone(timedelta(hours=-5))),
        ),
    ],
)
def test_dates_become_aware_datetimes(text: str, expected: datetime) -> None:
    result = parsed(transaction(date=text))
    assert result.transaction_date == expected
    assert result.transaction_date is not None
    assert result.transaction_date.tzinfo is not None


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-04T10:15:42",
        "2026-03-04",
        "04/03/2026 10:15",
        "2026-13-04T10:15:42Z",
        "2026-03-04T25:15:42Z",
        "yesterday",
        "",
        1772618142,
    ],
)
def test_dates_without_zone_or_invalid_are_refused(text: object) -> None:
    result = failure(transaction(date=text))
    assert result.reason.startswith("transactionDate: ")


@pytest.mark.parametrize(
    ("mutate", "expected_reason"),
    [
        (lambda t: t.pop("transactionId"), "transactionId: is missing"),
        (lambda t: t.update(transactionId=""), "transactionId: is empty"),
        (lambda t: t.update(transactionId=12345), "transactionId: should be text, got 12345"),
        (
            lambda t: t.update(transactionLineItems="none"),
            "transactionLineItems: should be a list, got 'none'",
        ),
        (
            lambda t: t.update(amount="43.18"),
            "amount: should be an object, got '43.18'",
        ),
        (lambda t: t["amount"].pop("amount"), "amount.amount: is missing"),
        (
            lambda t: t["transactionLineItems"][0].update(itemQuantity="2"),
            "transactionLineItems[0].itemQuantity: should be a whole number, got '2'",
        ),
        (
            lambda t: t["transactionLineItems"][0].update(itemQuantity=2.5),
            "transactionLineItems[0].itemQuantity: should be a whole number, got 2.5",
        ),
        (
            lambda t: t["transactionLineItems"][0].update(itemQuantity=True),
            "transactionLineItems[0].itemQuantity: should be a whole number, got True",
        ),
        (
            lambda t: t["transactionLineItems"][0].update(taxRate="20%"),
            "transactionLineItems[0].taxRate: '20%' is not a tax rate",
        ),
        (
            lambda t: t["transactionLineItems"][0].update(taxRate="-0.20"),
            "transactionLineItems[0].taxRate: '-0.20' is not a tax rate (negative)",
        ),
        (
            lambda t: t["transactionLineItems"][0].update(businessOrderInfo={"GL code": 6100}),
            "transactionLineItems[0].businessOrderInfo.GL code: should be text, got 6100",
        ),
        (
            lambda t: t.update(associatedTransactionDetails=[{}]),
            "associatedTransactionDetails[0].associatedTransactionId: is missing",
        ),
        (lambda t: t.update(buyer={"name": "Jane"}), "buyer.id: is missing"),
        (lambda t: t.update(shipTaxRate=None, giftWrapTaxRate=[]), "giftWrapTaxRate: [] is not"),
    ],
)
def test_failure_reasons_name_the_field(mutate: Any, expected_reason: str) -> None:
    raw = transaction()
    mutate(raw)
    result = failure(raw)
    assert expected_reason in result.reason


def test_failure_reason_lists_the_first_three_problems_and_counts_the_rest() -> None:
    raw = transaction(lines=[line_item() for _ in range(5)])
    for item in raw["transactionLineItems"]:
        item["principalAmount"]["amount"] = "x"
    result = failure(raw)
    assert result.reason.count("is not an amount") == 3
    assert result.reason.endswith("; and 2 more")


@pytest.mark.parametrize("raw", [None, "txn", 42, [], ["transactionId"]])
def test_non_objects_are_failures_not_exceptions(raw: object) -> None:
    result = failure(raw)
    assert result.transaction_id is None
    assert result.reason.startswith("a transaction should be an object")


@pytest.mark.parametrize(
    ("instrument", "last4", "key"),
    [
        ("Visa", "4242", "Visa:4242"),
        ("Pay by Invoice", None, "Pay by Invoice:"),
        ("Pay by Invoice", "", "Pay by Invoice:"),
        ("PayStation", None, "PayStation:"),
        ("American Express", "1005", "American Express:1005"),
        (None, "4242", ":4242"),
        ("visa", "4242", "visa:4242"),
    ],
)
def test_payment_method_key_is_type_and_last4_verbatim(
    instrument: str | None, last4: str | None, key: str
) -> None:
    assert payment_method_key(instrument, last4) == key
    assert parsed(transaction(instrument=instrument, last4=last4)).payment_method_key == key


def test_pay_by_invoice_fixture_has_the_documented_null_last4() -> None:
    assert parsed(us_pbi_charge()).payment_method_key == "Pay by Invoice:"


def test_page_keeps_good_transactions_and_reports_bad_ones_in_order() -> None:
    body = spec_example_page()
    body["transactions"].insert(1, {"transactionId": "bad1", "amount": {"amount": "x"}})
    body["transactions"].append("junk")
    page = parse_transactions_page(body, "page 3")
    assert [t.transaction_id for t in page.transactions] == [
        "1x47pVc03Ffs71cjjCct",
        "ONf39R7NmjIh9247YJ34",
    ]
    assert [(f.transaction_id, f.position) for f in page.failures] == [("bad1", 1), (None, 3)]
    assert [getattr(i, "transaction_id", None) for i in page.in_order] == [
        "1x47pVc03Ffs71cjjCct",
        "bad1",
        "ONf39R7NmjIh9247YJ34",
        None,
    ]


def test_last_page_has_no_token() -> None:
    assert parse_transactions_page({"transactions": []}, "p").next_page_token is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "page 2: the response should be an object"),
        ([], "page 2: the response should be an object"),
        ({}, "page 2: 'transactions' is missing"),
        ({"errors": [{"code": "x"}]}, "page 2: 'transactions' is missing"),
        ({"transactions": {}}, "page 2: 'transactions' should be a list, got {}"),
        ({"transactions": [], "nextPageToken": 5}, "page 2: 'nextPageToken' should be text"),
    ],
)
def test_malformed_pages_raise_naming_the_page(body: object, message: str) -> None:
    with pytest.raises(MalformedPage) as caught:
        parse_transactions_page(body, "page 2")
    assert str(caught.value).startswith(message)


# --- property: corrupted payloads never raise ------------------------------------------------

_junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


@st.composite
def corrupted_transactions(draw: st.DrawFn) -> object:
    raw = copy.deepcopy(spec_example_page()["transactions"][draw(st.integers(0, 1))])
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(raw) if p]
        if not paths or not isinstance(raw, dict):
            break
        path = draw(st.sampled_from(paths))
        parent: Any = raw
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["delete", "junk", "garbage_money"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "junk":
            parent[path[-1]] = draw(_junk)
        else:
            parent[path[-1]] = draw(st.sampled_from(["abc", "NaN", "1e9", "", "5.99.1", "∞"]))
    return raw


@given(corrupted_transactions())
def test_corrupted_transactions_never_raise_and_failures_say_why(raw: object) -> None:
    result = parse_transaction(raw)
    if isinstance(result, ParseFailure):
        assert result.reason.strip()
        assert result.raw is raw
    else:
        assert isinstance(result, Transaction)
        assert result.transaction_id
        json.dumps(result.model_dump(mode="json", by_alias=True))


@given(_junk)
def test_arbitrary_json_never_raises(raw: object) -> None:
    result = parse_transaction(raw)
    assert isinstance(result, Transaction | ParseFailure)
    if isinstance(result, ParseFailure):
        assert result.reason


@given(st.lists(st.one_of(corrupted_transactions(), _junk), max_size=5))
def test_pages_of_corrupted_transactions_never_raise(items: list[object]) -> None:
    page = parse_transactions_page({"transactions": items}, "page")
    assert len(page.transactions) + len(page.failures) == len(items)
    assert len(page.in_order) == len(items)
