"""Contacts: search, read, create, update/archive, and the control endpoint that edits a contact
the way a Xero user would (rename, archive, merge, delete)."""

from __future__ import annotations

from tests.sandbox.xero_support import HUDSON
from tests.sandbox.xero_support import xero  # noqa: F401
from tests.sandbox.xero_support import xero_app  # noqa: F401


def names(answer) -> list[str]:
    return [c["Name"] for c in answer.json["Contacts"]]


def test_uk_org_has_an_amazon_business_contact_and_us_org_has_none(xero):  # noqa: F811
    found = xero.get("Contacts", query_string={"where": 'Name=="Amazon Business"'})
    assert names(found) == ["Amazon Business"]
    assert found.json["Contacts"][0]["ContactStatus"] == "ACTIVE"
    us = xero.get("Contacts", query_string={"searchTerm": "amazon"}, tenant=xero.tenants[HUDSON])
    assert names(us) == []


def test_archived_contacts_only_with_include_archived(xero):  # noqa: F811
    assert "Old Supplier Ltd" not in names(xero.get("Contacts"))
    assert "Old Supplier Ltd" in names(
        xero.get("Contacts", query_string={"includeArchived": "true"})
    )
    archived = xero.get("Contacts", query_string={"where": 'ContactStatus=="ARCHIVED"'})
    assert names(archived) == ["Old Supplier Ltd"]


def test_search_term_is_case_insensitive_over_name_and_email(xero):  # noqa: F811
    assert names(xero.get("Contacts", query_string={"searchTerm": "AMAZON"})) == ["Amazon Business"]
    assert names(xero.get("Contacts", query_string={"searchTerm": "viking-direct"})) == [
        "Viking Direct"
    ]


def test_get_contact_by_id_and_unknown_id(xero):  # noqa: F811
    contact_id = xero.contact_id("Royal Mail")
    answer = xero.get(f"Contacts/{contact_id}")
    assert answer.json["Contacts"][0]["Name"] == "Royal Mail"
    missing = xero.get("Contacts/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404


def test_paging(xero):  # noqa: F811
    page = xero.get("Contacts", query_string={"page": "1", "pageSize": "2"}).json
    assert len(page["Contacts"]) == 2
    assert page["pagination"] == {"page": 1, "pageSize": 2, "pageCount": 2, "itemCount": 4}


def test_create_contact_and_duplicate_name(xero):  # noqa: F811
    us = xero.tenants[HUDSON]
    created = xero.put(
        "Contacts",
        json={"Contacts": [{"Name": "Amazon Business", "ContactNumber": "AMZ"}]},
        tenant=us,
    )
    assert created.status_code == 200
    contact = created.json["Contacts"][0]
    assert contact["ContactStatus"] == "ACTIVE"
    assert contact["ContactNumber"] == "AMZ"
    again = xero.put("Contacts", json={"Contacts": [{"Name": "amazon business"}]}, tenant=us)
    assert again.status_code == 400
    assert again.json["Type"] == "ValidationException"
    message = again.json["Elements"][0]["ValidationErrors"][0]["Message"]
    assert "must be unique across all active contacts" in message
    assert xero.get(f"Contacts/{contact['ContactID']}", tenant=us).status_code == 200


def test_archive_and_rename_via_post(xero):  # noqa: F811
    contact_id = xero.contact_id("British Telecom")
    renamed = xero.post(f"Contacts/{contact_id}", json={"Contacts": [{"Name": "BT Group"}]})
    assert renamed.json["Contacts"][0]["Name"] == "BT Group"
    archived = xero.post(f"Contacts/{contact_id}", json={"ContactStatus": "ARCHIVED"})
    assert archived.json["Contacts"][0]["ContactStatus"] == "ARCHIVED"
    assert "BT Group" not in names(xero.get("Contacts"))


def test_control_endpoint_renames_archives_merges_and_deletes(xero):  # noqa: F811
    amazon = xero.contact_id("Amazon Business")
    viking = xero.contact_id("Viking Direct")
    control = f"/_sandbox/xero/contacts/{amazon}"
    assert xero.client.post(control, json={"name": "Amazon EU"}).json["Name"] == "Amazon EU"
    assert xero.get(f"Contacts/{amazon}").json["Contacts"][0]["Name"] == "Amazon EU"
    xero.client.post(control, json={"status": "ARCHIVED"})
    assert xero.get(f"Contacts/{amazon}").json["Contacts"][0]["ContactStatus"] == "ARCHIVED"
    xero.client.post(control, json={"merged_into": viking})
    merged = xero.get(f"Contacts/{amazon}").json["Contacts"][0]
    assert merged["MergedToContactID"] == viking
    assert merged["ContactStatus"] == "ARCHIVED"
    assert xero.client.post(control, json={"delete": True}).status_code == 200
    assert xero.get(f"Contacts/{amazon}").status_code == 404
    assert xero.client.post(control, json={"name": "x"}).status_code == 404
