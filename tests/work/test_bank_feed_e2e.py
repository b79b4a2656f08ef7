"""The bank-feed guard end to end (issue 14 point 1): purchases already in Xero as documents
the app did not create (a bank rule made them from the card's statement lines) are held as
possible duplicates, one look-up for the card account in the run; "that is this purchase"
links one for good, "a different purchase" posts the other."""

from __future__ import annotations

import requests
from sqlmodel import select

from plugin import posting
from plugin.db import session_scope
from plugin.infra.queues import get_queue
from plugin.ledger import parsed
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.work.posting_run import evaluate_org
from plugin.work.posting_run import load_rules
from plugin.work.posting_run import posting_context
from plugin.xero.contact import refresh_contact_status
from plugin.xero.wiring import xero_client
from tests.common.pipeline import finish_setup
from tests.common.pipeline import import_days
from tests.common.pipeline import ledger_entries
from tests.common.pipeline import sandbox_documents


def entered_from_the_bank_feed(app, sandbox, org, transaction_id: str) -> dict:
    """What a bank rule on the card would have made of the purchase's statement line: the
    same lines and total, on the same account, with the bank's text as its reference."""
    with session_scope(app) as db:
        stored = db.get(Organisation, org.id)
        entry = db.exec(
            select(LedgerEntry).where(LedgerEntry.amazon_transaction_id == transaction_id)
        ).one()
        _client, mapping, chart = load_rules(app, db, stored)
        document = posting.translate(parsed(entry), mapping, chart, posting_context(app, stored))
    body = {k: v for k, v in document.body.items() if k not in ("Url", "Reference")}
    body["Reference"] = "AMAZON MKTPLACE PMTS AMZN.CO.UK"
    answer = requests.post(
        f"{sandbox.url}/_sandbox/xero/documents/by-hand",
        json={"tenant": org.xero_tenant_id, "endpoint": "BankTransactions", "document": body},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_purchases_from_the_bank_feed_are_held_then_resolved_both_ways(pipeline, sandbox, run_jobs):
    app, client, org = pipeline
    import_days(app, org, days=30)
    run_jobs()
    finish_setup(app, org, include_new_card=True)
    with session_scope(app) as db:  # what the posting run does first: contact, then rules
        stored = db.get(Organisation, org.id)
        refresh_contact_status(db, stored, xero_client(stored, app))
        evaluate_org(app, db, stored)
    cards = [
        e
        for e in ledger_entries(app, org)
        if e.state == EntryState.READY
        and e.transaction_type == "CHARGE"
        and not str(e.payment_method_key).startswith("Pay by Invoice")
    ]
    same, different = cards[0].amazon_transaction_id, cards[1].amazon_transaction_id
    fed = {t: entered_from_the_bank_feed(app, sandbox, org, t) for t in (same, different)}
    before = requests.get(f"{sandbox.url}/_sandbox/xero/stats", timeout=5).json()
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    run_jobs()
    after = requests.get(f"{sandbox.url}/_sandbox/xero/stats", timeout=5).json()
    looked = after["api_calls_by_endpoint"].get("GET BankTransactions", 0) - before[
        "api_calls_by_endpoint"
    ].get("GET BankTransactions", 0)
    documents = sandbox_documents(sandbox, org)["BankTransactions"]
    accounts = {d["BankAccount"]["Code"] for d in documents}
    assert len(documents) > 10
    assert looked == len(accounts) == 2  # one query per card account, whatever the purchases
    states = {e.amazon_transaction_id: e for e in ledger_entries(app, org)}
    for transaction_id in (same, different):
        held = states[transaction_id]
        assert (held.state, held.reason_code) == (EntryState.HELD, "possible_duplicate")
        assert held.duplicate_of == fed[transaction_id]["BankTransactionID"]
    assert sum(1 for e in states.values() if e.state == EntryState.POSTED) > 5

    page = client.get(f"/orgs/{org.id}/entries/{same}").get_data(as_text=True)
    assert "Is it already in Xero?" in page
    assert "That is this purchase" in page
    assert "It is a different purchase: post it" in page
    assert client.post(f"/orgs/{org.id}/entries/{same}/duplicate/confirm").status_code == 302
    assert client.post(f"/orgs/{org.id}/entries/{different}/duplicate/clear").status_code == 302
    run_jobs()
    states = {e.amazon_transaction_id: e for e in ledger_entries(app, org)}
    linked = states[same]
    assert (linked.state, linked.reason_code) == (EntryState.BY_HAND, "already_in_xero")
    assert linked.xero_document_id == fed[same]["BankTransactionID"]
    assert states[different].state == EntryState.POSTED
    assert states[different].duplicate_cleared is True
    references = [d["Reference"] for d in sandbox_documents(sandbox, org)["BankTransactions"]]
    ours = [r for r in references if r.split()[-1] in (same, different)]
    assert [r.split()[-1] for r in ours] == [different]  # the confirmed one never posted
    page = client.get(f"/orgs/{org.id}/entries/{same}").get_data(as_text=True)
    assert "Already in Xero: confirmed by" in page
