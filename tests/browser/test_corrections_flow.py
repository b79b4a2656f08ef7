"""In a real browser (issue 14 points 2 and 4): Amazon settles a posted charge for another amount
and the next sync corrects the document in Xero, which the purchase's page shows with both
versions (and one the bookkeeper had reconciled is left, saying what to do, in the entries list
too); then the member rolls the history import back from Manage Integrations and watches the
documents come out of Xero; rolls a posting run back, holding its purchases until retried; and
corrects the posted documents after a mapping change, from the preview."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
from sqlmodel import select

from plugin.db import session_scope
from plugin.infra.locks import AlreadyRunning
from plugin.infra.queues import get_queue
from plugin.ledger.correction_model import Correction
from plugin.ledger.posting_run_model import PostingRun
from plugin.mapping import files as mapping_file
from plugin.mapping.store import save_mapping
from plugin.models import EntryState
from plugin.models import ImportRun
from plugin.models import ImportTrigger
from plugin.models import LedgerEntry
from plugin.models import Organisation
from tests.browser.test_manage_flow import entries_by_id
from tests.browser.test_manage_flow import sign_up_and_connect_amazon
from tests.browser.test_manage_flow import wait_until
from tests.common.pipeline import finish_setup
from tests.common.pipeline import import_days
from tests.common.pipeline import sandbox_documents
from tests.common.pipeline import thames_mapping

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

    # The entries list says what changed and what to do, in the entry page's words.
    page.goto(f"{live_app.url}/orgs/{org_id}/manage")
    page.locator("#filter-state").select_option("posted")
    said = f"Amazon changed this purchase from GBP {reconciled.amount:.2f} to GBP "
    row = page.locator(f"#manage-entries tr:has-text('{said}')")
    row.wait_for()
    assert row.get_by_text("un-reconcile the document (Remove & Redo)").is_visible()
    assert page.get_by_text("check it in Xero.").count() == 0
    row.scroll_into_view_if_needed()
    page.shots("the entries list says what changed and what to do")


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


def test_a_posting_run_is_rolled_back_and_its_purchases_held(live_app, page):
    org_id = sign_up_and_connect_amazon(live_app, page)
    imported_and_posted(live_app, org_id)
    with session_scope(live_app.app) as db:
        finish_setup(live_app.app, db.get(Organisation, org_id), include_new_card=True)
    post_everything(live_app, org_id)
    with session_scope(live_app.app) as db:
        run = db.exec(select(PostingRun)).one()
    reconciled = card_charges(live_app, org_id)[0]
    control(live_app, f"xero/documents/{reconciled.xero_document_id}/reconcile", {})

    page.goto(f"{live_app.url}/orgs/{org_id}/manage")
    postings = page.locator("#manage-history .postings-table")
    assert postings.get_by_text(f"{run.posted}", exact=True).first.is_visible()
    postings.get_by_role("link", name="Roll back…").click()
    page.wait_for_url(f"**/manage/postings/{run.id}/rollback")
    page.get_by_label("are held until I retry them").check()
    button = page.get_by_role("button", name="Roll back this posting run")
    assert button.is_visible()
    page.shots("the posting run rollback preview")
    button.click()
    page.get_by_text("Rollback started").wait_for()
    page.get_by_text("Left in Xero").first.wait_for(timeout=60_000)  # the fragment polls

    def rolled_back() -> bool:
        with session_scope(live_app.app) as db:
            found = list(db.exec(select(Correction)))
        return bool(found) and all(str(c.state) in ("applied", "held") for c in found)

    wait_until("the rollback", rolled_back, timeout=60)
    page.reload()
    assert page.get_by_text("Removed from Xero; held until you retry it").first.is_visible()
    assert page.get_by_text("reconciled with a bank statement line").first.is_visible()
    assert page.get_by_role("button", name="Roll back this posting run").count() == 0
    page.shots("the posting run rolled back")
    entries = entries_by_id(live_app.app, org_id)
    assert entries[reconciled.amazon_transaction_id].state == EntryState.POSTED
    held = [e for e in entries.values() if e.reason_code == "held_after_rollback"]
    assert len(held) >= run.posted // 2  # all but the reconciled (and any paid or allocated)
    assert all(e.state == EntryState.HELD and e.xero_document_id is None for e in held)

    page.goto(f"{live_app.url}/orgs/{org_id}/manage")
    assert page.get_by_text("Held so that it does not post again").first.is_visible()
    page.locator("#manage-entries").scroll_into_view_if_needed()
    page.shots("the held purchases wait for a retry")


def test_a_mapping_change_is_corrected_in_posted_documents(live_app, page):
    org_id = sign_up_and_connect_amazon(live_app, page)
    imported_and_posted(live_app, org_id)
    with session_scope(live_app.app) as db:
        finish_setup(live_app.app, db.get(Organisation, org_id), include_new_card=True)
    post_everything(live_app, org_id)
    changed = thames_mapping(include_new_card=True)
    changed["expense_default_account_code"] = "461"  # the bookkeeper picked the wrong account
    with session_scope(live_app.app) as db:
        save_mapping(db, org_id, mapping_file.load_mapping(changed, "test"), actor="test")
    reconciled = card_charges(live_app, org_id)[0]
    control(live_app, f"xero/documents/{reconciled.xero_document_id}/reconcile", {})

    page.goto(f"{live_app.url}/orgs/{org_id}/manage")
    page.get_by_role("link", name="See which posted documents it would change").click()
    page.wait_for_url("**/manage/remap")
    assert page.get_by_text("account 429 → 461").first.is_visible()
    button = page.get_by_role("button", name="Correct these")
    listed = int(button.inner_text().split()[2])
    assert listed >= 3
    page.shots("the documents a mapping change would correct")
    button.click()
    page.get_by_text(f"Correcting {listed} documents").wait_for()

    def corrected() -> bool:
        with session_scope(live_app.app) as db:
            found = [str(c.state) for c in db.exec(select(Correction))]
        return len(found) == listed and all(s in ("applied", "held") for s in found)

    wait_until("the corrections", corrected, timeout=90)
    with session_scope(live_app.app) as db:
        states = sorted(str(c.state) for c in db.exec(select(Correction)))
        applied = next(c for c in db.exec(select(Correction)) if str(c.state) == "applied")
        entry = db.get(LedgerEntry, applied.ledger_entry_id)
        org = db.get(Organisation, org_id)
    assert states.count("applied") >= listed - 1
    found = sandbox_documents(live_app.sandbox, org)
    document = next(
        d
        for d in found["BankTransactions"] + found["Invoices"]
        if entry.xero_document_id in (d.get("BankTransactionID"), d.get("InvoiceID"))
    )
    assert "461" in [line["AccountCode"] for line in document["LineItems"]]

    page.goto(f"{live_app.url}/orgs/{org_id}/entries/{entry.amazon_transaction_id}")
    section = page.locator("#corrections")
    assert section.get_by_role("heading", name="Corrected to the new mapping").is_visible()
    assert section.get_by_text("account 429 → 461").first.is_visible()
    assert section.get_by_text("Made in Xero").is_visible()
    page.shots("a posted document corrected to the new mapping")
