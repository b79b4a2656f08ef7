"""North American order summaries (spec §9 item 2), end to end with the sandbox.

Hudson Design LLC (US) buys on amazon.com with cards and Pay by Invoice. Amazon has invoice PDFs
for Pay by Invoice orders only, and since January 2026 an order summary for any other order
(not for orders still pending or cancelled). The Pay by Invoice bill gets its invoice; a card
purchase its order summary, named and noted as not a tax invoice; a cancelled order nothing,
with Amazon's reason kept on the entry.
"""

from __future__ import annotations

import pytest
import requests
from sqlmodel import select

from plugin.db import session_scope
from plugin.infra.queues import get_queue
from plugin.mapping import files as mapping_file
from plugin.mapping.store import save_mapping
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import OnboardingStep
from plugin.models import Organisation
from plugin.work.attachment_choice import ORDER_SUMMARY_NOTE
from tests.common.charts import us_mapping
from tests.common.e2e import amazon_connect
from tests.common.e2e import sandbox_settings
from tests.common.e2e import xero_install
from tests.common.pipeline import import_days
from tests.common.pipeline import ledger_entries
from tests.common.pipeline import sandbox_documents

HUDSON = "Hudson Design LLC"


def hudson_mapping() -> dict:
    """The US mapping for the sandbox's Hudson account (its cards, Pay by Invoice, its rates)."""
    return us_mapping(
        payment_methods=[
            {"type": "Visa", "last4": "1881", "treatment": "spend_money", "account_code": "1090"},
            {
                "type": "Mastercard",
                "last4": "4444",
                "treatment": "spend_money",
                "account_code": "1090",
            },
            {
                "type": "American Express",
                "last4": "3005",
                "treatment": "spend_money",
                "account_code": "1091",
            },
            {
                "type": "Pay by Invoice",
                "last4": None,
                "treatment": "bill",
                "payment_account_code": "1000",
            },
        ],
        expense_rules=[],
    )


@pytest.fixture
def hudson(app_config, make_app, sandbox, monkeypatch, request):
    """Hudson's org, connected to both sides, a history imported and posted."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    app_config.update(sandbox_settings(sandbox.url))
    app = make_app(app_config)
    run_jobs = request.getfixturevalue("run_jobs")  # its app (the jobs') takes this config
    client = xero_install(app, sandbox.url, "alice@example.com", [HUDSON])
    with session_scope(app) as db:
        org = db.exec(select(Organisation)).one()
    answer = amazon_connect(client, org.id, "US", "buyer-admin-us@example.com")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    import_days(app, org, days=30)
    run_jobs()
    mapping = mapping_file.load_mapping(hudson_mapping(), "test mapping")
    with session_scope(app) as db:
        save_mapping(db, org.id, mapping, actor="test")
        stored = db.get(Organisation, org.id)
        stored.onboarding_step = OnboardingStep.DONE
        stored.sync_enabled = True
        db.add(stored)
        db.commit()
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    run_jobs()
    requests.post(f"{sandbox.url}/_sandbox/clock", json={"speed": 30}, timeout=5)  # reports
    return app, client, org


def _only_these_wait(app, org, keep: set[int]) -> None:
    """Leave only ``keep`` waiting for a document (Document API calls are 6 a minute)."""
    with session_scope(app) as db:
        for entry in db.exec(select(LedgerEntry).where(LedgerEntry.organisation_id == org.id)):
            if entry.id not in keep:
                entry.attachment_state = "not-in-test"
                db.add(entry)
        db.commit()


def _files(sandbox, org) -> dict[str, list[str]]:
    documents = sandbox_documents(sandbox, org)
    return {
        document[id_field]: [a["FileName"] for a in document.get("Attachments") or []]
        for endpoint, id_field in (
            ("BankTransactions", "BankTransactionID"),
            ("Invoices", "InvoiceID"),
        )
        for document in documents[endpoint]
    }


def test_card_orders_get_an_order_summary_pay_by_invoice_its_invoice(hudson, sandbox, run_jobs):
    app, client, org = hudson
    posted = [
        e
        for e in ledger_entries(app, org)
        if e.state == EntryState.POSTED and e.transaction_type == "CHARGE"
    ]
    cards = [e for e in posted if not (e.payment_method_key or "").startswith("Pay by Invoice")]
    bills = [e for e in posted if (e.payment_method_key or "").startswith("Pay by Invoice")]
    assert len(cards) >= 2, "the sandbox should give Hudson posted card purchases"
    assert bills, "and a posted Pay by Invoice bill"
    card, cancelled, bill = cards[0], cards[1], bills[0]
    assert card.order_id != cancelled.order_id
    requests.post(
        f"{sandbox.url}/_sandbox/amazon/orders",
        json={
            "account": "hudson",
            "store": "US",
            "orderId": cancelled.order_id,
            "status": "CANCELLED",
        },
        timeout=5,
    )
    _only_these_wait(app, org, {card.id, cancelled.id, bill.id})

    job = get_queue("low", app).enqueue("jobs.attachments.attach_documents", org.id, 20)
    run_jobs()
    job.refresh()
    answer = job.return_value()
    assert answer["attached"] == 2
    assert answer["order_summaries"] == 1
    assert answer["unavailable"] == 1

    entries = {e.id: e for e in ledger_entries(app, org)}
    files = _files(sandbox, org)
    summary = entries[card.id]
    assert summary.attachment_state == "order_summary"
    assert summary.attachment_note == ORDER_SUMMARY_NOTE == "Order summary (not a tax invoice)"
    assert files[summary.xero_document_id] == [
        f"Amazon-OrderSummary-{card.order_id}-not-a-tax-invoice.pdf"
    ]
    invoice = entries[bill.id]
    assert invoice.attachment_state == "attached"
    assert invoice.attachment_note is None
    assert files[invoice.xero_document_id] == [f"Amazon-{bill.invoice_number}.pdf"]
    nothing = entries[cancelled.id]
    assert nothing.attachment_state == "unavailable"
    assert "cancelled" in nothing.attachment_note
    assert files[nothing.xero_document_id] == []

    page = client.get(f"/orgs/{org.id}/entries/{card.amazon_transaction_id}").get_data(as_text=True)
    assert "order summary is attached" in page
    assert "Order summary (not a tax invoice)" in page

    stats = requests.get(f"{sandbox.url}/_sandbox/amazon/stats", timeout=5).json()
    assert stats["api_calls"]["createReport"] == 3  # no invoice PDF asked for the card orders
