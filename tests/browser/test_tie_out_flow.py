"""In a real browser (issue 16 point 5): after an import and a posting run (a new card's
purchases held), the bookkeeper opens the tie-out report from Manage Integrations: every month
ties out, the chart is drawn, a held figure opens exactly those purchases, and the CSV downloads.
Then Amazon changes a purchase the bookkeeper had reconciled: the report shows the month off by
that amount and names the purchase."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlmodel import select

from plugin.db import session_scope
from plugin.ledger.correction_model import Correction
from plugin.models import ImportTrigger
from plugin.models import Organisation
from tests.browser.test_corrections_flow import card_charges
from tests.browser.test_corrections_flow import control
from tests.browser.test_corrections_flow import imported_and_posted
from tests.browser.test_corrections_flow import post_everything
from tests.browser.test_manage_flow import sign_up_and_connect_amazon
from tests.browser.test_manage_flow import wait_until
from tests.common.pipeline import NEW_CARD
from tests.common.pipeline import finish_setup

pytestmark = pytest.mark.browser


def test_the_tie_out_report(live_app, page):
    org_id = sign_up_and_connect_amazon(live_app, page)
    imported_and_posted(live_app, org_id)
    with session_scope(live_app.app) as db:
        finish_setup(live_app.app, db.get(Organisation, org_id))  # the new card: held
    post_everything(live_app, org_id)

    page.goto(f"{live_app.url}/orgs/{org_id}/manage")
    page.get_by_role("link", name="Open the tie-out report").click()
    page.wait_for_url(f"**/orgs/{org_id}/manage/tie-out")
    assert page.get_by_role("heading", name="Tie-out report").is_visible()
    assert page.get_by_text("Every month ties out to the cent.").is_visible()
    assert page.locator("svg rect").count() > 0
    page.shots("the tie-out report")

    held = page.locator("tr.tie-line", has_text="Mastercard ending 6006").first
    reason = held.locator(".tie-parts li", has_text="The card or instrument is not mapped")
    reason.get_by_role("link").first.click()
    page.wait_for_url("**/manage/entries?**")
    assert "reason=unmapped_payment_method" in page.url
    assert page.get_by_text("From the tie-out report").is_visible()
    rows = page.locator("table.entries-table tbody tr")
    assert rows.count() > 0
    for text in rows.all_inner_texts():
        assert NEW_CARD.replace(":", " ") in text
    shot = page.shots("a held figure opens its purchases")
    page.locator("#entries").screenshot(path=str(shot.with_name(shot.stem + "-list.png")))

    page.goto(f"{live_app.url}/orgs/{org_id}/manage/tie-out")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    lines = list(csv.DictReader(io.StringIO(text)))
    assert lines
    assert {line["ties_out"] for line in lines} == {"yes"}

    # Amazon changes a purchase the bookkeeper already reconciled in Xero.
    reconciled = card_charges(live_app, org_id)[0]
    control(live_app, f"xero/documents/{reconciled.xero_document_id}/reconcile", {})
    control(
        live_app,
        f"amazon/transactions/{reconciled.amazon_transaction_id}/change",
        {"account": "thames", "store": "UK", "amount": str(reconciled.amount + 1)},
    )
    imported_and_posted(live_app, org_id, trigger=ImportTrigger.SCHEDULED)

    def held_correction() -> bool:
        with session_scope(live_app.app) as db:
            return [str(c.state) for c in db.exec(select(Correction))] == ["held"]

    wait_until("the correction to be held", held_correction, timeout=60)
    page.reload()
    assert page.get_by_text("1 month does not tie out").is_visible()
    differences = page.locator("#differences")
    assert differences.get_by_role("link", name=reconciled.amazon_transaction_id).is_visible()
    assert differences.get_by_text("1.00").first.is_visible()
    page.shots("a month off by what Amazon changed")
    differences.get_by_role("link", name=reconciled.amazon_transaction_id).click()
    page.wait_for_url(f"**/entries/{reconciled.amazon_transaction_id}")
