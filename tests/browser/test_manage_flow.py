"""In a real browser: an organisation in sync; a new card appears at Amazon; "Sync now";
Manage Integrations flags the card; the member marks one purchase as posted by hand on its
page, then maps the card inline; the other purchases post to Xero, the marked one never does."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import requests
from sqlalchemy import update
from sqlmodel import col
from sqlmodel import select

from plugin.db import session_scope
from plugin.infra.queues import get_queue
from plugin.models import EntryState
from plugin.models import ImportRun
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.models import utcnow
from tests.common.pipeline import finish_setup
from tests.common.pipeline import import_days

pytestmark = pytest.mark.browser

NEW_CARD = {"type": "Visa", "last4": "9911"}


def wait_until(what: str, check: Callable[[], Any], timeout: float = 30) -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def entries_by_id(app, org_id: int) -> dict[str, LedgerEntry]:
    with session_scope(app) as db:
        rows = db.exec(select(LedgerEntry).where(LedgerEntry.organisation_id == org_id))
        return {row.amazon_transaction_id: row for row in rows}


def sign_up_and_connect_amazon(live_app, page) -> int:
    """Sign up with Xero and connect Amazon Business UK, in the browser."""
    page.goto(live_app.url + "/")
    page.get_by_role("link", name="Sign up with Xero").click()
    page.get_by_label("Email").fill("alice@example.com")
    page.get_by_label("Password").fill("sandbox")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Thames Stationery Ltd").check()
    page.get_by_role("button", name="Allow access").click()
    page.wait_for_url("**/orgs/*/amazon")
    org_id = int(re.search(r"/orgs/(\d+)/amazon", page.url).group(1))
    page.get_by_label("Store where the business buys").select_option("UK")
    page.get_by_role("button", name="Continue to Amazon").click()
    page.get_by_label("Email").fill("buyer-admin-uk@example.com")
    page.get_by_label("Password").fill("sandbox")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{live_app.url}/orgs/{org_id}/**")
    return org_id


def import_and_wait(app, org_id: int, days: int) -> Organisation:
    """Import ``days`` of history through the real worker and wait until it succeeded."""
    with session_scope(app) as db:
        org = db.get(Organisation, org_id)
    run = import_days(app, org, days=days)

    def imported() -> bool:
        with session_scope(app) as db:
            state = db.get(ImportRun, run.id).state
        assert state != "failed", "the history import failed"
        return state == "succeeded"

    wait_until("the history import", imported)
    return org


def finish_set_up_in_code(live_app, org_id: int) -> None:
    """Import 20 days, map everything known, post it (the real worker runs the jobs)."""
    app = live_app.app
    org = import_and_wait(app, org_id, days=20)
    finish_setup(app, org, include_new_card=True)
    get_queue("high", app).enqueue("jobs.posting.post_ready", org_id)

    def all_posted() -> bool:
        states = {e.state for e in entries_by_id(app, org_id).values()}
        return bool(states) and states <= {EntryState.POSTED, EntryState.HELD}

    wait_until("the history to post", all_posted)
    # An organisation in sync: synced an hour ago, its PDF invoices attached (attaching them,
    # one Amazon report a minute, would hold the organisation's work lock for many minutes).
    with session_scope(app) as db:
        db.execute(
            update(LedgerEntry)
            .where(col(LedgerEntry.organisation_id) == org_id)
            .values(attachment_state="attached")
        )
        org = db.get(Organisation, org_id)
        org.last_synced_at = utcnow() - timedelta(hours=1)
        db.add(org)
        db.commit()


def test_a_new_card_is_flagged_mapped_and_posted(live_app, page):
    app, sandbox = live_app.app, live_app.sandbox
    org_id = sign_up_and_connect_amazon(live_app, page)
    finish_set_up_in_code(live_app, org_id)
    manage = f"{live_app.url}/orgs/{org_id}/manage"

    page.goto(manage)
    assert page.get_by_role("heading", name="Thames Stationery Ltd").is_visible()
    page.shots("manage integrations in sync")
    assert "new payment method" not in page.locator("#manage-status").inner_text()

    added = requests.post(
        f"{sandbox.url}/_sandbox/amazon/transactions",
        json={"account": "thames", "store": "UK", "count": 3, "new_card": NEW_CARD},
        timeout=10,
    ).json()
    new_ids = set(added["transactionIds"])
    assert len(new_ids) == 3

    page.get_by_role("button", name="Sync now").click()
    page.get_by_text("Sync started").wait_for()
    page.shots("sync now")

    def flagged() -> bool:
        page.goto(manage)
        status = page.locator("#manage-status").inner_text()
        return "A new payment method: Visa ending 9911" in status

    wait_until("the new card to be flagged", flagged)

    def held() -> bool:
        entries = entries_by_id(app, org_id)
        return all(entries[i].state == EntryState.HELD for i in new_ids)

    wait_until("the new card's purchases to be held", held)
    page.goto(manage)
    assert "Visa ending 9911" in page.locator("#manage-entries").inner_text()
    page.shots("new card flagged")

    # One of them the bookkeeper already posted in Xero by hand: they say so on its page.
    by_hand = sorted(new_ids)[0]
    page.locator(f'#manage-entries a[href$="/entries/{by_hand}"]').click()
    page.get_by_role("button", name="I posted it in Xero by hand").click()
    page.get_by_text("Marked as posted by hand. This app will never post it.").wait_for()
    page.shots("marked posted by hand")
    page.goto(manage)

    section = page.locator("#payment-methods")  # the mapping page's section, loaded inline
    card = section.locator("fieldset", has_text="Visa ending 9911")
    card.get_by_label("Post as").select_option("spend_money")
    card.get_by_label("Paid from (bank or card account)").select_option(index=1)
    page.shots("new card mapped")
    section.get_by_role("button", name="Save payment methods").click()
    section.get_by_role("status").wait_for()
    page.shots("mapping saved")

    def posted() -> bool:
        entries = entries_by_id(app, org_id)
        return all(entries[i].state == EntryState.POSTED for i in new_ids - {by_hand})

    wait_until("the new card's purchases to post", posted)
    documents = requests.get(
        f"{sandbox.url}/_sandbox/xero/documents",
        params={"tenant": _tenant(app, org_id)},
        timeout=10,
    ).json()
    references = " ".join(d.get("Reference", "") for d in documents["BankTransactions"])
    assert all(references.count(i) == 1 for i in new_ids - {by_hand})
    assert references.count(by_hand) == 0
    assert entries_by_id(app, org_id)[by_hand].state == EntryState.BY_HAND

    page.goto(manage)
    assert "new payment method" not in page.locator("#manage-status").inner_text()
    page.shots("new card posted")
    page.set_viewport_size({"width": 640, "height": 900})
    page.shots("manage integrations at 640 px")


def _tenant(app, org_id: int) -> str:
    with session_scope(app) as db:
        return db.get(Organisation, org_id).xero_tenant_id
