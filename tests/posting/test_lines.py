"""Lines: items, shipping, gift wrap, regulatory fee, discount; quantities; expense accounts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from plugin.amazon.models import parse_transaction
from plugin.posting import ExpenseRule
from plugin.posting import PostingContext
from plugin.posting import quantity_for
from plugin.posting import rule_matches
from plugin.posting import translate_all
from tests.common.amazon_payloads import line_item
from tests.common.amazon_payloads import transaction
from tests.common.amazon_payloads import uk_card_charge
from tests.common.amazon_payloads import uk_card_refund
from tests.common.amazon_payloads import us_taxed_line
from tests.common.charts import chart_of
from tests.common.charts import mapping_of
from tests.common.charts import uk_chart
from tests.common.charts import uk_mapping
from tests.common.charts import us_mapping
from tests.common.posting import amounts
from tests.common.posting import document
from tests.common.posting import post_us


@pytest.mark.parametrize(
    ("extras", "expected"),
    [
        ({}, [("Logitech", "6000", Decimal("24.99"))]),
        (
            {"shipping": "5.99"},
            [("Logitech", "6000", Decimal("24.99")), ("Shipping for", "6020", Decimal("5.99"))],
        ),
        (
            {"gift_wrap": "3.99"},
            [("Logitech", "6000", Decimal("24.99")), ("Gift wrap for", "6030", Decimal("3.99"))],
        ),
        (
            {"regulatory_fee": "0.25"},
            [
                ("Logitech", "6000", Decimal("24.99")),
                ("Regulatory fee for", "6040", Decimal("0.25")),
            ],
        ),
        (
            {"discount": "-5.00"},
            [("Logitech", "6000", Decimal("24.99")), ("Discount on", "6000", Decimal("-5.00"))],
        ),
        (
            {"shipping": "0.00", "gift_wrap": "0.00", "discount": "0.00", "regulatory_fee": "0"},
            [("Logitech", "6000", Decimal("24.99"))],
        ),
        (
            {
                "shipping": "5.99",
                "gift_wrap": "3.99",
                "regulatory_fee": "0.25",
                "discount": "-5.00",
            },
            [
                ("Logitech", "6000", Decimal("24.99")),
                ("Shipping for", "6020", Decimal("5.99")),
                ("Gift wrap for", "6030", Decimal("3.99")),
                ("Regulatory fee for", "6040", Decimal("0.25")),
                ("Discount on", "6000", -5.00),
            ],
        ),
    ],
    ids=["item-only", "shipping", "gift-wrap", "regulatory-fee", "discount", "zeros", "all"],
)
def test_each_non_zero_charge_gets_its_own_line_to_its_line_type(extras, expected) -> None:
    doc = document(post_us(transaction(lines=[line_item(**extras)])))
    got = [
        (line["Description"], line["AccountCode"], line["LineAmount"])
        for line in doc.body["LineItems"]
    ]
    assert len(got) == len(expected)
    for (description, code, amount), (prefix, want_code, want_amount) in zip(
        got, expected, strict=True
    ):
        assert description.startswith(prefix)
        assert code == want_code
        assert amount == want_amount


def test_extra_lines_name_the_item_and_order() -> None:
    doc = document(post_us(transaction(lines=[line_item(shipping="5.99")])))
    assert doc.body["LineItems"][1]["Description"] == (
        "Shipping for Logitech MK270 Wireless Keyboard and Mouse Combo (order 114-3941689-8772232)"
    )


@pytest.mark.parametrize(
    ("discount_setting", "account"),
    [("same_as_item", "6200"), ("6300", "6300")],
)
def test_discount_goes_to_the_items_account_or_its_own(discount_setting: str, account: str) -> None:
    mapping = us_mapping()
    mapping["line_types"]["discount"] = discount_setting
    item = line_item(discount="-2.00", business_order_info={"GL code": "6200-it"})
    doc = document(post_us(transaction(lines=[item]), mapping=mapping))
    assert [line["AccountCode"] for line in doc.body["LineItems"]] == ["6200", account]


def test_discount_defaults_to_same_as_item_when_absent_from_the_mapping() -> None:
    mapping = us_mapping()
    del mapping["line_types"]["discount"]
    item = line_item(discount="-2.00", unspsc="47121701")
    doc = document(post_us(transaction(lines=[item]), mapping=mapping))
    assert amounts(doc, "AccountCode") == ["6100", "6100"]


@pytest.mark.parametrize(
    ("principal", "quantity", "want_quantity", "want_unit", "note"),
    [
        ("24.99", 1, 1, Decimal("24.99"), False),
        ("49.98", 2, 2, Decimal("24.99"), False),
        ("10.00", 3, 1, Decimal("10.00"), True),  # 3.333... would drift: quantity goes to text
        ("10.02", 3, 3, Decimal("3.34"), False),
        ("0.04", 4, 4, Decimal("0.01"), False),
        ("24.99", None, 1, Decimal("24.99"), False),
        ("24.99", 0, 1, Decimal("24.99"), False),  # 0: nothing shipped or returned, unsaid
    ],
)
def test_line_amount_is_the_principal_and_quantity_times_unit_never_drifts(
    principal, quantity, want_quantity, want_unit, note
) -> None:
    doc = document(post_us(transaction(lines=[line_item(principal=principal, quantity=quantity)])))
    line = doc.body["LineItems"][0]
    assert line["LineAmount"] == Decimal(principal)
    assert line["Quantity"] == want_quantity
    assert line["UnitAmount"] == want_unit
    assert Decimal(str(line["UnitAmount"])) * line["Quantity"] == Decimal(principal)
    assert (f"quantity {quantity}" in line["Description"]) is note


@pytest.mark.parametrize(
    ("amount", "quantity", "expected"),
    [
        (Decimal("9.99"), 1, 1),
        (Decimal("19.98"), 2, 2),
        (Decimal("20.00"), 3, 1),
        (Decimal("0.03"), 3, 3),
        (Decimal("0.02"), 3, 1),
        (Decimal("5.00"), -1, 1),
        (Decimal("5.00"), None, 1),
    ],
)
def test_quantity_for(amount: Decimal, quantity: int | None, expected: int) -> None:
    assert quantity_for(amount, quantity) == expected


def test_lines_keep_amazons_order_across_several_items() -> None:
    lines = [
        line_item(title="Stapler", asin="B1", order_line_item_id="1", shipping="1.00"),
        line_item(title="Paper", asin="B2", order_line_item_id="2"),
    ]
    doc = document(post_us(transaction(lines=lines)))
    descriptions = [line["Description"] for line in doc.body["LineItems"]]
    assert descriptions[0].startswith("Stapler (ASIN B1")
    assert descriptions[1].startswith("Shipping for Stapler")
    assert descriptions[2].startswith("Paper (ASIN B2")


def test_item_description_omits_missing_details() -> None:
    item = line_item(title=None, asin=None, order_id=None)
    doc = document(post_us(transaction(lines=[item], buyer=None)))
    assert doc.body["LineItems"][0]["Description"] == "Amazon item"
    blank = document(post_us(transaction(lines=[item], buyer={"id": "b", "name": " "})))
    assert blank.body["LineItems"][0]["Description"] == "Amazon item"


def test_item_description_names_the_purchase_order_and_the_buyer() -> None:
    item = line_item(purchaseOrderNumber=" PO-7781 ")
    doc = document(post_us(transaction(lines=[item])))
    assert doc.body["LineItems"][0]["Description"] == (
        "Logitech MK270 Wireless Keyboard and Mouse Combo (ASIN B079JLY5M5, order "
        "114-3941689-8772232, PO PO-7781, bought by Jane Buyer)"
    )


# --- expense accounts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line_kw", "tx_kw", "account"),
    [
        ({"business_order_info": {"GL code": "6200-it"}}, {}, "6200"),
        ({"business_order_info": {"GL code": "6200-IT"}}, {}, "6000"),  # exact match only
        ({"business_order_info": {"Cost center": "6200-it"}}, {}, "6000"),  # key matters
        ({"unspsc": "47121701"}, {}, "6100"),
        ({"unspsc": "4712"}, {}, "6100"),
        ({"unspsc": "471"}, {}, "6000"),
        ({}, {"legalEntityName": "Acme Marketing LLC"}, "6300"),
        ({}, {"purchasingCustomerGroupName": "IT Department"}, "6010"),
        ({}, {}, "6000"),
        # First match wins: GL code (rule 1) beats UNSPSC (rule 2) and group (rule 4).
        (
            {"business_order_info": {"GL code": "6200-it"}, "unspsc": "47121701"},
            {"purchasingCustomerGroupName": "IT Department"},
            "6200",
        ),
        ({"unspsc": "47121701"}, {"legalEntityName": "Acme Marketing LLC"}, "6100"),
    ],
    ids=[
        "gl-code",
        "gl-code-case",
        "other-key",
        "unspsc",
        "unspsc-exact-prefix",
        "unspsc-short",
        "legal-entity",
        "group",
        "default",
        "first-wins-gl",
        "first-wins-unspsc",
    ],
)
def test_expense_account_is_the_first_matching_rule_else_the_default(line_kw, tx_kw, account):
    doc = document(post_us(transaction(lines=[line_item(**line_kw)], **tx_kw)))
    assert doc.body["LineItems"][0]["AccountCode"] == account


@pytest.mark.parametrize(
    ("rule", "matches"),
    [
        (ExpenseRule("business_order_info", "6100-office", "461", key="GL code"), True),
        (ExpenseRule("business_order_info", "6100-office", "461", key=None), False),
        (ExpenseRule("business_order_info", "FAC-01", "461", key="Cost center"), True),
        (ExpenseRule("unspsc_prefix", "4412", "461"), True),
        (ExpenseRule("unspsc_prefix", "", "461"), False),
        (ExpenseRule("legal_entity", "Acme Widgets Ltd", "461"), True),
        (ExpenseRule("legal_entity", "acme widgets ltd", "461"), False),
        (ExpenseRule("customer_group", "Facilities", "461"), True),
        (ExpenseRule("customer_group", "Finance", "461"), False),
        (ExpenseRule("colour", "red", "461"), False),
    ],
)
def test_rule_matches(rule: ExpenseRule, matches: bool) -> None:
    tx = parse_transaction(uk_card_charge(purchasingCustomerGroupName="Facilities"))
    assert rule_matches(rule, tx, tx.line_items[0]) is matches  # type: ignore[union-attr]


def test_refund_in_the_same_run_as_its_charge_uses_the_charges_rule_account() -> None:
    plan = translate_all(
        [parse_transaction(uk_card_refund()), parse_transaction(uk_card_charge())],
        mapping_of(uk_mapping()),
        chart_of(uk_chart()),
    )
    refund, charge = plan.documents
    assert charge.body["LineItems"][0]["AccountCode"] == "461"
    assert refund.body["LineItems"][0]["AccountCode"] == "461"


def test_context_original_lines_win_over_lines_in_the_same_run() -> None:
    other = parse_transaction(uk_card_charge())
    item = other.line_items[0].model_copy(  # type: ignore[union-attr]
        update={"business_order_info": {"GL code": "none"}, "unspsc": "43211706"}
    )
    context = PostingContext(original_line_items={(item.order_id, item.order_line_item_id): item})
    plan = translate_all(
        [parse_transaction(uk_card_refund()), other],
        mapping_of(uk_mapping()),
        chart_of(uk_chart()),
        context,
    )
    assert plan.documents[0].body["LineItems"][0]["AccountCode"] == "463"


def test_us_taxed_line_fixture_adds_up() -> None:
    item = us_taxed_line("0.0725", "24.99", shipping="5.00")
    assert item["tax"]["amount"] == "2.17"
    assert item["totalAmount"]["amount"] == "32.16"


def test_a_goodwill_refund_line_never_says_quantity_0() -> None:
    """Issue 15 point 8: Amazon sends itemQuantity 0 on a goodwill refund (money back, nothing
    returned); the description does not say "(quantity 0, …)"."""
    from plugin.posting.lines import item_description

    refund = transaction(
        transaction_type="REFUND",
        lines=[line_item(title="Desk lamp", principal="-5.00", quantity=0, asin="B0LAMP")],
    )
    (item,) = parse_transaction(refund).line_items
    text = item_description(item, "REFUND", quantity_shown=False)
    assert "quantity" not in text
    assert text.startswith("Refund - Desk lamp (ASIN B0LAMP")
    several = parse_transaction(transaction(lines=[line_item(title="Pens", quantity=3)]))
    assert "(quantity 3, " in item_description(several.line_items[0], "CHARGE", False)
