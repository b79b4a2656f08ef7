"""Tracking categories in the Xero sandbox: Xero's shape and rules (two active categories,
options that can be archived, options created through the API) and the refusal of a line whose
``Tracking`` names an unknown or archived category or option, on every purchase document."""

from __future__ import annotations

import pytest

from tests.common.xero_schema import errors_for
from tests.sandbox.test_xero_bank_transactions import messages
from tests.sandbox.test_xero_bank_transactions import put_one
from tests.sandbox.test_xero_bank_transactions import spend
from tests.sandbox.test_xero_bills import bill
from tests.sandbox.test_xero_bills import credit_note
from tests.sandbox.xero_support import HUDSON
from tests.sandbox.xero_support import xero  # noqa: F401
from tests.sandbox.xero_support import xero_app  # noqa: F401


def categories(xero, **query):  # noqa: F811
    answer = xero.get("TrackingCategories", query_string=query)
    assert answer.status_code == 200
    return {c["Name"]: c for c in answer.json["TrackingCategories"]}


def option_names(category):
    return sorted(o["Name"] for o in category["Options"])


def test_categories_in_xeros_shape_without_archived_by_default(xero):  # noqa: F811
    shown = categories(xero)
    assert sorted(shown) == ["Cost Centre", "Department"]
    assert option_names(shown["Department"]) == ["IT", "Office", "Warehouse"]
    check = errors_for()
    for category in shown.values():
        assert check("TrackingCategory", category) == []
    everything = categories(xero, includeArchived="true")
    assert everything["Region"]["Status"] == "ARCHIVED"
    assert "Old Stores" in option_names(everything["Department"])
    assert categories(xero, where='Name=="Department"').keys() == {"Department"}


def test_a_third_active_category_is_refused_until_one_is_archived(xero):  # noqa: F811
    refused = xero.put("TrackingCategories", json={"Name": "Project"})
    assert refused.status_code == 400
    assert refused.json["Type"] == "ValidationException"
    assert messages(refused.json["Elements"][0]) == [
        "You can only have 2 active tracking categories."
    ]
    region = categories(xero, includeArchived="true")["Region"]
    again = xero.post(
        f"TrackingCategories/{region['TrackingCategoryID']}", json={"Status": "ACTIVE"}
    )
    assert again.status_code == 400
    cost = categories(xero)["Cost Centre"]
    archived = xero.post(
        f"TrackingCategories/{cost['TrackingCategoryID']}", json={"Status": "ARCHIVED"}
    )
    assert archived.json["TrackingCategories"][0]["Status"] == "ARCHIVED"
    created = xero.put("TrackingCategories", json={"Name": "Project"})
    assert created.status_code == 200
    assert created.json["TrackingCategories"][0]["Status"] == "ACTIVE"
    duplicate = xero.put("TrackingCategories", json={"Name": "project"})
    assert duplicate.status_code == 400


def test_creating_and_archiving_an_option(xero):  # noqa: F811
    department = categories(xero)["Department"]
    path = f"TrackingCategories/{department['TrackingCategoryID']}/Options"
    created = xero.put(path, json={"Name": "Facilities"})
    assert created.status_code == 200
    option = created.json["Options"][0]
    assert errors_for()("TrackingOption", option) == []
    assert "Facilities" in option_names(categories(xero)["Department"])
    assert xero.put(path, json={"Name": "facilities"}).status_code == 400
    assert xero.put(path, json={"Name": "x" * 101}).status_code == 400
    assert xero.put(path, json={"Name": ""}).status_code == 400
    archived = xero.post(f"{path}/{option['TrackingOptionID']}", json={"Status": "ARCHIVED"})
    assert archived.json["Options"][0]["Status"] == "ARCHIVED"
    assert "Facilities" not in option_names(categories(xero)["Department"])
    unknown = xero.put(
        "TrackingCategories/00000000-0000-0000-0000-000000000000/Options", json={"Name": "A"}
    )
    assert unknown.status_code == 404


def tracked(contact_id, tracking):
    return spend(contact_id, line={"Tracking": tracking})


