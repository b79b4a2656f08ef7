"""The tie-out report end to end against the live sandbox, with real RQ workers: import 90 days
of the Thames account, post (a new card held), mark a held purchase posted by hand; every month
ties out to the cent, Amazon's totals are the sandbox Amazon's own and what is "in Xero" is
what the sandbox Xero holds. Then Amazon changes a reconciled purchase and cancels another:
the cancelled one ties out at 0.00, the changed one is the month's difference, named."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

import requests

from plugin.amazon.signs import documented_amount
from plugin.db import session_scope
from plugin.infra.queues import get_queue
from plugin.manage.tie_out import Bucket
from plugin.manage.tie_out import month_of
from plugin.manage.tie_out_query import tie_out_report
from plugin.models import EntryState
from plugin.models import ImportTrigger
from plugin.models import Organisation
from plugin.posting.dates import xero_zone
from tests.common.onboarding import text_of
from tests.common.pipeline import NEW_CARD
from tests.common.pipeline import finish_setup
from tests.common.pipeline import import_days
from tests.common.pipeline import ledger_entries
from tests.common.pipeline import sandbox_documents
from tests.work.test_corrections_e2e import amazon_change
from tests.work.test_corrections_e2e import reconcile

SIGNS = {"BankTransactions": {"SPEND": 1, "RECEIVE": -1}, "Invoices": {}, "CreditNotes": {}}


def report_of(app, org):
    with session_scope(app) as db:
        stored = db.get(Organisation, org.id)
        return tie_out_report(db, org.id, stored.timezone), xero_zone(stored.timezone)


def amazon_totals(sandbox, ids, zone) -> dict[tuple[str, str], Decimal]:
    """Per (month, currency): the sandbox Amazon's own amounts of the imported transactions."""
    body = requests.get(
        f"{sandbox.url}/_sandbox/amazon/transactions",
        params={"account": "thames", "store": "UK"},
        timeout=10,
    ).json()
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    seen = set()
    for tx in body["transactions"]:
        if tx["transactionId"] not in ids:
            continue
        seen.add(tx["transactionId"])
        when = datetime.fromisoformat(tx["transactionDate"].replace("Z", "+00:00"))
        amount = documented_amount(tx["transactionType"], Decimal(tx["amount"]["amount"]))
        totals[month_of(when, zone), tx["amount"]["currencyCode"]] += amount
    assert seen == ids
    return dict(totals)


def xero_totals(sandbox, org) -> dict[str, Decimal]:
    """Per currency: what the sandbox Xero holds (documents not deleted or voided), signed."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for endpoint, documents in sandbox_documents(sandbox, org).items():
        if endpoint not in SIGNS:
            continue
        for document in documents:
            if document.get("Status") in ("DELETED", "VOIDED"):
                continue
            sign = SIGNS[endpoint].get(document.get("Type"), -1 if endpoint == "CreditNotes" else 1)
            totals[document["CurrencyCode"]] += sign * Decimal(str(document["Total"]))
    return dict(totals)


def test_every_month_ties_out_against_the_sandbox(pipeline, sandbox, run_jobs):
    app, client, org = pipeline
    import_days(app, org)
    run_jobs()
    report, zone = report_of(app, org)
    assert report.ties_out
    assert sum(m.total.in_xero.count for m in report.months) == 0  # nothing posted yet

    finish_setup(app, org)  # the new card is not mapped: its purchases are held
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    run_jobs()
    held = [e for e in ledger_entries(app, org) if e.payment_method_key == NEW_CARD]
    assert len(held) >= 2
    by_hand = held[0]
    assert client.post(f"/orgs/{org.id}/entries/{by_hand.amazon_transaction_id}/posted-by-hand")

    entries = ledger_entries(app, org)
    report, zone = report_of(app, org)
    assert report.ties_out
    assert len(report.months) >= 3
    ids = {e.amazon_transaction_id for e in entries}
    amazon = amazon_totals(sandbox, ids, zone)
    assert {(m.month, m.currency): m.total.amazon.amount for m in report.months} == amazon
    in_xero: dict[str, Decimal] = defaultdict(Decimal)
    for month in report.months:
        line = month.total
        assert line.amazon.amount == line.in_xero.amount + line.held.amount + line.waiting.amount
        in_xero[month.currency] += line.in_xero.amount - line.figure(Bucket.BY_HAND).amount
    assert dict(in_xero) == xero_totals(sandbox, org)
    held_lines = [
        (line.method, code)
        for month in report.months
        for line in month.lines
        for _bucket, code, _label, figure in line.held_reasons()
        if figure.count
    ]
    assert held_lines
    assert {method for method, _ in held_lines} == {NEW_CARD}
    assert {code for _, code in held_lines} == {"unmapped_payment_method"}
    assert sum(m.total.figure(Bucket.BY_HAND).count for m in report.months) == 1

    page = client.get(f"/orgs/{org.id}/manage/tie-out")
    assert page.status_code == 200
    assert "Every month ties out to the cent." in text_of(page)

    # Amazon changes a purchase the bookkeeper reconciled, and cancels another.
    cards = [
        e
        for e in ledger_entries(app, org)
        if e.state == EntryState.POSTED
        and e.xero_document_type == "BankTransactions"
        and e.transaction_type == "CHARGE"
        and e.amount > 5
        and (datetime.now(e.transaction_date.tzinfo) - e.transaction_date).days < 25
    ]
    reconciled, cancelled = cards[0], cards[1]
    reconcile(sandbox, reconciled.xero_document_id)
    amazon_change(sandbox, reconciled.amazon_transaction_id, amount=str(reconciled.amount + 2))
    amazon_change(sandbox, cancelled.amazon_transaction_id, cancel=True)
    import_days(app, org, days=30, trigger=ImportTrigger.MANUAL)
    run_jobs()
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    run_jobs()

    report, zone = report_of(app, org)
    assert {(m.month, m.currency): m.total.amazon.amount for m in report.months} == amazon_totals(
        sandbox, ids, zone
    )
    (change,) = report.changes()
    assert change.transaction_id == reconciled.amazon_transaction_id
    assert change.delta == Decimal("2.00")
    off = [m for m in report.months if not m.total.ties_out]
    assert [(m.month, m.total.difference) for m in off] == [
        (month_of(reconciled.transaction_date, zone), Decimal("2.00"))
    ]
    cancelled_month = next(
        m for m in report.months if m.month == month_of(cancelled.transaction_date, zone)
    )
    assert cancelled_month.total.figure(Bucket.CANCELLED).count == 1
    page = text_of(client.get(f"/orgs/{org.id}/manage/tie-out"))
    assert "1 month does not tie out" in page
    assert reconciled.amazon_transaction_id in page
    assert "Held: see the purchase" in page
