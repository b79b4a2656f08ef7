"""Property tests: random and corrupted getTransactions pages through the client's page handling.

Whatever Amazon sends, nothing escapes but ``MalformedPage`` (as ``AmazonMalformedPage``) for a
page that is not a ``TransactionsResponse``; every transaction of a readable page comes back
either parsed or as a failure with a reason, never lost. ``AMAZON_PROPERTY_EXAMPLES`` raises
the number of examples (default 60, to keep the suite fast).
"""

from __future__ import annotations

import copy
import os
import random
from typing import Any

import pytest
import responses
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from responses import matchers

from plugin.amazon.client import AmazonBusinessClient
from plugin.amazon.errors import AmazonMalformedPage
from plugin.amazon.models import MalformedPage
from plugin.amazon.regions import store_for
from tests.amazon.test_client import END
from tests.amazon.test_client import START
from tests.common.amazon import EU_API
from tests.common.amazon import TX_URL
from tests.common.amazon_payloads import line_item
from tests.common.amazon_payloads import transaction
from tests.common.fakes import FakeAmazonTokens
from tests.common.fakes import FakeClock

EXAMPLES = int(os.environ.get("AMAZON_PROPERTY_EXAMPLES", "60"))

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)


def _set(path: tuple[Any, ...], value: Any):
    def corrupt(raw: dict[str, Any]) -> dict[str, Any]:
        target = raw
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        return raw

    return corrupt


# Corruptions that must make a transaction unreadable (a failure with a reason).
KNOWN_BAD = [
    _set(("amount", "amount"), "12,34"),
    _set(("amount", "amount"), "1e3"),
    _set(("amount", "amount"), "NaN"),
    _set(("amount", "amount"), ""),
    _set(("amount", "currencyCode"), "pounds"),
    _set(("transactionId",), 5),
    _set(("transactionId",), ""),
    _set(("transactionId",), None),
    _set(("feedDate",), "yesterday"),
    _set(("feedDate",), "2026-03-05T02:00:11"),
    _set(("transactionDate",), "2026-13-45T00:00:00Z"),
    _set(("transactionLineItems",), "none"),
    _set(("transactionLineItems", 0, "itemQuantity"), "2"),
    _set(("transactionLineItems", 0, "principalAmount", "amount"), "2 4"),
    _set(("buyer",), {"name": "no id"}),
]


@st.composite
def transactions(draw) -> tuple[Any, str]:
    """One raw transaction and what it is: ``good``, ``bad`` or ``random``."""
    kind = draw(st.sampled_from(["good", "bad", "random", "noise"]))
    raw = transaction(
        transaction_id=draw(st.text("abcXYZ0129", min_size=1, max_size=20)),
        lines=[
            line_item(
                principal=f"{draw(st.integers(0, 99999)) / 100:.2f}",
                tax=f"{draw(st.integers(0, 999)) / 100:.2f}",
            )
            for _ in range(draw(st.integers(0, 3)))
        ]
        or None,
    )
    if kind == "good":
        if draw(st.booleans()):
            raw["someFieldAmazonAddsLater"] = draw(json_values)
        for optional in draw(
            st.sets(st.sampled_from(["buyer", "payer", "invoiceNumber", "feedDate"]))
        ):
            raw.pop(optional, None)
        return raw, kind
    if kind == "bad":
        corrupt = draw(st.sampled_from(KNOWN_BAD))
        if not raw.get("transactionLineItems"):
            raw["transactionLineItems"] = [line_item()]
        return corrupt(copy.deepcopy(raw)), kind
    if kind == "random":
        key = draw(st.sampled_from(sorted(raw)))
        raw[key] = draw(json_values)
        return raw, kind
    return draw(json_values), kind


@st.composite
def pages(draw) -> tuple[Any, list[tuple[Any, str]] | None]:
    """(page body, its transactions with their kinds); sometimes the body is anything at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values), None
    annotated = draw(st.lists(transactions(), max_size=6))
    body: dict[str, Any] = {"transactions": [raw for raw, _ in annotated]}
    token = draw(st.one_of(st.none(), st.text(max_size=8), json_values))
    if token is not None:
        body["nextPageToken"] = token
    if draw(st.integers(0, 9)) == 0:
        body["transactions"] = draw(json_values)
        return body, None
    return body, annotated


def is_readable_page(body: Any) -> bool:
    return (
        isinstance(body, dict)
        and isinstance(body.get("transactions"), list)
        and (body.get("nextPageToken") is None or isinstance(body["nextPageToken"], str))
    )


def make_client() -> AmazonBusinessClient:
    clock = FakeClock()
    return AmazonBusinessClient(
        base_url=EU_API,
        tokens=FakeAmazonTokens(),
        connection_id=1,
        store=store_for("UK"),
        sleep=clock.sleep,
        clock=clock,
        rng=random.Random(0),
    )


def fetch_first_page(wire_body: Any):
    """Serve ``wire_body`` as page 1 (and an empty page 2 if it names one); the first page."""
    client = make_client()
    try:
        with responses.RequestsMock(assert_all_requests_are_fired=True) as http:
            http.get(TX_URL, json=wire_body)
            if is_readable_page(wire_body) and wire_body.get("nextPageToken"):
                http.get(
                    TX_URL,
                    match=[
                        matchers.query_param_matcher({"nextPageToken": wire_body["nextPageToken"]})
                    ],
                    json={"transactions": []},
                )
            first, *_rest = client.iter_transaction_pages(START, END)
            return first
    finally:
        client.http.close()


@settings(max_examples=EXAMPLES, deadline=None)
@given(pages())
def test_random_pages_never_raise_anything_but_malformed_page(generated):
    wire_body, annotated = generated
    if not is_readable_page(wire_body):
        with pytest.raises(MalformedPage, match="page 1") as caught:
            fetch_first_page(wire_body)
        assert isinstance(caught.value, AmazonMalformedPage)
        return
    first = fetch_first_page(wire_body)
    raw_list = wire_body["transactions"]
    assert len(first.transactions) + len(first.failures) == len(raw_list)
    for failure in first.failures:
        assert failure.reason.strip()
    if annotated is None:
        return
    for (raw, kind), parsed in zip(annotated, first.page.in_order, strict=True):
        if kind == "good":
            assert not hasattr(parsed, "reason"), parsed
            assert parsed.transaction_id == raw["transactionId"]
            if "someFieldAmazonAddsLater" in raw:
                extra = parsed.model_extra["someFieldAmazonAddsLater"]
                assert extra == raw["someFieldAmazonAddsLater"]
        elif kind == "bad":
            assert hasattr(parsed, "reason"), raw
            assert parsed.reason
