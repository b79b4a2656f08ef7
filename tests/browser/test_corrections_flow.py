"""In a real browser (issue 14 points 2 and 4): Amazon settles a posted charge for another amount
and the next sync corrects the document in Xero, which the purchase's page shows with both
versions (and one the bookkeeper had reconciled is left, saying what to do); then the member rolls
the history import back from Manage Integrations and watches the documents come out of Xero."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
from sqlmodel import select

from plugin.db import session_scope
from plugin.infra.locks import AlreadyRunning
from plugin.infra.queues import get_queue
from plugin.ledger.correction_model import Correction
from plugin.models import EntryState
from plugin.models import ImportRun
from plugin.models import ImportTrigger
from plugin.models import Organisation
from tests.browser.test_manage_flow import entries_by_id
from tests.browser.test_manage_flow import sign_up_and_connect_amazon
from tests.browser.test_manage_flow import wait_until
from tests.common.pipeline import finish_setup
from tests.common.pipeline import import_days

pytestmark = pytest.mark.browser


def imported_and_posted(live_app, org_id: int, trigger=ImportTrigger.HISTORICAL) -> ImportRun:
    app = live_app.app
    with session_scope(app) as db:
        org = db.get(Organisation, org_id)

    def started() -> ImportRun | None:  # the posting run may still hold the organisation
        try:
            return import_days(app, org, days=20, trigger=trigger)
        except AlreadyRunning:
            return None

    run = wait_until("the organisation to be free for an import", started)

    def imported() -> bool:
        with session_scope(app) as db:
            return db.get(ImportRun, run.id).state == "succeeded"

    wait_until("the import", imported, timeout=60)
    return run


def post_everything(live_app, org_id: int) -> None:
    get_queue("high", live_app.app).enqueue("jobs.posting.post_ready", org_id)

    def posted() -> bool:
        entries = entries_by_id(live_app.app, org_id).values()
        return entries and all(e.state in (EntryState.POSTED, EntryState.HELD) for e in entries)

    wait_until("posting", posted, timeout=60)


def card_charges(live_app, org_id: int) -> list:
    return sorted(
        (
            e
            for e in entries_by_id(live_app.app, org_id).values()
            if e.state == EntryState.POSTED
            and e.xero_document_type == "BankTransactions"
            and e.transaction_type == "CHARGE"
            and e.amount > 5
        ),
        key=lambda e: e.amazon_transaction_id,
    )


def control(live_app, path: str, body: dict) -> dict:
    answer = requests.post(f"{live_app.sandbox.url}/_sandbox/{path}", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_an_amazon_amount_change_is_applied_and_shown(live_app, page):
    org_id = sign_up_and_connect_amazon(live_app, page)
    imported_and_posted(live_app, org_id)
    with session_scope(live_app.app) as db:
        finish_setup(live_app.app, db.get(Organisation, org_id), include_new_card=True)
    post_everything(live_app, org_id)
    changed, reconciled = card_charges(live_app, org_id)[:2]
    new_amount = (changed.amount - Decimal("2.40")).quantize(Decimal("0.01"))
    refeed = {"account": "thames", "store": "UK"}
    control(live_app, f"amazon/transactions/{changed.amazon_transaction_id}/change",
            {**refeed, "amount": str(new_amount)})  # fmt: skip
    control(live_app, f"xero/documents/{reconciled.xero_document_id}/reconcile", {})
    control(live_app, f"amazon/transactions/{reconciled.amazon_transaction_id}/change",
            {**refeed, "amount": str(reconciled.amount + 1)})  # fmt: skip
    imported_and_posted(live_app, org_id, trigger=ImportTrigger.SCHEDULED)  # posts by itself

    def corrected() -> bool:
        with session_scope(live_app.app) as db:
            states = [str(c.state) for c in db.exec(select(Correction))]
        return sorted(states) == ["applied", "held"]

    wait_until("the two corrections", corrected, timeout=60)

    page.goto(f"{live_app.url}/orgs/{org_id}/entries/{changed.amazon_transaction_id}")
    section = page.locator("#corrections")
    assert section.get_by_role("heading", name="Changes after posting").is_visible()
    assert section.get_by_text("Made in Xero").is_visible()
    assert section.get_by_text("Xero document updated in place").is_visible()
    assert section.get_by_role(
        "heading", name=f"GBP {changed.amount:.2f} → GBP {new_amount}"
    ).is_visible()
    assert page.get_by_text(f"GBP {new_amount}").first.is_visible()
    page.shots("an amount change made in Xero")

    page.goto(f"{live_app.url}/orgs/{org_id}/entries/{reconciled.amazon_transaction_id}")
    assert page.locator("#corrections").get_by_text("Left as it is").is_visible()
    assert page.get_by_text("un-reconcile the document (Remove & Redo)").first.is_visible()
    page.shots("a change after the document was reconciled")


def test_a_run_is_rolled_back_from_the_import_history(live_app, page):
    org_id = sign_up_and_connect_amazon(live_app, page)
    run = imported_and_posted(live_app, org_id)
    with session_scope(live_app.app) as db:
        finish_setup(live_app.app, db.get(Organisation, org_id), include_new_card=True)
    post_everything(live_app, org_id)
    reconciled = card_charges(live_app, org_id)[0]
    control(live_app, f"xero/documents/{reconciled.xero_document_id}/reconcile", {})

    page.goto(f"{live_app.url}/orgs/{org_id}/manage")
    page.locator("#manage-history").get_by_role("link", name="Roll back…").first.click()
    page.wait_for_url(f"**/manage/imports/{run.id}/rollback")
    button = page.get_by_role("button", name="Roll back this import")
    assert button.is_visible()
    page.shots("the rollback preview")
    button.click()
    page.get_by_text("Rollback started").wait_for()
    page.get_by_text("Left in Xero").first.wait_for(timeout=60_000)  # the fragment polls

    def rolled_back() -> bool:
        with session_scope(live_app.app) as db:
            return all(str(c.state) in ("applied", "held") for c in db.exec(select(Correction)))

    wait_until("the rollback", rolled_back, timeout=60)
    page.reload()
    assert page.get_by_text("Removed from Xero; waits to be posted again").first.is_visible()
    assert page.get_by_text("reconciled with a bank statement line").first.is_visible()
    assert page.get_by_role("button", name="Roll back this import").count() == 0
    page.shots("the import rolled back")
    entries = entries_by_id(live_app.app, org_id)
    assert entries[reconciled.amazon_transaction_id].state == EntryState.POSTED
    assert sum(1 for e in entries.values() if e.state == EntryState.FETCHED) > 5
