"""In a real browser, review before posting (issue 16 point 4): the bookkeeper turns review on
before anything posts; the purchases then wait on the review page, each shown as the Xero
document it becomes; two ticked purchases are approved and posted; one purchase's account and
tracking are changed and it is approved; Manage says how many wait for review; "Approve all"
posts the rest. The sandbox's Xero holds each approved purchase once, the recoded one with the
account and option chosen."""

from __future__ import annotations

import pytest

from plugin.db import session_scope
from plugin.infra.queues import get_queue
from plugin.models import EntryState
from plugin.models import Organisation
from tests.browser.test_manage_flow import entries_by_id
from tests.browser.test_manage_flow import import_and_wait
from tests.browser.test_manage_flow import sign_up_and_connect_amazon
from tests.browser.test_manage_flow import wait_until
from tests.common.pipeline import assert_exactly_once
from tests.common.pipeline import finish_setup
from tests.common.pipeline import sandbox_documents

pytestmark = pytest.mark.browser


def in_state(app, org_id: int, state: str) -> list:
    return [e for e in entries_by_id(app, org_id).values() if e.state == state]


def test_purchases_are_reviewed_coded_and_approved_in_the_browser(live_app, page):
    app, sandbox = live_app.app, live_app.sandbox
    org_id = sign_up_and_connect_amazon(live_app, page)
    org = import_and_wait(app, org_id, days=20)  # set-up unfinished: nothing posts yet
    review_url = f"{live_app.url}/orgs/{org_id}/review"

    page.goto(review_url)
    assert "Every purchase that can post goes to Xero by itself." in page.inner_text("#review-mode")
    page.shots("review page, automatic")
    page.get_by_role("button", name="Review purchases before posting").click()
    page.get_by_text("Review before posting is on: new purchases wait here").wait_for()
    page.shots("review turned on")

    finish_setup(app, org, include_new_card=True)
    get_queue("high", app).enqueue("jobs.posting.post_ready", org_id)
    waiting = wait_until("purchases to wait for review", lambda: in_state(app, org_id, "review"))
    wait_until(
        "the posting run to evaluate everything",
        lambda: not in_state(app, org_id, "fetched"),
    )
    assert not in_state(app, org_id, EntryState.POSTED)
    waiting = in_state(app, org_id, "review")
    count = len(waiting)
    assert count >= 6

    page.goto(review_url)
    heading = f"{count} purchases waiting for your review"
    assert heading in page.inner_text("#review-list")
    first_item = page.locator(".review-item").first
    assert "Amazon Business" in first_item.inner_text()
    assert "Reference" in first_item.inner_text()
    page.shots("purchases waiting with the documents they become")
    first_item.screenshot(path=str(page.shots.folder / "04b-one-purchase.png"))

    # Approve two ticked purchases.
    items = page.locator(".review-item")
    ticked = [items.nth(1), items.nth(2)]
    ticked_ids = [int(t.get_attribute("id").rsplit("-", 1)[1]) for t in ticked]
    for item in ticked:
        item.locator('input[type="checkbox"]').check()
    page.shots("two purchases ticked")
    page.get_by_role("button", name="Approve the ticked purchases").click()
    page.get_by_text("Approved 2 purchases").wait_for()
    page.shots("two approved")
    page.screenshot(path=str(page.shots.folder / "05b-two-approved-top.png"))

    def posted_ids() -> set[int]:
        return {int(e.id) for e in in_state(app, org_id, EntryState.POSTED)}

    wait_until("the two approved to post", lambda: posted_ids() == set(ticked_ids))

    # Change one purchase's coding, then save and approve it.
    recode = page.locator(".review-item").first
    recode_id = int(recode.get_attribute("id").rsplit("-", 1)[1])
    recode.get_by_role("link", name="Change coding").click()
    form = page.locator(f"#review-item-{recode_id}")
    form.get_by_role("button", name="Save and approve").wait_for()
    account = form.get_by_label("Account").first
    mapped = account.input_value()
    options = account.locator("option").evaluate_all("os => os.map(o => o.value)")
    chosen_account = next(code for code in options if code != mapped)
    account.select_option(chosen_account)
    department = form.get_by_label("Department").first
    department_options = department.locator("option").evaluate_all(
        "os => os.map(o => o.value).filter(v => v)"
    )
    chosen_option = department_options[0]
    department.select_option(chosen_option)
    page.shots("coding changed for one purchase")
    form.screenshot(path=str(page.shots.folder / "07b-coding-form.png"))
    form.get_by_role("button", name="Save and approve").click()
    page.get_by_text("Coding saved. Approved 1 purchase").wait_for()
    page.shots("recoded purchase approved")
    wait_until("the recoded purchase to post", lambda: recode_id in posted_ids())

    # Manage says how many still wait for review.
    page.goto(f"{live_app.url}/orgs/{org_id}/manage")
    rest = count - 3
    notice = page.locator("#review-notice")
    assert f"{rest} purchases are waiting for your review." in notice.inner_text()
    assert page.locator("#review-tile .tile-number").inner_text() == str(rest)
    page.shots("manage with purchases waiting for review")
    page.locator("#manage-status").screenshot(path=str(page.shots.folder / "08b-status.png"))
    page.locator("#entries").screenshot(path=str(page.shots.folder / "08c-entries.png"))

    # Approve all the rest.
    page.get_by_role("link", name="Review purchases").click()
    page.wait_for_url(review_url)
    page.get_by_role("button", name=f"Approve all {rest}").click()
    page.get_by_text(f"Approved {rest} purchases").wait_for()
    page.shots("all approved")
    wait_until("every approved purchase to post", lambda: len(posted_ids()) == count, timeout=60)
    page.goto(review_url)
    assert "Nothing is waiting for your review." in page.inner_text("#review-list")
    page.shots("nothing left to review")

    with session_scope(app) as db:
        org = db.get(Organisation, org_id)
    posted = assert_exactly_once(app, sandbox, org)
    assert {int(e.id) for e in posted} == {int(e.id) for e in waiting}
    recoded = next(e for e in posted if int(e.id) == recode_id)
    documents = sandbox_documents(sandbox, org)
    [document] = [
        d
        for endpoint in ("BankTransactions", "Invoices", "CreditNotes")
        for d in documents[endpoint]
        if recoded.xero_document_id
        in (d.get("BankTransactionID"), d.get("InvoiceID"), d.get("CreditNoteID"))
    ]
    first_line = document["LineItems"][0]
    assert first_line["AccountCode"] == chosen_account
    assert {"Name": "Department", "Option": chosen_option} in [
        {"Name": t["Name"], "Option": t["Option"]} for t in first_line["Tracking"]
    ]
