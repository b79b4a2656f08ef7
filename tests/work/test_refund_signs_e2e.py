"""Refund signs end to end (spec §9 item 4): the sandbox sends every other refund with positive
amounts, as production feeds do; both spellings are recorded with one sign and posted as the
same kind of document for the amount's size."""

from __future__ import annotations

from decimal import Decimal

from plugin.infra.queues import get_queue
from plugin.models import EntryState
from tests.common.pipeline import finish_setup
from tests.common.pipeline import import_days
from tests.common.pipeline import ledger_entries
from tests.common.pipeline import sandbox_documents

REFUNDS = ("REFUND", "OVERREFUND")


def test_positive_and_negative_refunds_post_alike(pipeline, sandbox, run_jobs):
    app, _client, org = pipeline
    import_days(app, org)
    run_jobs()
    finish_setup(app, org, include_new_card=True, foreign_currency="bill_paid_from_account")
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    run_jobs()
    refunds = [e for e in ledger_entries(app, org) if e.transaction_type in REFUNDS]
    sent = {e.id: Decimal(e.raw_payload["amount"]["amount"]) for e in refunds}
    positive = [e for e in refunds if sent[e.id] > 0]
    negative = [e for e in refunds if sent[e.id] < 0]
    assert positive, "the sandbox sends every other refund with positive amounts"
    assert negative, "and the others negative, as Amazon's model says"

    documents = sandbox_documents(sandbox, org)
    totals = {
        document[id_field]: Decimal(str(document["Total"]))
        for endpoint, id_field in (
            ("BankTransactions", "BankTransactionID"),
            ("Invoices", "InvoiceID"),
            ("CreditNotes", "CreditNoteID"),
        )
        for document in documents[endpoint]
    }
    kinds = {True: set(), False: set()}
    for entry in refunds:
        assert entry.amount == -abs(sent[entry.id])  # one spelling in the ledger
        assert entry.reason_code not in ("amounts_do_not_add_up", "unexpected_sign")
        assert entry.state == EntryState.POSTED, (entry.reason_code, entry.reason)
        assert totals[entry.xero_document_id] == abs(sent[entry.id])
        kinds[sent[entry.id] > 0].add(entry.xero_document_type)
    assert kinds[True] & kinds[False]  # the same kinds of document for both spellings
