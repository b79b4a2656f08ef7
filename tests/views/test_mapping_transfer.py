"""Exporting the mapping file (design §7) and importing it again, checked against the chart."""

from __future__ import annotations

import io
import json

import pytest

from plugin.mapping.store import export_mapping
from plugin.mapping.store import load_mapping
from plugin.mapping.store import save_mapping
from plugin.posting import Mapping
from tests.common.charts import uk_mapping
from tests.common.onboarding import HX
from tests.common.onboarding import make_org
from tests.common.onboarding import record
from tests.common.onboarding import save_uk_mapping
from tests.common.onboarding import seed_chart
from tests.common.onboarding import text_of
from tests.common.onboarding import uk_transactions


@pytest.fixture
def org(app, client, make_member, db_session, redis_client, sign_in):
    user, organisation = make_org(make_member, db_session)
    seed_chart(redis_client, organisation.id)
    record(app, organisation.id, uk_transactions())
    save_uk_mapping(app, organisation.id)
    sign_in(client, user)
    return organisation


def upload(client, org_id, content: bytes, name="mapping.json"):
    return client.post(
        f"/orgs/{org_id}/mapping/import",
        data={"mapping_file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
        headers=HX,
    )


def test_export_downloads_the_mapping_file(client, org, db_session):
    response = client.get(f"/orgs/{org.id}/mapping/export")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="amazon-business-mapping-acme-widgets-ltd.json"'
    )
    body = json.loads(response.data)
    assert body == export_mapping(db_session, org.id)
    assert body["version"] == 2
    assert body["tracking"] == []
    assert body["expense_default_account_code"] == "429"
    assert {
        "type": "Pay by Invoice",
        "last4": None,
        "treatment": "bill",
        "payment_account_code": "090",
    } in body["payment_methods"]


def test_export_then_import_round_trips(client, org, db_session):
    exported = client.get(f"/orgs/{org.id}/mapping/export").data
    before = load_mapping(db_session, org.id)
    save_mapping(db_session, org.id, Mapping(), "test")  # wipe it
    assert load_mapping(db_session, org.id) != before
    response = upload(client, org.id, exported, "mapping-backup.json")
    body = text_of(response)
    assert response.status_code == 200, body
    assert body.strip().startswith('<div id="mapping-sections"')
    assert "Mapping imported from mapping-backup.json" in body
    db_session.expire_all()
    assert load_mapping(db_session, org.id) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not valid JSON"),
        (json.dumps({"version": 3}).encode(), "should be 1 or 2"),
        (
            json.dumps(uk_mapping(expense_default_account_code="999")).encode(),
            "Account 999 Old Stationery (the default expense account) is archived in Xero",
        ),
        (
            json.dumps(uk_mapping(tax_rates=[{"rate": "0.20", "tax_type": "OUTPUT2"}])).encode(),
            "cannot be used on expenses",
        ),
        (b"", "mapping.json: $: the file is empty"),
    ],
    ids=["not-json", "wrong-version", "archived-account", "tax-not-for-expenses", "empty"],
)
def test_a_refused_file_lists_the_problems_and_changes_nothing(
    client, org, db_session, content, message
):
    before = load_mapping(db_session, org.id)
    response = upload(client, org.id, content)
    body = text_of(response)
    assert response.status_code == 422
    assert "Not imported." in body
    assert message in body
    db_session.expire_all()
    assert load_mapping(db_session, org.id) == before


def test_no_file_chosen_asks_for_one(client, org, db_session):
    before = load_mapping(db_session, org.id)
    response = upload(client, org.id, b"", name="")
    assert response.status_code == 422
    assert "Choose a mapping file" in text_of(response)
    db_session.expire_all()
    assert load_mapping(db_session, org.id) == before
