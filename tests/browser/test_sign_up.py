"""In a real browser: the landing page, and signing up with Xero through the sandbox's pages."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_sign_up_with_xero_lands_on_connect_amazon(live_app, page):
    page.goto(live_app.url + "/")
    assert page.get_by_role("link", name="Sign up with Xero").is_visible()
    page.shots("landing")
    page.get_by_role("link", name="Sign up with Xero").click()
    page.get_by_label("Email").fill("alice@example.com")
    page.get_by_label("Password").fill("sandbox")
    page.shots("xero sign in")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Thames Stationery Ltd").check()
    page.shots("xero consent")
    page.get_by_role("button", name="Allow access").click()
    page.wait_for_url("**/orgs/*/amazon")
    page.shots("connect amazon business")
    assert "Amazon Business" in page.content()
