"""The Amazon Business contact: adopt or create, detect rename/archive/merge/delete, repair."""

from __future__ import annotations

import pytest
from responses import matchers

from plugin.xero.contact import ContactProblemKind
from plugin.xero.contact import check_contact
from plugin.xero.contact import ensure_contact
from plugin.xero.contact import repair_contact
from tests.common.xero import API


def test_adopts_an_existing_active_contact(xero, http):
    http.get(
        f"{API}/Contacts",
        json={
            "Contacts": [
                {"ContactID": "old", "Name": "Amazon Business", "ContactStatus": "ARCHIVED"},
                {"ContactID": "c-1", "Name": "Amazon Business", "ContactStatus": "ACTIVE"},
            ]
        },
    )
    assert ensure_contact(xero) == "c-1"


def test_creates_the_contact_when_none_is_active(xero, http):
    http.get(f"{API}/Contacts", json={"Contacts": []})
    http.put(
        f"{API}/Contacts",
        json={"Contacts": [{"ContactID": "new-1", "Name": "Amazon Business"}]},
        match=[
            matchers.json_params_matcher(
                {"Contacts": [{"Name": "Amazon Business", "DefaultCurrency": "USD"}]}
            )
        ],
    )
    assert ensure_contact(xero, "USD") == "new-1"


@pytest.mark.parametrize(
    ("contact", "kind"),
    [
        ({"Name": "Amazon Business", "ContactStatus": "ACTIVE"}, None),
        ({"Name": "Amazon", "ContactStatus": "ACTIVE"}, ContactProblemKind.RENAMED),
        ({"Name": "Amazon Business", "ContactStatus": "ARCHIVED"}, ContactProblemKind.ARCHIVED),
        (
            {"Name": "Amazon Business", "ContactStatus": "ARCHIVED", "MergedToContactID": "c-9"},
            ContactProblemKind.MERGED,
        ),
    ],
)
def test_check_detects_each_problem(xero, http, contact, kind):
    http.get(f"{API}/Contacts/c-1", json={"Contacts": [{"ContactID": "c-1", **contact}]})
    problem = check_contact(xero, "c-1")
    assert (problem.kind if problem else None) == kind


def test_check_detects_a_deleted_contact(xero, http):
    http.get(f"{API}/Contacts/c-1", status=404)
    assert check_contact(xero, "c-1").kind == ContactProblemKind.DELETED


def test_repair_switches_to_the_merged_contact(xero, http):
    http.get(
        f"{API}/Contacts/c-1",
        json={
            "Contacts": [
                {"ContactID": "c-1", "Name": "Amazon Business", "MergedToContactID": "c-9"}
            ]
        },
    )
    assert repair_contact(xero, "c-1", check_contact(xero, "c-1")) == "c-9"


def test_repair_renames_back(xero, http):
    http.get(f"{API}/Contacts/c-1", json={"Contacts": [{"ContactID": "c-1", "Name": "AMZN"}]})
    http.post(
        f"{API}/Contacts/c-1",
        json={"Contacts": [{"ContactID": "c-1", "Name": "Amazon Business"}]},
        match=[
            matchers.json_params_matcher(
                {"Contacts": [{"ContactID": "c-1", "Name": "Amazon Business"}]}
            )
        ],
    )
    assert repair_contact(xero, "c-1", check_contact(xero, "c-1")) == "c-1"
