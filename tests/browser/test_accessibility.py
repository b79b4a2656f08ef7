"""axe-core runs on every page of ours a browser test takes a screenshot of
(``tests/browser/conftest.py``, ``Shots``). Here: that the check finds what it must (the old
"Sign up with Xero" button, white on Xero's #13B5EA at 2.38:1), that our button passes, and that
the wizard's first steps work with the keyboard alone."""

from __future__ import annotations

import pytest

from tests.browser.conftest import accessibility_problems

pytestmark = pytest.mark.browser

OLD_BUTTON = """<!doctype html><html lang="en"><head><title>Contrast</title></head><body>
<main><h1>Sign up</h1><a style="background:#13b5ea;color:#fff;padding:.5rem" href="#">Sign up
with Xero</a></main></body></html>"""


def test_the_check_finds_white_on_xero_blue_and_passes_our_button(live_app, page):
    page.set_content(OLD_BUTTON)
    problems = accessibility_problems(page)
    assert any(problem.startswith("color-contrast (serious)") for problem in problems), problems
    page.goto(live_app.url + "/")
    button = page.get_by_role("link", name="Sign up with Xero")
    assert button.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(0, 120, 168)"
    assert accessibility_problems(page) == []


def tab_to(page, locator, presses: int = 40) -> None:
    """Press Tab until ``locator`` has the focus (as a keyboard user would)."""
    handle = locator.element_handle()
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("element => document.activeElement === element", handle):
            return
    raise AssertionError(f"Tab never reached {locator}")


def choose(page, select, value: str, presses: int = 80) -> None:
    """Pick ``value`` in a closed <select> with the keyboard: Tab to it, Home, then ArrowDown."""
    tab_to(page, select)
    page.keyboard.press("Home")
    for _ in range(presses):
        if select.input_value() == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"{value!r} is not an option of {select}")


def test_the_wizard_works_with_the_keyboard_alone(live_app, page):
    page.goto(live_app.url + "/")
    tab_to(page, page.get_by_role("link", name="Sign up with Xero"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_label("Email"))  # the sandbox's Xero sign-in (not ours)
    page.keyboard.type("alice@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type("sandbox")
    page.keyboard.press("Enter")
    checkbox = page.get_by_label("Thames Stationery Ltd")
    tab_to(page, checkbox)
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="Allow access"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/orgs/*/amazon")
    page.shots("connect amazon with the keyboard")
    store = page.get_by_label("Store where the business buys")
    tab_to(page, store)
    page.keyboard.press("End")  # moves a focused closed select to its last option
    chosen = store.input_value()
    for _ in range(20):  # then up to the UK store
        if store.input_value() == "UK":
            break
        page.keyboard.press("ArrowUp")
    assert store.input_value() == "UK", chosen
    tab_to(page, page.get_by_role("button", name="Continue to Amazon"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_label("Email"))  # the sandbox's Amazon sign-in
    page.keyboard.type("buyer-admin-uk@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type("sandbox")
    page.keyboard.press("Enter")
    allow = page.get_by_role("button", name="Allow")
    tab_to(page, allow)
    page.keyboard.press("Enter")
    page.wait_for_url("**/orgs/*/setup/history")
    tab_to(page, page.get_by_role("button", name="Start import"))
    page.keyboard.press("Enter")
    page.get_by_text("Import finished.").wait_for(timeout=30_000)
    page.shots("import done with the keyboard")
    tab_to(page, page.get_by_role("button", name="Next: map accounts"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/orgs/*/setup/mapping")
    rows = page.locator("fieldset.pm-row")
    for index in range(rows.count()):
        row = rows.nth(index)
        label = row.locator("legend").inner_text().lower()
        if "invoice" in label:
            choose(page, row.get_by_label("Post as"), "bill")
            choose(page, row.get_by_label("Bills paid from"), "090")
        else:
            choose(page, row.get_by_label("Post as"), "spend_money")
            account = row.get_by_label("Paid from (bank or card account)")
            choose(page, account, "091" if "gift" in label else "800")
    tab_to(page, page.get_by_role("button", name="Save payment methods"))
    page.keyboard.press("Enter")
    page.locator("#payment-methods .saved").wait_for()
    for button, section in (
        ("Save expenses", "#expenses"),
        ("Save taxes", "#taxes"),
        ("Save line items", "#line-types"),
    ):
        tab_to(page, page.get_by_role("button", name=button))
        page.keyboard.press("Enter")
        page.locator(f"{section} .saved").wait_for()
    page.shots("mapping saved with the keyboard")
    tab_to(page, page.get_by_role("button", name="Next: review"), presses=200)
    page.keyboard.press("Enter")
    page.wait_for_url("**/orgs/*/setup/review")
    tab_to(page, page.get_by_role("button", name="Finish and start posting"), presses=200)
    page.keyboard.press("Enter")
    page.wait_for_url("**/orgs/*/manage")
    page.shots("finished with the keyboard")
