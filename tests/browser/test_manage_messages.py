"""In a real browser, on Manage Integrations: every form says what the server answered, next to
the form (issue 15 point 1). A card saved as spend money without an account (422), Import on an
organisation disconnected since the page loaded (400), a short 404 answer and no answer at all
(said right after the form), and successes ("✓ …", "Saved: …", "Import queued: …")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from plugin.db import session_scope
from plugin.models import ImportRun
from plugin.models import Organisation
from plugin.models import utcnow
from tests.browser.test_manage_flow import import_and_wait
from tests.browser.test_manage_flow import sign_up_and_connect_amazon
from tests.browser.test_manage_flow import wait_until
from tests.common.pipeline import finish_setup

pytestmark = pytest.mark.browser


def _section_shot(page, selector: str, step: str) -> None:
    """The full page, and the section alone (readable at full size). The change signal may swap
    the section for a fresh copy while it is being shot (a job of the org ended): shoot again."""
    from playwright.sync_api import Error as PlaywrightError

    page.locator(selector).scroll_into_view_if_needed()
    path = page.shots(step)
    for attempt in range(3):
        try:
            page.locator(selector).screenshot(path=str(path.with_name(path.stem + "-section.png")))
            return
        except PlaywrightError:
            if attempt == 2:
                raise


def _days_ago(days: int) -> str:
    return (utcnow().date() - timedelta(days=days)).isoformat()


def _set_status(app, org_id: int, status: str) -> None:
    with session_scope(app) as db:
        org = db.get(Organisation, org_id)
        org.status = status
        db.add(org)
        db.commit()


def _imported(app, org_id: int) -> None:
    finish_setup(app, import_and_wait(app, org_id, days=10))


def test_every_form_on_manage_says_what_happened_next_to_it(live_app, page):
    app = live_app.app
    org_id = sign_up_and_connect_amazon(live_app, page)
    _imported(app, org_id)
    page.goto(f"{live_app.url}/orgs/{org_id}/manage")
    page.shots("manage integrations")

    # A card as spend money without an account: 422, the problem by the field.
    section = page.locator("#payment-methods")
    card = section.locator("fieldset").first
    card.get_by_label("Post as").select_option("spend_money")
    card.get_by_label("Paid from (bank or card account)").select_option("")
    section.get_by_role("button", name="Save payment methods").click()
    alert = page.locator("#payment-methods [role=alert]").first
    alert.wait_for()
    assert "Not saved" in alert.inner_text()
    assert page.locator("#payment-methods .field-error").count() >= 1
    _section_shot(page, "#payment-methods", "spend money without an account refused")

    # The same card with an account: saved, and it says so.
    card = page.locator("#payment-methods fieldset").first
    card.get_by_label("Post as").select_option("spend_money")
    card.get_by_label("Paid from (bank or card account)").select_option(index=1)
    page.locator("#payment-methods").get_by_role("button", name="Save payment methods").click()
    saved = page.locator("#payment-methods .saved[role=status]")
    saved.wait_for()
    assert "✓" in saved.inner_text()
    _section_shot(page, "#payment-methods", "payment methods saved")

    # Xero disconnected while the page was open: Import answers 400, shown by the form.
    _set_status(app, org_id, "disconnected")
    page.locator("#import-start").fill(_days_ago(7))
    page.get_by_role("button", name="Import", exact=True).click()
    refused = page.locator("#manage-import #import-error[role=alert]")
    refused.wait_for()
    assert refused.inner_text() == "Xero is disconnected: reconnect to Xero before importing."
    assert page.locator("#manage-import form.import-form").is_visible()
    _section_shot(page, "#import", "import refused on a disconnected org")

    # A short answer (not a section): the server's 404 text, right after the form that sent it.
    gone = f"{live_app.url}/orgs/{org_id}/manage/import/999999/post"
    page.route("**/manage/notify", lambda route: route.continue_(url=gone))
    notify = page.locator("#manage-notify form")
    notify.get_by_role("button").click()
    short = page.locator("#manage-notify form + [data-form-message][role=alert]")
    short.wait_for()
    assert (
        short.inner_text()
        == "Not Found. That is no longer here. Reload the page to see what changed."
    )
    page.unroute("**/manage/notify")

    # No answer at all: said in the same place.
    page.route("**/manage/notify", lambda route: route.abort())
    notify.get_by_role("button").click()
    page.get_by_text("The server did not answer").wait_for()
    assert "did not answer" in short.inner_text()
    page.unroute("**/manage/notify")
    _section_shot(page, "#notifications", "notify form unanswered")

    # The same form answered: saved, and it says so.
    notify.get_by_role("button").click()
    page.locator("#manage-notify [role=status]").wait_for()
    assert page.locator("#manage-notify [role=status]").inner_text().startswith("Saved: email")
    _section_shot(page, "#notifications", "notify saved")

    # Reconnected (and a fresh page): Import queued, and it says so.
    _set_status(app, org_id, "active")
    page.reload()
    page.locator("#import-start").fill(_days_ago(7))
    page.get_by_role("button", name="Import", exact=True).click()
    queued = page.locator("#manage-import #import-message[role=status]")
    queued.wait_for()
    assert queued.inner_text().startswith("Import queued: ")
    _section_shot(page, "#import", "import queued")
    with session_scope(app) as db:
        manual = db.exec(select(ImportRun).where(ImportRun.trigger == "manual")).all()
    assert len(manual) == 1


def test_held_purchases_are_grouped_by_their_real_cause(live_app, page):
    """Issue 15 point 4: 4 Mastercard 6006, 1 gift card and 2 Visa 9911 purchases held for an
    unmapped payment method are three groups, each named from its members; two tax holds at
    20 % are one group with a member's own figures; the list is by purchase date."""
    from playwright.sync_api import expect

    from tests.manage.test_held_groups import add_mixed

    app = live_app.app
    org_id = sign_up_and_connect_amazon(live_app, page)
    with session_scope(app) as db:
        org = db.get(Organisation, org_id)
        org.onboarding_step = "done"
        db.add(org)
        db.commit()
        rows = add_mixed(db, org)
        by_date = sorted(rows, key=lambda e: (e.transaction_date, e.id), reverse=True)
        expected_order = [f"entry-{e.id}" for e in by_date]
    page.goto(f"{live_app.url}/orgs/{org_id}/manage")
    groups = page.locator(".reason-group")
    texts = [" ".join(t.split()) for t in groups.all_inner_texts()]
    assert texts[0].startswith("4 Payment method Mastercard ending 6006 is not mapped")
    assert texts[1].startswith("2 Amazon's tax amount does not match its own rate")
    assert "For example: Amazon's tax of £7.00" in texts[1]
    assert texts[2].startswith("2 Payment method Visa ending 9911 is not mapped")
    assert texts[3].startswith("1 Payment method Gift Card Balance is not mapped")
    assert page.get_by_text(
        "Held and failed purchases, by purchase date, newest first"
    ).is_visible()
    shown = page.locator("#manage-entries tbody tr").evaluate_all("rows => rows.map(r => r.id)")
    assert shown == expected_order
    _section_shot(page, "#entries", "held purchases by cause")

    groups.nth(2).get_by_role("link", name="Show").click()
    expect(page.locator("#manage-entries tbody tr")).to_have_count(2)
    assert page.locator("#manage-entries tbody").inner_text().count("Visa 9911") == 2
    _section_shot(page, "#entries", "the visa 9911 group")


