"""In a real browser (issue 15 point 7): one Amazon Business store disconnected from Manage
Integrations, connected again, and the same range imported again finds nothing new; then the
organisation disconnected from Xero: the home page says it is stopped, Manage shows it
disconnected with Import, Retry and Save switched off and saying why."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from plugin.db import session_scope
from plugin.models import AmazonConnection
from plugin.models import ImportRun
from plugin.models import utcnow
from tests.browser.test_manage_flow import entries_by_id
from tests.browser.test_manage_flow import sign_up_and_connect_amazon
from tests.browser.test_manage_flow import wait_until
from tests.browser.test_manage_messages import _imported
from tests.browser.test_manage_messages import _section_shot

pytestmark = pytest.mark.browser


def _stores(app, org_id):
    with session_scope(app) as db:
        rows = db.exec(select(AmazonConnection).where(AmazonConnection.organisation_id == org_id))
        return [(row.id, row.status, bool(row.refresh_token_encrypted)) for row in rows]


def test_disconnecting_a_store_and_then_xero(live_app, page):
    app = live_app.app
    org_id = sign_up_and_connect_amazon(live_app, page)
    # The Connect Amazon page preselects the organisation's own store (a UK org: the UK store).
    page.goto(f"{live_app.url}/orgs/{org_id}/amazon")
    assert page.get_by_label("Store where the business buys").input_value() == "UK"
    _imported(app, org_id)
    known = set(entries_by_id(app, org_id))
    assert known
    ((store_id, _state, _tokens),) = _stores(app, org_id)
    manage = f"{live_app.url}/orgs/{org_id}/manage"

    page.goto(manage)
    page.get_by_role("link", name="Disconnect Amazon Business UK…").click()
    page.get_by_role("heading", name="Disconnect Amazon Business UK?").wait_for()
    page.shots("disconnect a store: what it does")
    page.get_by_role("button", name="Disconnect Amazon Business UK").click()
    page.wait_for_url(f"**/orgs/{org_id}/manage#amazon")
    assert page.get_by_text("Amazon Business UK is disconnected: nothing more is imported").count()
    assert _stores(app, org_id) == [(store_id, "disconnected", False)]
    assert set(entries_by_id(app, org_id)) == known
    block = page.locator("#amazon")
    assert "Disconnected" in block.inner_text()
    _section_shot(page, "#connections", "store disconnected")

    # Connected again: the same row, and the same range imported again adds nothing.
    block.get_by_role("button", name="Connect Amazon Business UK again").click()
    if page.get_by_label("Password").count():
        page.get_by_label("Email").fill("buyer-admin-uk@example.com")
        page.get_by_label("Password").fill("sandbox")
        page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{live_app.url}/orgs/{org_id}/**")
    assert _stores(app, org_id) == [(store_id, "active", True)]
    page.goto(manage)
    start = (utcnow().date() - timedelta(days=10)).isoformat()
    page.locator("#import-start").fill(start)
    page.get_by_role("button", name="Import", exact=True).click()
    page.locator("#manage-import #import-message[role=status]").wait_for()

    def finished() -> bool:
        with session_scope(app) as db:
            run = db.exec(select(ImportRun).where(ImportRun.trigger == "manual")).one()
            assert run.state != "failed", run.error
            return run.state == "succeeded" and run

    run = wait_until("the import again", finished, timeout=60)
    assert run.new == 0
    assert run.already_known > 0
    assert set(entries_by_id(app, org_id)) == known
    page.reload()
    _section_shot(page, "#import", "imported again: nothing new")

    # Disconnected from Xero.
    page.get_by_role("link", name="Disconnect from Xero…").click()
    page.get_by_role("button", name="Disconnect from Xero").click()
    page.wait_for_url(f"{live_app.url}/")
    row = page.locator("tr", has_text="Thames Stationery Ltd")
    assert "Disconnected" in row.inner_text()
    assert "Stopped: disconnected from Xero" in row.inner_text()
    assert "Running" not in row.inner_text()
    page.shots("home: disconnected")
    row.get_by_role("link", name="View").click()
    page.wait_for_url(manage)
    assert page.get_by_role("button", name="Import", exact=True).is_disabled()
    assert page.get_by_role("button", name="Sync now").is_disabled()
    assert "reconnect to Xero before importing" in page.locator("#manage-import").inner_text()
    page.locator("#payment-methods-section [role=alert]").wait_for()
    assert "before changing the mapping" in page.locator("#payment-methods-section").inner_text()
    assert page.get_by_role("button", name="Save payment methods").count() == 0
    page.shots("manage: disconnected from xero")
