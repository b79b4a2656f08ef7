"""Amazon changing its mind about a refund end to end against the live sandbox (issue 14 point 2
for credit notes): a Pay by Invoice refund is posted as a supplier credit note. When Amazon
re-feeds it with another amount, the credit note is updated in place (same document, its line
ids kept) while it is not allocated or refunded; cancelled, it is voided; allocated to its bill
or refunded, it is never touched (Xero refuses it too) and the purchase is held "changed after
it was reconciled" with both versions and what to do. Never a second document."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import select

from plugin.db import session_scope
from plugin.ledger.correction_model import Correction
from plugin.models import EntryState
from plugin.models import ImportTrigger
from tests.common.pipeline import assert_exactly_once
from tests.common.pipeline import finish_setup
from tests.common.pipeline import import_days
from tests.common.pipeline import ledger_entries
from tests.common.pipeline import sandbox_documents
from tests.work.test_corrections_e2e import amazon_change
from tests.work.test_corrections_e2e import post
from tests.work.test_corrections_e2e import reconcile


@pytest.fixture
def sandbox_config():
    """Enough transactions for three Pay by Invoice refunds; a generous minute limit."""
    return {"SANDBOX_AMAZON_TRANSACTIONS": 240, "SANDBOX_XERO_MINUTE_LIMIT": 1000}


@pytest.fixture
def app_config(app_config):
    app_config["XERO_MINUTE_LIMIT"] = 1000
    return app_config


def credit_notes(sandbox, org) -> dict[str, dict]:
    return {d["CreditNoteID"]: d for d in sandbox_documents(sandbox, org)["CreditNotes"]}


def test_a_changed_refund_updates_or_voids_its_credit_note_unless_used(pipeline, sandbox, run_jobs):
    app, client, org = pipeline
    import_days(app, org, days=90)
    run_jobs()
    finish_setup(app, org, include_new_card=True)
    post(app, org, run_jobs)
    notes = credit_notes(sandbox, org)
    refunds = sorted(
        (
            e
            for e in ledger_entries(app, org)
            if e.state == EntryState.POSTED
            and e.xero_document_type == "CreditNotes"
            and e.xero_document_id in notes
            and not notes[e.xero_document_id]["Allocations"]
            and not notes[e.xero_document_id]["Payments"]
            and abs(e.amount) > 3
        ),
        key=lambda e: e.amazon_transaction_id,
    )
    assert len(refunds) >= 3, f"need three unused credit notes, found {len(refunds)}"
    changed, cancelled, refunded = refunds[:3]
    before = notes[changed.xero_document_id]
    new_amount = (abs(changed.amount) - Decimal("1.00")).quantize(Decimal("0.01"))
    amazon_change(sandbox, changed.amazon_transaction_id, amount=str(new_amount))
    amazon_change(sandbox, cancelled.amazon_transaction_id, cancel=True)
    reconcile(sandbox, refunded.xero_document_id)  # the supplier's refund, matched in Xero
    locked_before = credit_notes(sandbox, org)[refunded.xero_document_id]
    amazon_change(sandbox, refunded.amazon_transaction_id, amount=str(abs(refunded.amount) - 1))

    import_days(app, org, days=90, trigger=ImportTrigger.MANUAL)
    run_jobs()
    post(app, org, run_jobs)

    notes = credit_notes(sandbox, org)
    after = notes[changed.xero_document_id]
    assert Decimal(str(after["Total"])) == new_amount
    assert after["Status"] == "AUTHORISED"
    assert after["LineItems"][0]["LineItemID"] == before["LineItems"][0]["LineItemID"]
    assert after["CreditNoteNumber"] == before["CreditNoteNumber"]
    assert notes[cancelled.xero_document_id]["Status"] == "VOIDED"
    untouched = notes[refunded.xero_document_id]
    assert untouched["Total"] == locked_before["Total"]
    assert untouched["LineItems"] == locked_before["LineItems"]

    entries = {e.amazon_transaction_id: e for e in ledger_entries(app, org)}
    assert abs(entries[changed.amazon_transaction_id].amount) == new_amount
    assert entries[changed.amazon_transaction_id].needs_review is False
    assert entries[cancelled.amazon_transaction_id].state == EntryState.CANCELLED
    held = entries[refunded.amazon_transaction_id]
    assert held.state == EntryState.POSTED
    assert held.reason_code == "changed_after_reconciled"
    assert "refunded" in held.reason
    assert "remove the credit note's allocation" in held.reason
    with session_scope(app) as db:
        states = sorted(str(c.state) for c in db.exec(select(Correction)))
    assert states == ["applied", "applied", "held"]
    assert_exactly_once(app, sandbox, org)

    page = client.get(f"/orgs/{org.id}/entries/{changed.amazon_transaction_id}")
    assert "Xero document updated in place" in page.get_data(as_text=True)
    wanted = "state=posted&reason=changed_after_reconciled"
    listed = client.get(f"/orgs/{org.id}/manage/entries?{wanted}").get_data(as_text=True)
    assert f"Amazon changed this refund from GBP {abs(refunded.amount):.2f}" in listed