def test_xero_failing_is_named_on_the_status(live_app, page):
    """Issue 15 point 5: with the sandbox's Xero answering 500 to every call, the status says
    Xero is failing, when the next try is, and never that Xero asked us to slow down."""
    import requests

    from plugin.infra.queues import get_queue
    from plugin.infra.queues import get_redis

    app, sandbox = live_app.app, live_app.sandbox
    org_id = sign_up_and_connect_amazon(live_app, page)
    _imported(app, org_id)
    answer = requests.post(
        f"{sandbox.url}/_sandbox/faults",
        json={"service": "xero", "rates": {"500": 1.0}},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    get_queue("high", app).enqueue("jobs.posting.post_ready", org_id)
    registry = get_queue("default", app).scheduled_job_registry
    wait_until(
        "the posting run to pause",
        lambda: f"post-later-{org_id}" in registry.get_job_ids(),
    )
    assert get_redis(app).exists(f"rq:job:post-later-{org_id}")
    page.goto(f"{live_app.url}/orgs/{org_id}/manage")
    notice = page.locator("#xero-pause")
    assert notice.inner_text().startswith("Xero is failing (HTTP 500) — we retry every minute")
    assert "slow down" not in page.locator("#manage-status").inner_text()
    _section_shot(page, "#manage-status", "xero failing")
    requests.post(f"{sandbox.url}/_sandbox/faults", json={"clear": True}, timeout=10)
