"""The mapping page's tracking section: the chart's categories offered, a save storing which
Amazon field feeds each category and how values map, and refusals shown next to the field
(archived option, unknown checkout field, a hand-mapping line that is not ``value = option``)."""

from __future__ import annotations

import re

import pytest

from plugin.mapping.store import load_mapping
from plugin.posting import TrackingValue
from tests.common.charts import uk_chart
from tests.common.onboarding import HX
from tests.common.onboarding import field_error
from tests.common.onboarding import make_org
from tests.common.onboarding import option_values
from tests.common.onboarding import seed_chart
from tests.common.onboarding import selected
from tests.common.onboarding import text_of
from tests.common.tracking import tracking_categories


@pytest.fixture
def setup(client, make_member, db_session, redis_client, sign_in):
    """A signed-in member of a UK org whose Xero chart has tracking categories."""
    user, org = make_org(make_member, db_session)
    seed_chart(redis_client, org.id, uk_chart(TrackingCategories=tracking_categories()))
    sign_in(client, user)
    return org


def slot(**parts: str) -> dict[str, str]:
    return {f"tc-0-{part}": value for part, value in parts.items()}


def test_the_section_offers_the_active_categories_of_xero(client, setup):
    page = text_of(client.get(f"/orgs/{setup.id}/setup/mapping"))
    assert '<section id="tracking"' in page
    assert option_values(page, "tc-0-category") == ["", "Department", "Cost Centre"]
    assert selected(page, "tc-0-category") is None
    assert 'name="tc-0-match" id="tc-0-match" value="1" checked' in page
    fragment = client.get(f"/orgs/{setup.id}/mapping/tracking", headers=HX)
    assert text_of(fragment).strip().startswith('<section id="tracking"')


def test_saving_stores_the_field_the_options_and_the_default(client, setup, db_session):
    data = {
        **slot(
            category="Department",
            source="customer_group",
            match="1",
            default="Office",
            values="Warehouse = Facilities\n\nLab = Office\n",
        ),
        "tc-1-category": "Cost Centre",
        "tc-1-source": "business_order_info",
        "tc-1-key": "Cost center",
        "tc-1-create": "1",
    }
    response = client.post(f"/orgs/{setup.id}/mapping/tracking", data=data, headers=HX)
    page = text_of(response)
    assert response.status_code == 200, page
    assert "Tracking categories saved." in page
    db_session.expire_all()
    first, second = load_mapping(db_session, setup.id).tracking
    assert (first.category, first.source, first.default_option) == (
        "Department",
        "customer_group",
        "Office",
    )
    assert first.values == (
        TrackingValue("Warehouse", "Facilities"),
        TrackingValue("Lab", "Office"),
    )
    assert (first.match_by_name, first.create_missing) == (True, False)
    assert (second.key, second.match_by_name, second.create_missing) == ("Cost center", False, True)
    assert selected(page, "tc-0-default") == "Office"
    assert option_values(page, "tc-0-default") == ["", "Facilities", "Office"]
    assert "Lab = Office" in page
    export = client.get(f"/orgs/{setup.id}/mapping/export").json
    assert export["version"] == 2
    assert [t["category"] for t in export["tracking"]] == ["Department", "Cost Centre"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            slot(category="Department", source="customer_group", values="Lab = IT"),
            "tc-0-values",
            "archived in Xero",
        ),
        (
            slot(category="Department", source="customer_group", values="just a value"),
            "tc-0-values",
            "Line 1",
        ),
        (
            slot(category="Cost Centre", source="business_order_info"),
            "tc-0-key",
            "Name the checkout field",
        ),
        (slot(category="Department", source=""), "tc-0-source", "Pick the Amazon field"),
        (slot(category="Region", source="buyer"), "tc-0-category", "archived in Xero"),
    ],
)
def test_refusals_are_shown_next_to_the_field(client, setup, db_session, data, field, message):
    response = client.post(f"/orgs/{setup.id}/mapping/tracking", data=data, headers=HX)
    assert response.status_code == 422
    assert message in field_error(text_of(response), field)
    db_session.expire_all()
    assert load_mapping(db_session, setup.id).tracking == ()


def test_an_archived_mapped_category_is_flagged_on_the_page(
    client, setup, db_session, redis_client
):
    data = slot(category="Department", source="buyer", match="1")
    assert (
        client.post(f"/orgs/{setup.id}/mapping/tracking", data=data, headers=HX).status_code == 200
    )
    categories = tracking_categories()
    categories[0]["Status"] = "ARCHIVED"
    seed_chart(redis_client, setup.id, uk_chart(TrackingCategories=categories))
    page = text_of(client.get(f"/orgs/{setup.id}/mapping/tracking", headers=HX))
    assert "“Department” is archived in Xero: purchases are held." in page
    assert re.search(r'<option value="Department" selected>Department \(archived in Xero\)', page)
