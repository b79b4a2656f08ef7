"""In a real browser: Thames Stationery's Amazon Business account buys for two legal entities.
Alice, setting up Thames Stationery Ltd, finds both taken by her organisation (it is alone on
the account), gives up Thames Stationery (Scotland) Ltd on the review step (the preview then
holds its purchases, saying why, and the section shows it taken by no organisation), and
finishes. Fiona's Scotland organisation then takes it; when Alice tries to take it back, the
page says another organisation takes it, without naming one she is not a member of."""

from __future__ import annotations

import pytest
from sqlmodel import select

from plugin.db import session_scope
from plugin.models import EntryState
from plugin.models import OnboardingStep
from plugin.models import Organisation
from plugin.posting import legal_entities as le
from tests.browser.test_manage_flow import entries_by_id
from tests.browser.test_manage_flow import import_and_wait
from tests.browser.test_manage_flow import sign_up_and_connect_amazon
from tests.browser.test_manage_flow import wait_until
from tests.common.e2e import amazon_connect
from tests.common.e2e import xero_install
from tests.common.pipeline import finish_setup

pytestmark = pytest.mark.browser

SCOTLAND = "Thames Stationery (Scotland) Ltd"
LTD = "Thames Stationery Ltd"


def at_review(app, org_id: int) -> None:
    """Import 30 days, map everything known, and stop at the review step (nothing posted)."""
    org = import_and_wait(app, org_id, days=30)
    finish_setup(app, org, include_new_card=True)
    with session_scope(app) as db:
        stored = db.get(Organisation, org_id)
        stored.onboarding_step = OnboardingStep.REVIEW
        stored.sync_enabled = False
        db.add(stored)
        db.commit()


def scotland_takes_it(live_app) -> None:
    """Fiona connects Scotland's Xero organisation to the same Amazon account and takes
    Scotland (through the app, as her own browser would)."""
    app = live_app.app
    client = xero_install(app, live_app.sandbox.url, "fiona@example.com", [SCOTLAND])
    with session_scope(app) as db:
        org = db.exec(select(Organisation).where(Organisation.name == SCOTLAND)).one()
    assert amazon_connect(client, org.id, "UK", "buyer-admin-uk@example.com").status_code == 302
    import_and_wait(app, org.id, days=30)
    finish_setup(app, org, include_new_card=True)
    answer = client.post(f"/orgs/{org.id}/legal-entities", data={"entity": [SCOTLAND]})
    assert answer.status_code == 200, answer.get_data(as_text=True)


def test_choosing_legal_entities_in_set_up_and_manage(live_app, page):
    app = live_app.app
    org_id = sign_up_and_connect_amazon(live_app, page)
    at_review(app, org_id)
    page.goto(f"{live_app.url}/orgs/{org_id}/setup/review")
    section = page.locator("#legal-entities")
    section.wait_for()
    assert section.get_by_label(LTD).is_checked()
    assert section.get_by_label(SCOTLAND).is_checked()  # alone on the account: both taken
    section.scroll_into_view_if_needed()
    page.shots("review with both legal entities taken")

    section.get_by_label(SCOTLAND).uncheck()
    section.get_by_role("button", name="Save legal entities").click()
    page.locator("#legal-entities [role=status]").wait_for()
    text = page.locator("#legal-entities").inner_text()
    assert f"no longer takes {SCOTLAND}" in text
    assert f"taken by no organisation: {SCOTLAND}" in " ".join(text.split())
    held = page.locator(f"details.held-group[data-code='{le.NOT_TAKEN}']")
    held.wait_for()  # the preview read again: Scotland's purchases held, with the reason
    assert f"Legal entity {SCOTLAND} is not taken" in held.inner_text()
    page.shots("Scotland given up, its purchases held in the preview")

    page.get_by_role("button", name="Finish and start posting").click()
    page.wait_for_url(f"{live_app.url}/orgs/{org_id}/manage**")

    def posted() -> bool:
        states = {e.state for e in entries_by_id(app, org_id).values()}
        return EntryState.POSTED in states and EntryState.READY not in states

    wait_until("Thames's purchases to post", posted, timeout=60)
    entries = entries_by_id(app, org_id).values()
    scottish = [
        e for e in entries if le.entity_of(e.raw_payload.get("legalEntityName")) == SCOTLAND
    ]
    assert scottish
    assert {e.state for e in scottish} == {EntryState.HELD}

    scotland_takes_it(live_app)
    page.goto(f"{live_app.url}/orgs/{org_id}/manage")
    section = page.locator("#legal-entities")
    section.wait_for()
    assert "Taken by another Xero organisation" in section.inner_text()  # Alice is no member
    section.get_by_label(SCOTLAND).check()
    section.get_by_role("button", name="Save legal entities").click()
    refusal = page.locator("#legal-entities [role=alert]")
    refusal.wait_for()
    assert f"{SCOTLAND} is already taken by another Xero organisation" in refusal.inner_text()
    assert "Fiona" not in page.locator("#legal-entities").inner_text()
    assert not section.get_by_label(SCOTLAND).is_checked()
    page.locator("#legal-entities").scroll_into_view_if_needed()
    page.shots("manage: Scotland taken by another organisation, refused")
    page.locator("#legal-entities").screenshot(path=str(page.shots.folder / "03b-section.png"))
    # Thames's held copies of Scotland's purchases left its list once Scotland had them.
    entries = entries_by_id(app, org_id).values()
    assert not [
        e for e in entries if le.entity_of(e.raw_payload.get("legalEntityName")) == SCOTLAND
    ]
