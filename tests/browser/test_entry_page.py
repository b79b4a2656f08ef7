"""In a real browser, the entry page as a bookkeeper reads it (issue 15 point 6): headed with
the product, the seller, the amount and the date; each line's account and tax; a link that
opens the document in Xero in the right organisation; the fix as a button to the right place;
a Retry that holds the purchase again says why. Review's held list names purchases the same."""

from __future__ import annotations

import re

import pytest
import requests

from plugin.db import session_scope
from plugin.infra.queues import get_queue
from plugin.models import EntryState
from plugin.models import Organisation
from tests.browser.test_manage_flow import entries_by_id
from tests.browser.test_manage_flow import finish_set_up_in_code
from tests.browser.test_manage_flow import sign_up_and_connect_amazon
from tests.browser.test_manage_flow import wait_until

pytestmark = pytest.mark.browser

DAY = re.compile(r"\b\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}\b")


def test_the_entry_page_reads_as_a_bookkeeper_needs(live_app, page):
    app, sandbox = live_app.app, live_app.sandbox
    org_id = sign_up_and_connect_amazon(live_app, page)
    finish_set_up_in_code(live_app, org_id)
    with session_scope(app) as db:
        org = db.get(Organisation, org_id)
        assert (org.settings or {}).get("xero_short_code") == "!tHm5S"  # read at sign-up

    posted = next(
        e
        for e in sorted(entries_by_id(app, org_id).values(), key=lambda e: e.id)
        if e.state == EntryState.POSTED and e.transaction_type == "CHARGE"
    )
    page.goto(f"{live_app.url}/orgs/{org_id}/entries/{posted.amazon_transaction_id}")
    heading = page.locator("h1").inner_text()
    assert " from " in heading, heading
    assert posted.amazon_transaction_id not in heading
    sub = page.locator(".entry-sub").inner_text()
    assert f"{posted.currency} {posted.amount:.2f}" in sub
    assert DAY.search(sub), sub
    assert not re.search(r"\d{4}-\d{2}-\d{2}", page.locator("main").inner_text())
    lines = page.locator("table.entry-lines")
    assert page.get_by_role("heading", name="Lines in Xero").is_visible()
    first = lines.locator("tbody tr").first.locator("td")
    assert re.match(r"^\d+ \S", first.nth(3).inner_text()), first.nth(3).inner_text()  # "429 …"
    assert first.nth(4).inner_text() not in ("", "\u2013")
    link = page.get_by_role("link", name=re.compile("Open in Xero"))
    href = link.get_attribute("href")
    assert href.startswith("https://go.xero.com/organisationlogin/default.aspx?shortcode=%21tHm5S")
    assert posted.xero_document_id in href
    assert link.get_attribute("target") == "_blank"
    page.shots("a posted purchase")

    # A new card at Amazon: its purchase is held; the page offers the fix and a Retry.
    added = requests.post(
        f"{sandbox.url}/_sandbox/amazon/transactions",
        json={
            "account": "thames",
            "store": "UK",
            "count": 1,
            "new_card": {"type": "Visa", "last4": "9911"},
        },
        timeout=10,
    ).json()
    (new_id,) = added["transactionIds"]
    get_queue("high", app).enqueue("jobs.sync.sync_org", org_id)
    wait_until(
        "the new card's purchase to be held",
        lambda: (e := entries_by_id(app, org_id).get(new_id)) and e.state == EntryState.HELD,
        timeout=60,
    )
    entry_url = f"{live_app.url}/orgs/{org_id}/entries/{new_id}"
    page.goto(entry_url)
    fix = page.get_by_role("link", name="Map the payment method")
    assert fix.get_attribute("href") == f"/orgs/{org_id}/mapping#payment-methods"
    assert "Visa ending 9911" in page.locator("#entry-state").inner_text()
    page.shots("a held purchase with its fix")

    page.get_by_role("button", name="Retry now").click()
    page.wait_for_url("**?retried=1")
    said = page.locator("#entry-state [role=alert]")
    said.wait_for(timeout=30_000)
    assert said.inner_text().startswith("Still held after your retry.")
    assert "Visa ending 9911 is not mapped" in said.inner_text()
    page.shots("held again after retry, and why")

    # The page's forms answer next to them (issue 15 point 1), not at the top of the page.
    page.get_by_role("button", name="I posted it in Xero by hand").click()
    said = page.locator("#entry-state [role=status][data-place=entry]")
    said.wait_for()
    assert said.inner_text() == "Marked as posted by hand. This app will never post it."
    assert page.locator(".flashes").count() == 0
    page.shots("marked by hand, said by the state")
    page.get_by_role("button", name="It is not in Xero: post it").click()
    page.locator("#entry-state [role=status][data-place=entry]").wait_for()
    assert "The mark is taken back" in page.locator("#entry-state").inner_text()
    wait_until(
        "the new card's purchase to be held again",
        lambda: (e := entries_by_id(app, org_id).get(new_id)) and e.state == EntryState.HELD,
        timeout=60,
    )
    page.goto(entry_url)

    fix.click()
    page.wait_for_url(f"**/orgs/{org_id}/mapping#payment-methods")
    assert page.locator("#payment-methods").is_visible()
    page.shots("the fix opens payment methods")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_app.url}/orgs/{org_id}/entries/{posted.amazon_transaction_id}")
    page.shots("a posted purchase at 390 px")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
