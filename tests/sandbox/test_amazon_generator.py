"""The transaction generator: deterministic, arithmetically exact, and feature-complete."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from sandbox.amazon.dates import parse_iso
from sandbox.amazon.generator import FEED_LAG
from sandbox.amazon.generator import generate_account
from sandbox.amazon.profiles import HUDSON
from sandbox.amazon.profiles import THAMES
from sandbox.amazon.profiles import AccountProfile
from sandbox.amazon.stores import STORES
from sandbox.amazon.transaction_json import line_sum
from sandbox.amazon.transaction_json import rate_text

END = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DEFAULT_COUNT = 60
PROFILES = [THAMES, HUDSON]


def generate(profile: AccountProfile, count: int = DEFAULT_COUNT, seed: int = 42, **kw):
    return generate_account(profile, seed=seed, end=END, days=90, count=count, **kw)


@pytest.fixture(scope="module", params=PROFILES, ids=lambda p: p.key)
def profile_and_transactions(request):
    return request.param, generate(request.param)


def test_same_seed_gives_identical_json():
    first = json.dumps(generate(THAMES), sort_keys=True)
    assert first == json.dumps(generate(THAMES), sort_keys=True)
    assert first != json.dumps(generate(THAMES, seed=43), sort_keys=True)


def test_exact_count_for_every_size():
    for count in (0, 1, 2, 3, 7, 17, 40):
        assert len(generate(HUDSON, count)) == count


def test_amount_equals_sum_of_line_components_to_the_cent(profile_and_transactions):
    _, transactions = profile_and_transactions
    for tx in transactions:
        assert Decimal(tx["amount"]["amount"]) == line_sum(tx), tx["transactionId"]
        for item in tx["transactionLineItems"]:
            parts = [
                Decimal(item[name]["amount"])
                for name in (
                    "principalAmount",
                    "shippingCharge",
                    "regulatoryFee",
                    "giftWrappingCharge",
                    "discount",
                    "tax",
                )
                if name in item
            ]
            assert Decimal(item["totalAmount"]["amount"]) == sum(parts)


def test_money_is_cent_strings_in_the_store_currency(profile_and_transactions):
    _, transactions = profile_and_transactions
    for tx in transactions:
        currency = tx["amount"]["currencyCode"]
        marketplace = {s.marketplace_id: s for s in STORES.values()}[tx["marketplaceId"]]
        assert currency == marketplace.currency
        assert isinstance(tx["amount"]["amount"], str)
        assert Decimal(tx["amount"]["amount"]).as_tuple().exponent == -2
        assert tx["amount"]["amount"] != "-0.00"


def test_signs_follow_transaction_type(profile_and_transactions):
    _, transactions = profile_and_transactions
    for tx in transactions:
        amount = Decimal(tx["amount"]["amount"])
        if tx["transactionType"] == "CHARGE":
            assert amount > 0
        else:
            assert tx["transactionType"] in ("REFUND", "OVERREFUND")
            assert amount != 0
            assert all("refundReason" in item for item in tx["transactionLineItems"])
        for item in tx["transactionLineItems"]:
            if "discount" in item and tx["transactionType"] == "CHARGE":
                assert Decimal(item["discount"]["amount"]) < 0


def test_refunds_come_in_both_spellings_every_other_one_positive(profile_and_transactions):
    """Spec §9 item 4: Amazon sends refunds negative (its model) and positive (production)."""
    _, transactions = profile_and_transactions
    refunds = [tx for tx in transactions if tx["transactionType"] in ("REFUND", "OVERREFUND")]
    signs = [Decimal(tx["amount"]["amount"]) > 0 for tx in refunds]
    assert signs == [index % 2 == 1 for index in range(len(refunds))]
    for tx, positive in zip(refunds, signs, strict=True):
        assert line_sum(tx) == Decimal(tx["amount"]["amount"])
        for item in tx["transactionLineItems"]:
            assert (Decimal(item["principalAmount"]["amount"]) > 0) == positive
            assert Decimal(item["unitPrice"]["amount"]) >= 0


def test_every_required_feature_is_present(profile_and_transactions):
    profile, transactions = profile_and_transactions
    instruments = Counter(
        (tx["paymentInstrumentType"], tx.get("paymentInstrumentLast4Digits")) for tx in transactions
    )
    for card in profile.cards:
        assert instruments[(card.type, card.last4)] > 0, card
    assert instruments[("Pay by Invoice", None)] > 0
    assert instruments[("Gift Card Balance", None)] > 0
    assert instruments[(profile.new_card.type, profile.new_card.last4)] > 0
    types = Counter(tx["transactionType"] for tx in transactions)
    assert types["CHARGE"]
    assert types["REFUND"]
    assert types["OVERREFUND"]
    assert any(tx.get("associatedTransactionDetails") for tx in transactions)
    items = [item for tx in transactions for item in tx["transactionLineItems"]]
    for field in ("shippingCharge", "giftWrappingCharge", "regulatoryFee", "discount", "unspsc"):
        assert any(field in item for item in items), field
    assert any("GL code" in item.get("businessOrderInfo", {}) for item in items)
    assert any(len(tx["transactionLineItems"]) > 1 for tx in transactions)
    assert len({tx["purchasingCustomerGroupName"] for tx in transactions}) == len(profile.groups)


def test_tax_rates_per_account():
    uk_rates = {item["taxRate"] for tx in generate(THAMES) for item in tx["transactionLineItems"]}
    us_rates = {item["taxRate"] for tx in generate(HUDSON) for item in tx["transactionLineItems"]}
    assert {"0.20", "0.05", "0.00"} <= uk_rates
    assert {"0.0725", "0.0625", "0.08875", "0.00"} <= us_rates


def test_thames_buys_in_gbp_and_eur_for_several_legal_entities():
    transactions = generate(THAMES)
    assert {tx["amount"]["currencyCode"] for tx in transactions} == {"GBP", "EUR"}
    assert {tx["legalEntityName"] for tx in transactions} == set(THAMES.legal_entities)


def test_split_tender_parts_point_at_each_other(profile_and_transactions):
    _, transactions = profile_and_transactions
    by_id = {tx["transactionId"]: tx for tx in transactions}
    linked = [tx for tx in transactions if tx.get("associatedTransactionDetails")]
    assert linked
    for tx in linked:
        for link in tx["associatedTransactionDetails"]:
            other = by_id[link["associatedTransactionId"]]
            assert other["invoiceNumber"] == tx["invoiceNumber"]
            back = [d["associatedTransactionId"] for d in other["associatedTransactionDetails"]]
            assert tx["transactionId"] in back
    assert any(tx["paymentInstrumentType"] == "Gift Card Balance" for tx in linked)


def test_over_refund_exceeds_the_goods_value(profile_and_transactions):
    _, transactions = profile_and_transactions
    charges = {}
    for tx in transactions:
        if tx["transactionType"] == "CHARGE":
            for item in tx["transactionLineItems"]:
                charges[item["orderLineItemId"]] = Decimal(item["totalAmount"]["amount"])
    refunded: Counter[str] = Counter()
    for tx in transactions:
        if tx["transactionType"] in ("REFUND", "OVERREFUND"):
            for item in tx["transactionLineItems"]:
                refunded[item["orderLineItemId"]] += abs(Decimal(item["totalAmount"]["amount"]))
    over = [tx for tx in transactions if tx["transactionType"] == "OVERREFUND"]
    assert over
    line_id = over[0]["transactionLineItems"][0]["orderLineItemId"]
    assert refunded[line_id] > charges[line_id]


def test_refunds_follow_their_charges_and_feed_dates_lag_by_two_days_or_45(
    profile_and_transactions,
):
    _, transactions = profile_and_transactions
    first_charge = {}
    lagging = 0
    for tx in transactions:
        when = parse_iso(tx["transactionDate"])
        feed = parse_iso(tx["feedDate"])
        if feed == when + FEED_LAG:
            lagging += 1
            assert tx["transactionType"] == "CHARGE"
            assert not tx["associatedTransactionDetails"]
        else:
            assert when <= feed <= when + timedelta(days=2)
        assert END - timedelta(days=90) <= when <= END
        assert feed <= END
        order = tx["transactionLineItems"][0]["orderId"]
        if tx["transactionType"] == "CHARGE":
            first_charge.setdefault(order, when)
        else:
            assert first_charge[order] <= when
    assert lagging >= 1  # spec §9 item 6: a purchase fed long after it was made


def test_pay_by_invoice_has_no_last4_and_cards_have_four_digits(profile_and_transactions):
    _, transactions = profile_and_transactions
    for tx in transactions:
        last4 = tx.get("paymentInstrumentLast4Digits")
        if tx["paymentInstrumentType"] in ("Pay by Invoice", "Gift Card Balance"):
            assert last4 is None
        else:
            assert last4 is not None
            assert len(last4) == 4
            assert last4.isdigit()


def test_new_card_appears_only_in_the_last_ten_days(profile_and_transactions):
    profile, transactions = profile_and_transactions
    new = profile.new_card
    dates = [
        parse_iso(tx["transactionDate"])
        for tx in transactions
        if (tx["paymentInstrumentType"], tx.get("paymentInstrumentLast4Digits"))
        == (new.type, new.last4)
    ]
    assert dates
    assert min(dates) >= END - timedelta(days=10)


def test_invoice_numbers_are_per_shipment(profile_and_transactions):
    _, transactions = profile_and_transactions
    shipments_per_invoice: dict[str, set[str]] = {}
    for tx in transactions:
        if tx["transactionType"] == "CHARGE":
            shipments = {item["shipmentId"] for item in tx["transactionLineItems"]}
            shipments_per_invoice.setdefault(tx["invoiceNumber"], set()).update(shipments)
    assert all(len(shipments) == 1 for shipments in shipments_per_invoice.values())
    orders: dict[str, set[str]] = {}
    for tx in transactions:
        for item in tx["transactionLineItems"]:
            if tx["transactionType"] == "CHARGE":
                orders.setdefault(item["orderId"], set()).add(tx["invoiceNumber"])
    assert any(len(numbers) > 1 for numbers in orders.values()), "a multi-shipment order"


def test_inconsistent_flag_breaks_exactly_one_transaction():
    assert all(Decimal(tx["amount"]["amount"]) == line_sum(tx) for tx in generate(THAMES))
    broken = [
        tx
        for tx in generate(THAMES, inconsistent=True)
        if Decimal(tx["amount"]["amount"]) != line_sum(tx)
    ]
    assert len(broken) == 1
    assert abs(Decimal(broken[0]["amount"]["amount"]) - line_sum(broken[0])) == Decimal("0.01")


def test_ten_thousand_transactions_keep_every_invariant():
    transactions = generate(THAMES, count=10_000, seed=7)
    assert len(transactions) == 10_000
    assert len({tx["transactionId"] for tx in transactions}) == 10_000
    assert all(Decimal(tx["amount"]["amount"]) == line_sum(tx) for tx in transactions)
    dates = [tx["transactionDate"] for tx in transactions]
    assert dates == sorted(dates)
    assert parse_iso(dates[0]) >= END - timedelta(days=90)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=10**6),
    count=st.integers(min_value=0, max_value=30),
    days=st.integers(min_value=1, max_value=120),
)
@example(seed=0, count=30, days=1)
@example(seed=0, count=30, days=2)
def test_any_seed_count_and_span_keep_the_invariants(seed, count, days):
    for profile in PROFILES:
        transactions = generate_account(profile, seed=seed, end=END, days=days, count=count)
        assert len(transactions) == count
        for tx in transactions:
            assert Decimal(tx["amount"]["amount"]) == line_sum(tx)
            assert END - timedelta(days=days) <= parse_iso(tx["transactionDate"]) <= END
            assert parse_iso(tx["feedDate"]) <= END


@pytest.mark.parametrize(
    ("rate", "text"),
    [
        ("0.2", "0.20"),
        ("0.20", "0.20"),
        ("0.0725", "0.0725"),
        ("0", "0.00"),
        ("0.08875", "0.08875"),
    ],
)
def test_rate_text(rate, text):
    assert rate_text(Decimal(rate)) == text
