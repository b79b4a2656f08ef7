"""Refund signs (spec §9 item 4): negative or positive amount strings post the same documents.

The sign comes from ``transactionType``, the size from the number: each refund below is posted
as Amazon's model spells it (negative), as production feeds spell it (positive), and with the
transaction's ``amount`` and its lines spelled differently; every spelling must give the same
Xero document and total to the cent.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from plugin.amazon.models import parse_transaction
from plugin.amazon.signs import documented_amount
from plugin.ledger.record import _descriptors
from plugin.xero.wire import dumps
from tests.common.amazon_payloads import line_item
from tests.common.amazon_payloads import transaction
from tests.common.amazon_payloads import uk_card_refund
from tests.common.amazon_payloads import us_card_refund
from tests.common.amazon_payloads import us_pbi_refund
from tests.common.posting import document
from tests.common.posting import held
from tests.common.posting import post_uk
from tests.common.posting import post_us

LINE_MONEY = (
    "totalAmount",
    "principalAmount",
    "shippingCharge",
    "giftWrappingCharge",
    "regulatoryFee",
    "discount",
    "tax",
)


def _negate(money: dict[str, str]) -> None:
    value = -Decimal(money["amount"])
    money["amount"] = f"{value if value else Decimal('0.00'):.2f}"


def respelled(raw: dict[str, Any], *, amount: bool = True, lines: bool = True) -> dict[str, Any]:
    """``raw`` with its ``amount`` and/or its line amounts negated (``unitPrice`` kept)."""
    other = copy.deepcopy(raw)
    if amount:
        _negate(other["amount"])
    if lines:
        for item in other.get("transactionLineItems", []):
            for name in LINE_MONEY:
                if name in item:
                    _negate(item[name])
    return other


def us_refund_with_extras() -> dict[str, Any]:
    """A refund of a discounted line with shipping (the discount's sign is the other way)."""
    return us_card_refund(
        lines=[
            line_item(
                principal="-40.00",
                discount="4.00",
                shipping="-5.99",
                tax="-2.61",
                tax_rate="0.0725",
                unit_price="40.00",
                refundReason="Damaged item",
            )
        ]
    )


def us_overrefund_with_line() -> dict[str, Any]:
    return us_card_refund(
        transaction_type="OVERREFUND",
        transaction_id="OvR7c03Ffs71cjjXyz03",
        lines=[line_item(principal="-10.00", quantity=0, refundReason="Goodwill credit")],
    )


def us_overrefund_without_lines() -> dict[str, Any]:
    return us_card_refund(
        transaction_type="OVERREFUND",
        transaction_id="OvR7c03Ffs71cjjXyz04",
        lines=[],
        amount="-15.00",
    )


CASES = [
    pytest.param(post_us, us_card_refund, "receive_money", "26.80", id="us-card-refund"),
    pytest.param(post_us, us_pbi_refund, "credit_note", "195.96", id="us-pbi-credit-note"),
    pytest.param(post_uk, uk_card_refund, "receive_money", "21.59", id="uk-card-refund"),
    pytest.param(post_us, us_refund_with_extras, "receive_money", "44.60", id="discount-ship"),
    pytest.param(post_us, us_overrefund_with_line, "receive_money", "10.00", id="overrefund"),
    pytest.param(
        post_us, us_overrefund_without_lines, "receive_money", "15.00", id="overrefund-no-lines"
    ),
]
SPELLINGS = {
    "positive": {"amount": True, "lines": True},
    "positive amount, negative lines": {"amount": True, "lines": False},
    "negative amount, positive lines": {"amount": False, "lines": True},
}


@pytest.mark.parametrize("spelling", list(SPELLINGS))
@pytest.mark.parametrize(("post", "make", "kind", "total"), CASES)
def test_refund_spellings_post_identical_documents(post, make, kind, total, spelling) -> None:
    negative = make()
    assert Decimal(negative["amount"]["amount"]) < 0
    reference = document(post(negative))
    other = document(post(respelled(negative, **SPELLINGS[spelling])))
    assert reference.kind == kind
    assert reference.total == Decimal(total)
    assert other.total == reference.total
    assert other == reference
    assert dumps(other.body) == dumps(reference.body)


def test_a_positive_refund_whose_lines_do_not_add_up_is_still_held() -> None:
    raw = respelled(us_card_refund())
    raw["amount"]["amount"] = "26.81"
    assert held(post_us(raw)).code == "amounts_do_not_add_up"


def test_a_negative_charge_is_still_held() -> None:
    raw = respelled(transaction())
    assert held(post_us(raw)).code == "unexpected_sign"


@pytest.mark.parametrize(
    ("kind", "sent", "shown"),
    [
        ("REFUND", "-26.80", "-26.80"),
        ("REFUND", "26.80", "-26.80"),
        ("OVERREFUND", "15.00", "-15.00"),
        ("CHARGE", "26.80", "26.80"),
        ("CHARGE", "-26.80", "-26.80"),
    ],
)
def test_ledger_keeps_one_spelling_of_the_amount(kind, sent, shown) -> None:
    assert documented_amount(kind, Decimal(sent)) == Decimal(shown)
    parsed = parse_transaction(transaction(transaction_type=kind, amount=sent))
    assert not isinstance(parsed, Exception)
    assert _descriptors(parsed)["amount"] == Decimal(shown)  # type: ignore[arg-type]
