"""In a real browser: an organisation in sync maps its Xero tracking categories on the mapping
page (Department from the purchasing group, Cost Centre from the "Cost center" checkout field,
options created in Xero when missing); the save posts the waiting purchases, and the sandbox's
Xero holds every line with its tracking."""

from __future__ import annotations

import pytest

from plugin.config import XERO_DEFAULT_SCOPES
from plugin.db import session_scope
from plugin.mapping.store import load_mapping
from plugin.models import EntryState
from plugin.models import Organisation
from tests.browser.test_manage_flow import entries_by_id
from tests.browser.test_manage_flow import import_and_wait
from tests.browser.test_manage_flow import sign_up_and_connect_amazon
from tests.browser.test_manage_flow import wait_until
from tests.common.pipeline import finish_setup
from tests.common.pipeline import sandbox_documents

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config(app_config):
    """The app asks Xero for ``accounting.settings`` too: it may create tracking options."""
    return {**app_config, "XERO_SCOPES": f"{XERO_DEFAULT_SCOPES} accounting.settings"}


def imported_not_posted(live_app, org_id: int) -> None:
    """Import 20 days before set-up is finished (so nothing posts), then finish it in code."""
    app = live_app.app
    org = import_and_wait(app, org_id, days=20)
    finish_setup(app, org, include_new_card=True)


def test_tracking_categories_are_mapped_on_the_page_and_posted(live_app, page):
    app, sandbox = live_app.app, live_app.sandbox
    org_id = sign_up_and_connect_amazon(live_app, page)
    imported_not_posted(live_app, org_id)
    page.goto(f"{live_app.url}/orgs/{org_id}/mapping?from=manage")
    section = page.locator("#tracking")
    section.scroll_into_view_if_needed()
    assert "Xero allows two active tracking categories" in section.inner_text()
    first = page.locator("#tc-0-slot")
    first.get_by_label("Xero category").select_option("Department")
    first.get_by_label("Fed by the Amazon field").select_option("customer_group")
    second = page.locator("#tc-1-slot")
    second.get_by_label("Xero category").select_option("Cost Centre")
    second.get_by_label("Fed by the Amazon field").select_option("business_order_info")
    second.get_by_label("Checkout field name").fill("Cost center")
    second.get_by_label("Use the Xero option with the same name").check()
    second.get_by_label("Create a missing option in Xero").check()
    page.shots("tracking categories filled in")
    section.get_by_role("button", name="Save tracking categories").click()
    page.locator("#tracking .saved").wait_for()
    assert "Tracking categories saved." in page.locator("#tracking").inner_text()
    page.locator("#tracking").scroll_into_view_if_needed()
    page.shots("tracking categories saved")
    page.locator("#tracking").screenshot(path=str(page.shots.folder / "02b-tracking-section.png"))
    with session_scope(app) as db:
        stored = load_mapping(db, org_id).tracking
    assert [(t.category, t.source, t.key, t.create_missing) for t in stored] == [
        ("Department", "customer_group", None, False),
        ("Cost Centre", "business_order_info", "Cost center", True),
    ]

    def all_posted() -> bool:
        states = {e.state for e in entries_by_id(app, org_id).values()}
        return bool(states) and states <= {EntryState.POSTED, EntryState.HELD}

    wait_until("the purchases to post", all_posted, timeout=60)
    entries = entries_by_id(app, org_id).values()
    assert not [e.reason for e in entries if e.reason_code and "tracking" in e.reason_code]
    with session_scope(app) as db:
        org = db.get(Organisation, org_id)
    documents = sandbox_documents(sandbox, org)
    lines = [
        line
        for endpoint in ("BankTransactions", "Invoices", "CreditNotes")
        for document in documents[endpoint]
        for line in document["LineItems"]
    ]
    assert lines
    assert all(any(t["Name"] == "Department" for t in line["Tracking"]) for line in lines)
    options = {
        t["Option"] for line in lines for t in line["Tracking"] if t["Name"] == "Cost Centre"
    }
    assert options <= {"FAC-01", "WH-02", "IT-03"}
    assert options
    page.goto(f"{live_app.url}/orgs/{org_id}/manage")
    page.shots("manage after posting with tracking")
