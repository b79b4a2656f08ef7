"""Amazon changing its mind end to end against the live sandbox (issue 14 points 2 and 6): after
posting, Amazon re-feeds one charge with its settled amount, another that the bookkeeper has
already reconciled, and cancels a third. The next import and posting run update the first in
place (same document, its line ids kept), leave the reconciled one untouched with what to do,
and delete the cancelled one; nothing is duplicated and the entry pages show the history."""

from __future__ import annotations

from decimal import Decimal

import requests
from sqlmodel import select

from plugin.db import session_scope
from plugin.infra.queues import get_queue
from plugin.ledger.correction_model import Correction
from plugin.ledger.correction_model import CorrectionState
from plugin.models import EntryState
from plugin.models import ImportTrigger
from tests.common.pipeline import assert_exactly_once
from tests.common.pipeline import finish_setup
from tests.common.pipeline import import_days
from tests.common.pipeline import ledger_entries
from tests.common.pipeline import sandbox_documents


def amazon_change(sandbox, transaction_id: str, **body) -> dict:
    answer = requests.post(
        f"{sandbox.url}/_sandbox/amazon/transactions/{transaction_id}/change",
        json={"account": "thames", "store": "UK", **body},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["transaction"]


def reconcile(sandbox, document_id: str) -> None:
    answer = requests.post(
        f"{sandbox.url}/_sandbox/xero/documents/{document_id}/reconcile", json={}, timeout=10
    )
    assert answer.status_code == 200, answer.text


def bank_document(sandbox, org, document_id: str) -> dict:
    documents = sandbox_documents(sandbox, org)["BankTransactions"]
    return next(d for d in documents if d["BankTransactionID"] == document_id)


def post(app, org, run_jobs) -> None:
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    run_jobs()


def test_amazon_changes_are_applied_or_held_and_never_duplicated(pipeline, sandbox, run_jobs):
    app, client, org = pipeline
    import_days(app, org, days=30)
    run_jobs()
    finish_setup(app, org, include_new_card=True)
    post(app, org, run_jobs)
    cards = [
        e
        for e in ledger_entries(app, org)
        if e.state == EntryState.POSTED
        and e.xero_document_type == "BankTransactions"
        and e.transaction_type == "CHARGE"
        and e.amount > 5
    ]
    changed, reconciled, cancelled = cards[0], cards[1], cards[2]
    before = bank_document(sandbox, org, changed.xero_document_id)
    locked_before = bank_document(sandbox, org, reconciled.xero_document_id)
    new_amount = (changed.amount - Decimal("1.50")).quantize(Decimal("0.01"))
    amazon_change(sandbox, changed.amazon_transaction_id, amount=str(new_amount))
    reconcile(sandbox, reconciled.xero_document_id)
    amazon_change(sandbox, reconciled.amazon_transaction_id, amount=str(reconciled.amount + 2))
    amazon_change(sandbox, cancelled.amazon_transaction_id, cancel=True)

    import_days(app, org, days=30, trigger=ImportTrigger.MANUAL)
    run_jobs()
    post(app, org, run_jobs)

    after = bank_document(sandbox, org, changed.xero_document_id)
    assert Decimal(str(after["Total"])) == new_amount
    assert after["LineItems"][0]["LineItemID"] == before["LineItems"][0]["LineItemID"]
    assert after["Reference"] == before["Reference"]
    assert bank_document(sandbox, org, reconciled.xero_document_id) == locked_before | {
        "IsReconciled": True,
        "UpdatedDateUTC": bank_document(sandbox, org, reconciled.xero_document_id)[
            "UpdatedDateUTC"
        ],
    }
    assert bank_document(sandbox, org, cancelled.xero_document_id)["Status"] == "DELETED"

    entries = {e.amazon_transaction_id: e for e in ledger_entries(app, org)}
    assert entries[changed.amazon_transaction_id].amount == new_amount
    assert entries[changed.amazon_transaction_id].needs_review is False
    held = entries[reconciled.amazon_transaction_id]
    assert (held.reason_code, held.amount) == ("changed_after_reconciled", reconciled.amount)
    assert entries[cancelled.amazon_transaction_id].reason_code == "amazon_cancelled"
    with session_scope(app) as db:
        states = sorted(str(c.state) for c in db.exec(select(Correction)))
    assert states == sorted(
        [CorrectionState.APPLIED, CorrectionState.APPLIED, CorrectionState.HELD]
    )
    assert_exactly_once(app, sandbox, org)

    page = client.get(f"/orgs/{org.id}/entries/{changed.amazon_transaction_id}").get_data(
        as_text=True
    )
    assert "Changes after posting" in page
    assert "Made in Xero" in page
    assert f"GBP {new_amount}" in page
    page = client.get(f"/orgs/{org.id}/entries/{reconciled.amazon_transaction_id}").get_data(
        as_text=True
    )
    assert "Left as it is" in page
    assert "reconciled with a bank statement line" in page

    # A second import and run change nothing more: every version is already known.
    import_days(app, org, days=30, trigger=ImportTrigger.MANUAL)
    run_jobs()
    post(app, org, run_jobs)
    with session_scope(app) as db:
        assert len(list(db.exec(select(Correction)))) == 3
    assert (
        bank_document(sandbox, org, changed.xero_document_id)["UpdatedDateUTC"]
        == after["UpdatedDateUTC"]
    )
