"""Pay by Invoice settlement end to end (sandbox Xero and Amazon, real RQ jobs): a 429 makes
the settlement job come back after Retry-After (issue 19 point 2), and the payments made
then cover exactly what each bill owed after credits, once."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import requests
from rq.job import Job

from plugin.infra.queues import get_queue
from plugin.infra.queues import get_redis
from tests.common.pipeline import finish_setup
from tests.common.pipeline import import_days
from tests.common.pipeline import ledger_entries
from tests.common.pipeline import sandbox_documents


def test_a_rate_limited_settlement_requeues_itself_and_pays_once(pipeline, sandbox, run_jobs):
    app, _client, org = pipeline
    import_days(app, org, days=90)
    run_jobs()
    finish_setup(app, org, include_new_card=True)
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    run_jobs()
    requests.post(f"{sandbox.url}/_sandbox/clock", json={"advance_seconds": 35 * 86400}, timeout=5)
    requests.post(
        f"{sandbox.url}/_sandbox/faults",
        json={"service": "xero", "queue": {"kind": "429", "count": 1, "path_contains": "Invoices"}},
        timeout=5,
    )
    job = get_queue("low", app).enqueue("jobs.settlements.check_invoice_payments", org.id)
    run_jobs()
    job.refresh()
    assert job.is_finished, job.exc_info  # before the fix: failed with XeroRateLimited
    assert job.return_value()["requeued_in"] >= 1
    scheduled = get_queue("low", app).scheduled_job_registry.get_job_ids()
    assert f"settle-later-{org.id}" in scheduled
    redis = get_redis(app)
    redis.delete(f"ratelimit:xero:blocked:{org.xero_tenant_id}")
    later = Job.fetch(f"settle-later-{org.id}", connection=redis)
    get_queue("low", app).enqueue_job(later)
    run_jobs()

    documents = sandbox_documents(sandbox, org)
    payments = [p for p in documents["Payments"] if p.get("Status") != "DELETED"]
    assert payments, "the re-queued run pays the closed bills"
    per_bill = Counter(p["Invoice"]["InvoiceID"] for p in payments)
    assert all(count == 1 for count in per_bill.values()), per_bill
    bills = {b["InvoiceID"]: b for b in documents["Invoices"]}
    for payment in payments:
        bill = bills[payment["Invoice"]["InvoiceID"]]
        credited = Decimal(str(bill.get("AmountCredited", 0)))
        owed = Decimal(str(bill["Total"])) - credited
        assert Decimal(str(payment["Amount"])) == owed  # exactly what was due after credits
        assert Decimal(str(bill["AmountDue"])) == 0
    paid = [e for e in ledger_entries(app, org) if e.settlement_state == "paid"]
    assert {e.xero_payment_id for e in paid if e.xero_payment_id} == {
        p["PaymentID"] for p in payments
    }
    allocations = [a for n in documents["CreditNotes"] for a in n.get("Allocations") or []]
    notes = [e for e in ledger_entries(app, org) if e.xero_document_type == "CreditNotes"]
    assert len(allocations) == len(
        [e for e in notes if e.settlement_state in ("allocated", "credit_left")]
    )
