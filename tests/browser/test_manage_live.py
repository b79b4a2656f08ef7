"""In a real browser, Manage Integrations follows the database without a reload (issue 15
point 2): purchases arriving held, a new payment method, and the held purchases posting are
each shown within 5 seconds by every part of the page (tiles, the list and its groups, payment
methods), and no part contradicts another."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import insert
from sqlalchemy import update
from sqlmodel import col

from plugin.db import session_scope
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import PaymentMethod
from plugin.models import utcnow
from tests.browser.test_manage_flow import finish_set_up_in_code
from tests.browser.test_manage_flow import sign_up_and_connect_amazon

pytestmark = pytest.mark.browser

WITHIN_MS = 5_000


def tile(page, label: str) -> int:
    """The number on a status tile ("Posted", "Held", …)."""
    text = page.locator("#manage-status").inner_text()
    found = re.search(rf"(\d+)\s*\n\s*{label}\b", text)
    assert found, f"no {label!r} tile in {text!r}"
    return int(found.group(1))


def wait_for_tile(page, label: str, wanted: int) -> None:
    page.wait_for_function(
        """([label, wanted]) => {
             const text = document.querySelector('#manage-status').innerText;
             const found = text.match(new RegExp('(\\\\d+)\\\\s*\\\\n\\\\s*' + label + '\\\\b'));
             return found && Number(found[1]) === wanted;
           }""",
        arg=[label, wanted],
        timeout=WITHIN_MS,
    )


def test_every_part_follows_the_database_without_a_reload(live_app, page):
    app = live_app.app
    org_id = sign_up_and_connect_amazon(live_app, page)
    finish_set_up_in_code(live_app, org_id)
    page.goto(f"{live_app.url}/orgs/{org_id}/manage")
    page.evaluate("window.__notReloaded = true")
    held_before = tile(page, "Held")
    page.shots("manage before")

    # Two purchases arrive held (as an import records them), for a card nobody has mapped yet.
    now = utcnow()
    rows = [
        {
            "organisation_id": org_id,
            "amazon_transaction_id": f"LIVE-{number}",
            "transaction_type": "CHARGE",
            "transaction_date": now,
            "amount": 12 + number,
            "currency": "GBP",
            "payment_method_key": "Visa:7777",
            "order_id": f"202-000000{number}-1234567",
            "state": EntryState.HELD,
            "reason_code": "unmapped_payment_method",
            "reason": "Payment method Visa ending 7777 is not mapped.",
            "payload_hash": "",
            "created_at": now,
            "updated_at": now,
        }
        for number in range(2)
    ]
    with session_scope(app) as db:
        db.execute(insert(LedgerEntry), rows)
        db.add(PaymentMethod(organisation_id=org_id, key="Visa:7777", label="Visa ending 7777"))
        db.commit()
    wait_for_tile(page, "Held", held_before + 2)
    entries = page.locator("#manage-entries")
    entries.get_by_text("order 202-0000000-1234567").wait_for(timeout=WITHIN_MS)
    entries.get_by_text("Payment method Visa ending 7777 is not mapped.").first.wait_for()
    page.locator("#payment-methods-section").get_by_text("Visa ending 7777").first.wait_for(
        timeout=WITHIN_MS
    )
    page.shots("held purchases and the new card shown live")

    # They post (as a posting run would): the tiles and the list agree again.
    with session_scope(app) as db:
        db.execute(
            update(LedgerEntry)
            .where(col(LedgerEntry.amazon_transaction_id).like("LIVE-%"))
            .values(state=EntryState.POSTED, reason_code=None, reason=None)
        )
        db.commit()
    wait_for_tile(page, "Held", held_before)
    entries.get_by_text("order 202-0000000-1234567").wait_for(state="detached", timeout=WITHIN_MS)
    assert page.evaluate("window.__notReloaded") is True
    page.shots("posted shown live")
