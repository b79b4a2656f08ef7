"""Properties: valid transactions always post and add up; nothing ever raises or goes missing."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from plugin.amazon.models import parse_transaction
from plugin.posting import HELD_CODES
from plugin.posting import Document
from plugin.posting import Held
from plugin.posting import translate
from plugin.posting import translate_all
from plugin.xero.wire import dumps
from tests.common.amazon_payloads import line_item
from tests.common.amazon_payloads import transaction
from tests.common.charts import chart_of
from tests.common.charts import mapping_of
from tests.common.charts import uk_chart
from tests.common.charts import uk_mapping
from tests.common.charts import us_chart
from tests.common.charts import us_mapping
from tests.common.xero_schema import schema_errors

CENT = Decimal("0.01")
ORGS = {
    "US": (
        mapping_of(us_mapping()),
        chart_of(us_chart()),
        ["0.00", "0.0725", "0.08875", "0.0625"],
    ),
    "UK": (
        mapping_of(uk_mapping()),
        chart_of(uk_chart()),
        ["0.20", "0.05", "0.00", "0.19"],
    ),
}
ORG_FOLDING = {
    "US": mapping_of(us_mapping(unreclaimable_tax="fold_into_item")),
    "UK": mapping_of(uk_mapping(unreclaimable_tax="fold_into_item")),
}
CURRENCY = {"US": "USD", "UK": "GBP"}
INSTRUMENTS = [("Visa", "4242"), ("Pay by Invoice", None)]

cents = st.integers(min_value=0, max_value=2_000_000).map(lambda c: Decimal(c) / 100)
small_cents = st.integers(min_value=1, max_value=5_000).map(lambda c: Decimal(c) / 100)


@st.composite
def line_items(draw: st.DrawFn, org: str, sign: Decimal, index: int) -> dict[str, Any]:
    principal = draw(cents)
    extras = {
        name: draw(st.none() | small_cents) for name in ("shipping", "gift_wrap", "regulatory_fee")
    }
    discount = draw(
        st.none() | st.integers(0, int(principal * 100)).map(lambda c: -Decimal(c) / 100)
    )
    rate = draw(st.sampled_from(ORGS[org][2]))
    base = principal + sum((v for v in extras.values() if v is not None), Decimal(0))
    base += discount or 0
    tax = (base * Decimal(rate)).quantize(CENT)

    def text(value: Decimal | None) -> str | None:
        return None if value is None else str((value * sign).quantize(CENT))

    return line_item(
        currency=CURRENCY[org],
        principal=text(principal),
        quantity=draw(st.integers(1, 12)),
        tax=text(tax),
        tax_rate=rate,
        shipping=text(extras["shipping"]),
        gift_wrap=text(extras["gift_wrap"]),
        regulatory_fee=text(extras["regulatory_fee"]),
        discount=text(discount),
        title=draw(st.text(min_size=1, max_size=40)),
        order_id=f"114-{draw(st.integers(0, 9_999_999)):07d}-{index:07d}",
        order_line_item_id=str(index),
        unspsc=draw(st.sampled_from(["43211706", "47121701", "44121700", None])),
        business_order_info=draw(st.sampled_from([None, {"GL code": "6200-it"}])),
    )


@st.composite
def valid_transactions(draw: st.DrawFn) -> tuple[str, dict[str, Any], bool]:
    """(org, raw transaction, fold?) whose amounts add up and whose mapping is complete."""
    org = draw(st.sampled_from(sorted(ORGS)))
    kind = draw(st.sampled_from(["CHARGE", "REFUND", "OVERREFUND"]))
    negative = kind != "CHARGE" and draw(st.booleans())
    sign = Decimal(-1) if negative else Decimal(1)
    count = draw(st.integers(1, 4))
    lines = [draw(line_items(org, sign, i)) for i in range(count)]
    instrument, last4 = draw(st.sampled_from(INSTRUMENTS))
    day = draw(st.dates(min_value=date(2026, 2, 1)))
    raw = transaction(
        transaction_id=draw(
            st.text("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=20, max_size=20)
        ),
        transaction_type=kind,
        currency=CURRENCY[org],
        lines=lines,
        instrument=instrument,
        last4=last4,
        date=f"{day.isoformat()}T{draw(st.integers(0, 23)):02d}:00:00Z",
        associated=tuple(draw(st.lists(st.just("OTHERPART01"), max_size=1))),
    )
    return org, raw, draw(st.booleans())


def body_total(doc: Document) -> Decimal:
    return sum(
        (
            Decimal(str(line["LineAmount"])) + Decimal(str(line["TaxAmount"]))
            for line in doc.body["LineItems"]
        ),
        Decimal(0),
    )


def assert_document_is_sound(doc: Document, raw: dict[str, Any]) -> None:
    expected = abs(Decimal(raw["amount"]["amount"]))
    assert body_total(doc) == expected == doc.total
    for line in doc.body["LineItems"]:
        unit = Decimal(str(line["UnitAmount"]))
        assert unit == unit.quantize(CENT)
        assert unit * line["Quantity"] == Decimal(str(line["LineAmount"]))
        assert line["Description"]
    assert json.loads(dumps(doc.body), parse_float=Decimal) == doc.body  # exact on the wire
    assert schema_errors(doc.endpoint, doc.body) == []


@given(valid_transactions())
def test_valid_transactions_always_post_a_document_that_adds_up(case) -> None:
    org, raw, fold = case
    mapping, chart, _ = ORGS[org]
    result = translate(parse_transaction(raw), ORG_FOLDING[org] if fold else mapping, chart)
    if Decimal(raw["amount"]["amount"]) == 0:
        assert isinstance(result, Held)
        assert result.code == "zero_amount"
        return
    assert isinstance(result, Document), result
    assert_document_is_sound(result, raw)


@given(valid_transactions(), st.sampled_from(["0.01", "-0.01", "1.00"]))
def test_transactions_that_do_not_add_up_are_held_never_posted(case, delta: str) -> None:
    org, raw, _ = case
    mapping, chart, _ = ORGS[org]
    amount = Decimal(raw["amount"]["amount"])
    raw["amount"]["amount"] = str(amount + (Decimal(delta) if amount >= 0 else -Decimal(delta)))
    result = translate(parse_transaction(raw), mapping, chart)
    assert isinstance(result, Held)
    assert result.code in {
        "amounts_do_not_add_up",
        "split_payment_unreconciled",
        "unexpected_sign",
        "zero_amount",
    }
    assert result.reason


_junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def damaged(draw: st.DrawFn) -> object:
    _, raw, _ = draw(valid_transactions())
    key = draw(st.sampled_from(sorted(raw)))
    if draw(st.booleans()):
        del raw[key]
    else:
        raw[key] = draw(_junk)
    if raw.get("transactionLineItems") and isinstance(raw["transactionLineItems"], list):
        item = raw["transactionLineItems"][0]
        if isinstance(item, dict) and item:
            inner = draw(st.sampled_from(sorted(item)))
            item[inner] = draw(_junk | st.sampled_from(["abc", "NaN", "1e5", ""]))
    return raw


@given(
    st.lists(st.one_of(valid_transactions().map(lambda c: c[1]), damaged(), _junk), max_size=6),
    st.sampled_from(sorted(ORGS)),
)
def test_translate_all_never_raises_and_returns_every_input_once(items, org) -> None:
    mapping, chart, _ = ORGS[org]
    parsed = [parse_transaction(item) for item in items]
    plan = translate_all(parsed, mapping, chart)
    assert len(plan.documents) + len(plan.held) == len(items)
    ids = [getattr(p, "transaction_id", None) for p in parsed]
    got = [d.amazon_transaction_id for d in plan.documents] + [
        h.amazon_transaction_id for h in plan.held
    ]
    assert sorted(ids, key=str) == sorted(got, key=str)
    for entry in plan.held:
        assert entry.code in HELD_CODES
        assert entry.code != "internal_error", entry.reason
        assert entry.reason
    for doc in plan.documents:
        raw = next(
            i
            for i in items
            if isinstance(i, dict) and i.get("transactionId") == doc.amazon_transaction_id
        )
        assert body_total(doc) == abs(Decimal(str(raw["amount"]["amount"])))