def test_a_line_with_tracking_by_name_or_id_is_stored_with_both(xero):  # noqa: F811
    contact = xero.contact_id("Amazon Business")
    department = categories(xero)["Department"]
    office = next(o for o in department["Options"] if o["Name"] == "Office")
    by_name = put_one(xero, tracked(contact, [{"Name": "department", "Option": "office"}]))
    by_id = put_one(
        xero,
        tracked(
            contact,
            [
                {
                    "TrackingCategoryID": department["TrackingCategoryID"],
                    "TrackingOptionID": office["TrackingOptionID"],
                },
                {"Name": "Cost Centre", "Option": "FAC-01"},
            ],
        ),
    )
    first = by_name.json["BankTransactions"][0]
    assert first["StatusAttributeString"] == "OK"
    assert first["LineItems"][0]["Tracking"] == [
        {
            "Name": "Department",
            "Option": "Office",
            "TrackingCategoryID": department["TrackingCategoryID"],
            "TrackingOptionID": office["TrackingOptionID"],
        }
    ]
    second = by_id.json["BankTransactions"][0]
    assert [t["Option"] for t in second["LineItems"][0]["Tracking"]] == ["Office", "FAC-01"]


@pytest.mark.parametrize(
    ("tracking", "message"),
    [
        ([{"Name": "Team", "Option": "A"}], "The TrackingCategory 'Team' does not exist."),
        ([{"Name": "Region", "Option": "North"}], "The TrackingCategory 'Region' is archived."),
        (
            [{"Name": "Department", "Option": "Garden"}],
            "The TrackingOption 'Garden' does not exist in TrackingCategory 'Department'.",
        ),
        (
            [{"Name": "Department", "Option": "Old Stores"}],
            "The TrackingOption 'Old Stores' in TrackingCategory 'Department' is archived.",
        ),
        (
            [{"Name": "Department", "Option": "IT"}, {"Name": "Department", "Option": "Office"}],
            "The TrackingCategory 'Department' is given more than once on a line.",
        ),
        (
            [
                {"Name": "Department", "Option": "IT"},
                {"Name": "Cost Centre", "Option": "FAC-01"},
                {"Name": "Region", "Option": "North"},
            ],
            "A line item can have at most 2 tracking categories.",
        ),
    ],
)
def test_bad_tracking_is_refused_on_spend_money(xero, tracking, message):  # noqa: F811
    contact = xero.contact_id("Amazon Business")
    element = put_one(xero, tracked(contact, tracking)).json["BankTransactions"][0]
    assert element["StatusAttributeString"] == "ERROR"
    assert message in messages(element)
    assert xero.get("BankTransactions").json["BankTransactions"] == []


def test_archived_option_is_refused_on_bills_and_credit_notes(xero):  # noqa: F811
    contact = xero.contact_id("Amazon Business")
    archived = [{"Name": "Cost Centre", "Option": "LEGACY-00"}]
    message = "The TrackingOption 'LEGACY-00' in TrackingCategory 'Cost Centre' is archived."
    for endpoint, document in (
        ("Invoices", bill(contact)),
        ("CreditNotes", credit_note(contact)),
    ):
        document["LineItems"][0]["Tracking"] = archived
        answer = xero.put(f"{endpoint}?summarizeErrors=false", json={endpoint: [document]})
        element = answer.json[endpoint][0]
        assert message in messages(element), endpoint
        document["LineItems"][0]["Tracking"] = [{"Name": "Cost Centre", "Option": "WH-02"}]
        answer = xero.put(f"{endpoint}?summarizeErrors=false", json={endpoint: [document]})
        assert answer.json[endpoint][0]["LineItems"][0]["Tracking"][0]["Option"] == "WH-02"


def test_each_organisation_has_its_own_categories(xero):  # noqa: F811
    us = xero.tenants[HUDSON]
    shown = xero.get("TrackingCategories", tenant=us).json["TrackingCategories"]
    assert sorted(c["Name"] for c in shown) == ["Department", "Project"]
    contact = xero.contact_id("Amazon Business")
    element = put_one(xero, tracked(contact, [{"Name": "Project", "Option": "Alpha"}]))
    assert "The TrackingCategory 'Project' does not exist." in messages(
        element.json["BankTransactions"][0]
    )
