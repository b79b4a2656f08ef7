"""In a real browser, in two locales (issue 15 point 8: "date pickers follow the browser locale
while hints use ISO"): the date pickers of the wizard's import step and of Manage's import show
dates the browser's way (10/08/2026 in en-US, 08/10/2026 in en-GB), and beside each the page says
the chosen date its own way, "8 Oct 2026", whatever the locale; no hint or message on those pages
spells a date format or an ISO date. The same date typed in the picker's order is the same date."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from plugin.db import session_scope
from plugin.models import Organisation
from plugin.models import utcnow
from tests.browser.conftest import CHROMIUM_ARGS
from tests.browser.conftest import Shots
from tests.browser.test_wizard_flow import connect_amazon_uk
from tests.browser.test_wizard_flow import sign_up_with_xero
from tests.common.pipeline import finish_setup

pytestmark = pytest.mark.browser

FORMAT_WORDS = re.compile(r"YYYY|MM/DD|DD/MM|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{4}\b")
TYPED = {"en-US": "10082026", "en-GB": "08102026"}  # 8 October 2026, in each locale's order


@pytest.fixture
def browser(chromium) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def tab(browser, request, locale: str, state: Any = None) -> Any:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale=locale, storage_state=state
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.shots = Shots(page, f"{request.node.name}-{locale}")
    return page


def pick(page, input_id: str) -> str:
    """Type 8 October 2026 into the picker in the order it shows its parts (month first in
    en-US; day first where the browser has the en-GB locale: Debian's Chromium without
    chromium-l10n has only en-US, whatever the page's locale); what the page says beside it."""
    picker = page.locator(f"#{input_id}")
    for typed in TYPED.values():
        picker.click(position={"x": 8, "y": 8})  # the picker's first part
        page.keyboard.type(typed)
        if picker.input_value() == "2026-10-08":
            break
    assert picker.input_value() == "2026-10-08"
    said = page.locator(f'output[data-said-for="{input_id}"]')
    said.filter(has_text="8 Oct 2026").wait_for()
    return said.inner_text()


def assert_no_format_spelled(page, selector: str) -> None:
    text = page.locator(selector).inner_text()
    assert not FORMAT_WORDS.search(text), f"{selector} spells a date format: {text!r}"


def test_pickers_and_hints_agree_in_two_locales(live_app, browser, request):
    us = tab(browser, request, "en-US")
    sign_up_with_xero(us, live_app.url)
    connect_amazon_uk(us)
    org_id = int(re.search(r"/orgs/(\d+)/", us.url).group(1))
    today = utcnow().date()
    assert us.evaluate("navigator.language") == "en-US"
    said = us.locator('output[data-said-for="end"]').inner_text()
    assert said == f"{today.day} {today:%b %Y}"  # said by the server before any typing
    assert_no_format_spelled(us, "#import-history")
    assert pick(us, "start") == "8 Oct 2026"
    us.shots("wizard pickers en-US")
    # A date the browser cannot take is refused in words, not in a format.
    us.evaluate("document.getElementById('start').type = 'text'")
    us.locator("#start").fill("31/02/2026")
    us.get_by_role("button", name="Start import").click()
    us.locator("#range-error").wait_for()
    assert "is not a date: choose it in the calendar" in us.locator("#range-error").inner_text()
    assert "YYYY" not in us.locator("#import-history").inner_text()
    us.shots("wizard refused date en-US")

    gb = tab(browser, request, "en-GB", state=us.context.storage_state())
    gb.goto(f"{live_app.url}/orgs/{org_id}/setup/history")
    assert gb.evaluate("navigator.language") == "en-GB"
    assert pick(gb, "start") == "8 Oct 2026"
    assert_no_format_spelled(gb, "#import-history")
    gb.shots("wizard pickers en-GB")

    with session_scope(live_app.app) as db:
        org = db.get(Organisation, org_id)
    finish_setup(live_app.app, org)
    for page, locale in ((us, "en-US"), (gb, "en-GB")):
        page.goto(f"{live_app.url}/orgs/{org_id}/manage")
        assert page.locator('output[data-said-for="import-end"]').inner_text() == (
            f"{today.day} {today:%b %Y}"
        )
        assert pick(page, "import-start") == "8 Oct 2026"
        assert_no_format_spelled(page, "#manage-import")
        page.locator("#manage-import").scroll_into_view_if_needed()
        page.shots(f"manage pickers {locale}")
    us.context.close()
    gb.context.close()
