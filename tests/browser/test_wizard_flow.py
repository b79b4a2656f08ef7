"""In a real browser, the whole set-up against the sandbox: sign up with Xero, connect Amazon
Business UK, import 30 days (the progress bar reaches 100 %), map every payment method
(Pay by Invoice with its payment account) and accept the suggestions for the rest, review,
Finish, and see the documents appear in the sandbox's Xero viewer. Screenshots of each step
(and of the busiest pages at 640 px wide) go to test-artifacts/."""

from __future__ import annotations

import re
import time

import pytest
import requests

from tests.common.e2e import tenant_ids_by_name

pytestmark = pytest.mark.browser

THAMES = "Thames Stationery Ltd"
CARD_ACCOUNTS = {"Visa": "800", "American Express": "801", "Mastercard": "801", "Gift Card": "091"}


def narrow_shot(page, step: str) -> None:
    """A screenshot at 640 px wide (phones, 200 % zoom), then back to 1280."""
    page.set_viewport_size({"width": 640, "height": 900})
    page.shots(f"{step} at 640px")
    page.set_viewport_size({"width": 1280, "height": 900})


def sign_up_with_xero(page, url: str) -> None:
    page.goto(url + "/")
    page.get_by_role("link", name="Sign up with Xero").click()
    page.get_by_label("Email").fill("alice@example.com")
    page.get_by_label("Password").fill("sandbox")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label(THAMES).check()
    page.get_by_role("button", name="Allow access").click()
    page.wait_for_url("**/orgs/*/amazon")
    page.shots("connect amazon business")


def connect_amazon_uk(page) -> None:
    page.get_by_label("Store where the business buys").select_option("UK")
    page.get_by_role("button", name="Continue to Amazon").click()
    page.get_by_label("Email").fill("buyer-admin-uk@example.com")
    page.get_by_label("Password").fill("sandbox")
    page.shots("amazon sign in")
    page.get_by_role("button", name="Sign in").click()
    page.shots("amazon consent")
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url("**/orgs/*/setup/history")


def import_30_days(page) -> None:
    assert page.locator('[aria-current="step"]').inner_text().strip().endswith("Import history")
    page.shots("import history")
    page.get_by_role("button", name="Start import").click()
    page.locator("#import-progress").wait_for()
    page.shots("import running")
    page.get_by_text("Import finished.").wait_for(timeout=30_000)
    assert page.locator("#import-progress progress").get_attribute("value") == "100"
    assert page.locator("#import-progress").get_attribute("hx-trigger") is None  # stopped
    page.shots("import done")
    page.get_by_role("button", name="Next: map accounts").click()
    page.wait_for_url("**/orgs/*/setup/mapping")


def map_payment_methods(page) -> list[str]:
    rows = page.locator("fieldset.pm-row")
    labels = []
    for index in range(rows.count()):
        row = rows.nth(index)
        label = row.locator("legend").inner_text().split("\n")[0].strip()
        labels.append(label)
        treatment = row.get_by_label("Post as")
        if "invoice" in label.lower():
            treatment.select_option("bill")
            row.get_by_label("Bills paid from").select_option("090")
        else:
            account = next(code for name, code in CARD_ACCOUNTS.items() if label.startswith(name))
            treatment.select_option("spend_money")
            row.get_by_label("Paid from (bank or card account)").select_option(account)
    page.get_by_role("button", name="Save payment methods").click()
    page.locator("#payment-methods .saved").wait_for()
    return labels


def save_suggestions(page) -> None:
    for button, section in (
        ("Save expenses", "#expenses"),
        ("Save taxes", "#taxes"),
        ("Save line items", "#line-types"),
    ):
        page.get_by_role("button", name=button).click()
        page.locator(f"{section} .saved").wait_for()


def documents_in_viewer(sandbox_url: str, tenant_id: str, wanted: int, timeout: float = 30) -> int:
    """Poll the sandbox viewer until the org shows ``wanted`` documents; return how many."""
    deadline = time.monotonic() + timeout
    rows = 0
    while time.monotonic() < deadline:
        html = requests.get(f"{sandbox_url}/viewer", timeout=5).text
        section = html.split(f'id="org-{tenant_id}"', 1)[-1].split("</section>", 1)[0]
        rows = len(re.findall(r"<tr data-id=", section))
        if rows >= wanted:
            return rows
        time.sleep(0.5)
    return rows


def test_whole_setup_in_the_browser(live_app, page):
    sign_up_with_xero(page, live_app.url)
    connect_amazon_uk(page)
    import_30_days(page)

    page.shots("map accounts with suggestions")
    narrow_shot(page, "map accounts")
    labels = map_payment_methods(page)
    assert any(label.startswith("Pay by Invoice") for label in labels)
    assert any(label.startswith("Visa") for label in labels)
    save_suggestions(page)
    assert page.locator(".badge-new").count() == 0
    page.shots("map accounts saved")
    page.get_by_role("button", name="Next: review").click()

    page.wait_for_url("**/orgs/*/setup/review")
    page.shots("review")
    counts = {
        kind: int(page.locator(f'tr[data-kind="{kind}"] td.num').first.inner_text())
        for kind in ("spend_money", "receive_money", "bill", "credit_note")
    }
    assert counts["spend_money"] > 0
    assert counts["bill"] > 0
    expected = sum(counts.values())
    narrow_shot(page, "review")
    page.get_by_role("button", name="Finish and start posting").click()
    page.wait_for_url("**/orgs/*/manage")
    page.shots("finished")

    tenant_id = tenant_ids_by_name(live_app.sandbox.url)[THAMES]
    assert documents_in_viewer(live_app.sandbox.url, tenant_id, expected) == expected
    page.goto(f"{live_app.sandbox.url}/viewer")
    page.shots("documents in the sandbox viewer")
