"""In a real browser: the Review page's Finish answers beside its button (issue 15 point 1,
for the Review page). Xero disconnected in another tab while Review is open: Finish is refused
right under the button (not at the top of the page) and the button is switched off; once
reconnected, Finish goes on to Manage Integrations, which says set-up is finished."""

from __future__ import annotations

import re

import pytest

from plugin.db import session_scope
from plugin.mapping import files as mapping_file
from plugin.mapping.store import save_mapping
from plugin.models import OnboardingStep
from plugin.models import Organisation
from plugin.models import OrgStatus
from tests.browser.test_wizard_flow import connect_amazon_uk
from tests.browser.test_wizard_flow import sign_up_with_xero
from tests.common.pipeline import thames_mapping

pytestmark = pytest.mark.browser

REFUSED = "Xero is disconnected: reconnect to Xero before finishing set-up."


def set_org(app, org_id: int, **values) -> None:
    with session_scope(app) as db:
        org = db.get(Organisation, org_id)
        for name, value in values.items():
            setattr(org, name, value)
        db.add(org)
        db.commit()


def test_finish_answers_beside_its_button(live_app, page):
    sign_up_with_xero(page, live_app.url)
    connect_amazon_uk(page)
    org_id = int(re.search(r"/orgs/(\d+)/", page.url).group(1))
    mapping = mapping_file.load_mapping(thames_mapping(), "test mapping")
    with session_scope(live_app.app) as db:
        save_mapping(db, org_id, mapping, actor="test")
    set_org(live_app.app, org_id, onboarding_step=OnboardingStep.REVIEW)
    page.goto(f"{live_app.url}/orgs/{org_id}/setup/review")
    page.shots("review")

    # Disconnected meanwhile (another tab): the refusal is said under the button.
    set_org(live_app.app, org_id, status=OrgStatus.DISCONNECTED)
    button = page.get_by_role("button", name="Finish and start posting")
    button.click()
    message = page.locator("#finish-message")
    message.wait_for()
    assert REFUSED in message.inner_text()
    assert page.locator(".flashes").count() == 0  # nothing at the top of the page
    button_box = page.get_by_role("button", name="Finish and start posting").bounding_box()
    message_box = message.bounding_box()
    assert 0 <= message_box["y"] - (button_box["y"] + button_box["height"]) < 40
    assert page.get_by_role("button", name="Finish and start posting").is_disabled()
    page.shots("finish refused beside the button")
    page.set_viewport_size({"width": 390, "height": 844})
    page.shots("finish refused at 390px")
    page.set_viewport_size({"width": 1280, "height": 900})
    with session_scope(live_app.app) as db:
        assert db.get(Organisation, org_id).onboarding_step == OnboardingStep.REVIEW

    # Reloaded, the page says it in the same place, beside the switched-off button.
    page.reload()
    assert REFUSED in page.locator("#finish-message").inner_text()

    # Reconnected: Finish goes on to Manage Integrations, which says so first.
    set_org(live_app.app, org_id, status=OrgStatus.ACTIVE)
    page.reload()
    assert page.locator("#finish-message").count() == 0
    page.get_by_role("button", name="Finish and start posting").click()
    page.wait_for_url(f"**/orgs/{org_id}/manage")
    assert "Set-up is finished." in page.locator(".flashes").inner_text()
    page.shots("finished on manage")
