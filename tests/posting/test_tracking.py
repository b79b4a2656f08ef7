"""Tracking categories on posted documents: which option each line takes, every line of an item
carrying it, and every reason to hold (unmapped value, unknown or archived category/option, an
option the run must create first). Pure: plain data in, documents or held reasons out."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from plugin.amazon.models import parse_transaction
from plugin.posting import options_to_create
from plugin.posting import translate
from tests.common.amazon_payloads import line_item
from tests.common.amazon_payloads import transaction
from tests.common.amazon_payloads import us_pbi_charge
from tests.common.amazon_payloads import us_pbi_refund
from tests.common.amazon_payloads import us_taxed_line
from tests.common.charts import chart_of
from tests.common.charts import mapping_of
from tests.common.posting import document
from tests.common.posting import held
from tests.common.posting import post_us
from tests.common.tracking import COST_CENTRE_ID
from tests.common.tracking import DEPARTMENT_ID
from tests.common.tracking import category
from tests.common.tracking import cost_centre
from tests.common.tracking import department
from tests.common.tracking import option_id
from tests.common.tracking import tracked_chart
from tests.common.tracking import tracked_mapping
from tests.common.xero_schema import schema_errors

FACILITIES = {
    "Name": "Department",
    "Option": "Facilities",
    "TrackingCategoryID": DEPARTMENT_ID,
    "TrackingOptionID": option_id(DEPARTMENT_ID, 0),
}


def post(raw: dict[str, Any], *entries: dict[str, Any], chart: dict[str, Any] | None = None):
    return post_us(raw, mapping=tracked_mapping(*entries), chart=chart or tracked_chart())


def tracking_of(doc) -> list[list[dict[str, str]]]:
    return [line.get("Tracking", []) for line in doc.body["LineItems"]]


def test_every_line_of_the_item_carries_the_matched_option() -> None:
    item = line_item(shipping="4.99", discount="-2.00")
    doc = document(post(transaction(lines=[item]), department()))
    assert len(doc.body["LineItems"]) == 3
    assert tracking_of(doc) == [[FACILITIES]] * 3
    assert schema_errors("BankTransactions", doc.body) == []


def test_two_categories_and_a_hand_mapping() -> None:
    item = line_item(business_order_info={"Cost center": "fac-01 "})
    by_hand = cost_centre(match_by_name=False, values=[{"value": "FAC-01", "option": "WH-02"}])
    doc = document(post(transaction(lines=[item]), department(), by_hand))
    assert tracking_of(doc) == [
        [
            FACILITIES,
            {
                "Name": "Cost Centre",
                "Option": "WH-02",
                "TrackingCategoryID": COST_CENTRE_ID,
                "TrackingOptionID": option_id(COST_CENTRE_ID, 1),
            },
        ]
    ]


def test_each_line_item_takes_its_own_option() -> None:
    lines = [
        line_item(business_order_info={"Cost center": "FAC-01"}),
        line_item(order_line_item_id="2", business_order_info={"Cost center": "WH-02"}),
        line_item(order_line_item_id="3"),  # no value: no option of that category
    ]
    doc = document(post(transaction(lines=lines), cost_centre()))
    options = [[t["Option"] for t in line] for line in tracking_of(doc)]
    assert options == [["FAC-01"], ["WH-02"], []]
    assert "Tracking" not in doc.body["LineItems"][2]


def test_an_unmapped_value_holds_the_purchase_unless_a_default_is_chosen() -> None:
    raw = transaction(purchasingCustomerGroupName="Research")
    reason = held(post(raw, department())).reason
    assert "'Research'" in reason
    assert "'Department'" in reason
    assert held(post(raw, department())).code == "unmapped_tracking"
    doc = document(post(raw, department(default_option="Office")))
    assert tracking_of(doc)[0][0]["Option"] == "Office"


def test_a_missing_value_takes_the_default_option() -> None:
    raw = transaction(lines=[line_item()])
    doc = document(post(raw, cost_centre(default_option="WH-02")))
    assert tracking_of(doc)[0][0]["Option"] == "WH-02"


def test_matching_by_name_can_be_turned_off() -> None:
    assert held(post(transaction(), department(match_by_name=False))).code == "unmapped_tracking"


@pytest.mark.parametrize(
    ("entry", "code", "fragment"),
    [
        (
            department(values=[{"value": "Facilities", "option": "IT"}]),
            "archived_tracking_option",
            "'IT'",
        ),
        (
            department(default_option="Garden", match_by_name=False),
            "unknown_tracking_option",
            "'Garden'",
        ),
        (
            {"category": "Region", "source": "legal_entity"},
            "archived_tracking_category",
            "'Region'",
        ),
        ({"category": "Team", "source": "buyer"}, "unknown_tracking_category", "'Team'"),
    ],
)
def test_archived_or_unknown_categories_and_options_hold(entry, code, fragment) -> None:
    result = held(post(transaction(), entry))
    assert result.code == code
    assert fragment in result.reason


def test_an_archived_category_holds_even_a_line_without_a_value() -> None:
    raw = transaction(lines=[line_item()])
    entry = {"category": "Region", "source": "purchase_order"}
    assert held(post(raw, entry)).code == "archived_tracking_category"


def test_an_option_to_create_holds_until_it_is_in_xero() -> None:
    raw = transaction(purchasingCustomerGroupName="Research")
    entry = department(create_missing=True)
    result = held(post(raw, entry))
    assert result.code == "tracking_option_to_create"
    parsed = parse_transaction(raw)
    chart = tracked_chart()
    wanted = options_to_create(parsed, mapping_of(tracked_mapping(entry)), chart_of(chart))
    assert wanted == [("Department", "Research")]
    chart["TrackingCategories"][0]["Options"].append({"Name": "Research", "Status": "ACTIVE"})
    doc = document(post(raw, entry, chart=chart))
    assert tracking_of(doc) == [
        [{"Name": "Department", "Option": "Research", "TrackingCategoryID": DEPARTMENT_ID}]
    ]
    assert options_to_create(parsed, mapping_of(tracked_mapping(entry)), chart_of(chart)) == []


def test_nothing_to_create_without_permission_or_for_hand_mapped_values() -> None:
    parsed = parse_transaction(transaction(purchasingCustomerGroupName="Research"))
    chart = chart_of(tracked_chart())
    for entry in (
        department(),
        department(create_missing=True, values=[{"value": "research", "option": "Office"}]),
    ):
        assert options_to_create(parsed, mapping_of(tracked_mapping(entry)), chart) == []


def test_bills_and_credit_notes_carry_tracking_and_a_refund_takes_the_charges() -> None:
    info = {"Cost center": "FAC-01"}
    charge = us_pbi_charge()
    for item in charge["transactionLineItems"]:
        item["businessOrderInfo"] = info
    refund = us_pbi_refund()
    for item in refund["transactionLineItems"]:
        item.pop("businessOrderInfo", None)
    from plugin.posting import translate_all

    plan = translate_all(
        [parse_transaction(charge), parse_transaction(refund)],
        mapping_of(tracked_mapping(cost_centre())),
        chart_of(tracked_chart()),
    )
    assert plan.held == ()
    for doc in plan.documents:
        assert doc.endpoint in ("Invoices", "CreditNotes")
        assert all(t and t[0]["Option"] == "FAC-01" for t in tracking_of(doc)), doc.endpoint
        assert schema_errors(doc.endpoint, doc.body) == []


def test_unreclaimable_tax_lines_are_split_by_tracking() -> None:
    lines = [
        us_taxed_line(purchaseOrderNumber="PO-1"),
        us_taxed_line(order_line_item_id="2", purchaseOrderNumber="PO-2"),
    ]
    chart = tracked_chart()
    chart["TrackingCategories"].append(
        category(
            "Purchase order",
            "6f1a3b70-1c2d-4e5f-8a9b-0c1d2e3f4a04",
            [("PO-1", "ACTIVE"), ("PO-2", "ACTIVE")],
        )
    )
    chart["TrackingCategories"] = [c for c in chart["TrackingCategories"] if c["Name"] != "Region"]
    doc = document(
        post(
            transaction(lines=lines),
            {"category": "Purchase order", "source": "purchase_order"},
            chart=chart,
        )
    )
    tax_lines = [line for line in doc.body["LineItems"] if line["Description"].startswith("Tax at")]
    assert [line["Tracking"][0]["Option"] for line in tax_lines] == ["PO-1", "PO-2"]
    total = sum(
        Decimal(line["LineAmount"]) + Decimal(line["TaxAmount"]) for line in doc.body["LineItems"]
    )
    assert total == doc.total


OPTION_NAMES = st.sampled_from(["Facilities", "Office", "IT", "Lab", "facilities "])


@settings(max_examples=150, deadline=None)
@given(
    groups=st.lists(OPTION_NAMES, min_size=1, max_size=4),
    statuses=st.lists(st.sampled_from(["ACTIVE", "ARCHIVED"]), min_size=4, max_size=4),
    default=st.one_of(st.none(), OPTION_NAMES),
    create=st.booleans(),
)
def test_a_line_is_tracked_only_with_active_options_of_the_chart(groups, statuses, default, create):
    names = ["Facilities", "Office", "IT", "Lab"]
    chart = tracked_chart()
    chart["TrackingCategories"][0] = category(
        "Department", DEPARTMENT_ID, list(zip(names, statuses, strict=True))
    )
    lines = [
        line_item(order_line_item_id=str(i), business_order_info={"Team": g})
        for i, g in enumerate(groups)
    ]
    entry = {
        "category": "Department",
        "source": "business_order_info",
        "key": "Team",
        "create_missing": create,
    }
    if default is not None:
        entry["default_option"] = default
    result = post(transaction(lines=lines), entry, chart=chart)
    active = {n.casefold() for n, s in zip(names, statuses, strict=True) if s == "ACTIVE"}
    if hasattr(result, "code"):
        assert result.code in {
            "archived_tracking_option",
            "unknown_tracking_option",
            "tracking_option_to_create",
            "unmapped_tracking",
        }
        return
    for line in result.body["LineItems"]:
        assert len(line["Tracking"]) == 1
        assert line["Tracking"][0]["Option"].casefold() in active
    total = sum(
        Decimal(line["LineAmount"]) + Decimal(line["TaxAmount"])
        for line in result.body["LineItems"]
    )
    assert total == result.total


def test_without_xeros_permission_nothing_is_created_and_the_reason_says_so() -> None:
    raw = transaction(purchasingCustomerGroupName="Research")
    entry = department(create_missing=True)
    chart = chart_of(tracked_chart())
    closed = replace(chart, tracking_options_writable=False)
    mapping = mapping_of(tracked_mapping(entry))
    result = translate(parse_transaction(raw), mapping, closed)
    assert result.code == "unmapped_tracking"
    assert "permission to change its settings" in result.reason
    assert options_to_create(parse_transaction(raw), mapping, closed) == []
    assert options_to_create(parse_transaction(raw), mapping, chart) == [("Department", "Research")]
    with_default = mapping_of(
        tracked_mapping(department(create_missing=True, default_option="Office"))
    )
    doc = translate(parse_transaction(raw), with_default, closed)
    assert doc.body["LineItems"][0]["Tracking"][0]["Option"] == "Office"
