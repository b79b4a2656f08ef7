"""In a real browser (issue 14 point 1): two purchases a bank rule had already entered in Xero
from the card's statement are held as possible duplicates; on each purchase's page the member
says "That is this purchase" for one (linked, never posted) and "It is a different purchase:
post it" for the other (posted once)."""

from __future__ import annotations

import pytest

from plugin.db import session_scope
from plugin.infra.queues import get_queue
from plugin.models import EntryState
from plugin.models import ImportRun
from plugin.models import Organisation
from plugin.work.posting_run import evaluate_org
from plugin.xero.contact import refresh_contact_status
from plugin.xero.wiring import xero_client
from tests.browser.test_manage_flow import entries_by_id
from tests.browser.test_manage_flow import sign_up_and_connect_amazon
from tests.browser.test_manage_flow import wait_until
from tests.common.pipeline import finish_setup
from tests.common.pipeline import import_days
from tests.work.test_bank_feed_e2e import entered_from_the_bank_feed

pytestmark = pytest.mark.browser


def test_possible_duplicates_are_resolved_both_ways_on_their_pages(live_app, page):
    app, sandbox = live_app.app, live_app.sandbox
    org_id = sign_up_and_connect_amazon(live_app, page)
    with session_scope(app) as db:
        org = db.get(Organisation, org_id)
    run = import_days(app, org, days=20)

    def imported() -> bool:
        with session_scope(app) as db:
            return db.get(ImportRun, run.id).state == "succeeded"

    wait_until("the import", imported)
    finish_setup(app, org, include_new_card=True)
    with session_scope(app) as db:
        stored = db.get(Organisation, org_id)
        refresh_contact_status(db, stored, xero_client(stored, app))
        evaluate_org(app, db, stored)
    ready = sorted(
        e.amazon_transaction_id
        for e in entries_by_id(app, org_id).values()
        if e.state == EntryState.READY
        and e.transaction_type == "CHARGE"
        and not str(e.payment_method_key).startswith("Pay by Invoice")
    )
    same, different = ready[0], ready[1]
    for transaction_id in (same, different):
        entered_from_the_bank_feed(app, sandbox, org, transaction_id)
    get_queue("high", app).enqueue("jobs.posting.post_ready", org_id)

    def both_held() -> bool:
        entries = entries_by_id(app, org_id)
        return all(entries[t].reason_code == "possible_duplicate" for t in (same, different))

    wait_until("the two purchases to be held as possible duplicates", both_held)

    page.goto(f"{live_app.url}/orgs/{org_id}/entries/{same}")
    assert page.get_by_role("heading", name="Is it already in Xero?").is_visible()
    assert page.get_by_text("Possibly already in Xero: a spend money transaction of").is_visible()
    page.shots("a possible duplicate")
    page.get_by_role("button", name="That is this purchase").click()
    page.get_by_text("Linked to the document already in Xero.").wait_for()
    page.shots("confirmed as the same purchase")

    page.goto(f"{live_app.url}/orgs/{org_id}/entries/{different}")
    page.get_by_role("button", name="It is a different purchase: post it").click()
    page.get_by_text("Understood: a different purchase.").wait_for()
    page.shots("a different purchase")

    def posted() -> bool:
        return entries_by_id(app, org_id)[different].state == EntryState.POSTED

    wait_until("the different purchase to post", posted)
    linked = entries_by_id(app, org_id)[same]
    assert (linked.state, linked.reason_code) == (EntryState.BY_HAND, "already_in_xero")
    page.goto(f"{live_app.url}/orgs/{org_id}/entries/{different}")
    page.shots("the different purchase posted")
