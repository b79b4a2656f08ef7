"""Pay by Invoice settlement end to end for a euro-zone organisation (issue 13 point 5): the
sandbox's Beispiel GmbH (EUR, Berlin, 19 % and 7 % Vorsteuer) buying on amazon.de, every bill
paid once for exactly what it owed after credits, in euros, from the mapped account, dated the
Berlin day the invoice was first seen Closed (23:30 UTC: already the next day)."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import time
from datetime import timedelta

import pytest

from plugin.models import EntryState
from plugin.models import utcnow
from plugin.posting.dates import today_in
from sandbox.xero.xerojson import ms_date
from tests.common.pipeline import ledger_entries
from tests.common.pipeline import sandbox_documents
from tests.common.purchases_e2e import BEISPIEL
from tests.common.purchases_e2e import connected
from tests.common.purchases_e2e import map_beispiel
from tests.common.settlement import d
from tests.common.settlement import posted_and_closed
from tests.common.settlement import settle_through_limits
from tests.common.settlement import settlement_verdict


@pytest.fixture
def sandbox_config():
    """Enough purchases that the DE store has Pay by Invoice refunds (credit notes) too."""
    return {"SANDBOX_AMAZON_TRANSACTIONS": 400}


@pytest.fixture
def beispiel(app_config, make_app, sandbox, monkeypatch):
    return connected(app_config, make_app, sandbox, monkeypatch, BEISPIEL)


def test_a_euro_zone_org_s_bills_are_paid_once_on_the_berlin_day(
    beispiel, sandbox, run_jobs, monkeypatch
):
    app, org = beispiel
    assert org.timezone == "W.EUROPESTANDARDTIME"  # from the sandbox's GET /Organisation
    posted_and_closed(app, org, sandbox, run_jobs, set_up=map_beispiel)
    entries = ledger_entries(app, org)
    bills = [
        e for e in entries if e.state == EntryState.POSTED and e.xero_document_type == "Invoices"
    ]
    assert bills, [(e.state, e.reason) for e in entries][:5]
    assert {e.currency for e in bills} == {"EUR"}
    # First seen Closed at 23:30 UTC: already the next day in Berlin.
    seen = datetime.combine(utcnow().date(), time(23, 30), UTC)
    monkeypatch.setattr(
        "plugin.work.settlements.today_in", lambda zone, now=None: today_in(zone, now=seen)
    )
    settle_through_limits(app, org, sandbox, run_jobs)
    verdict = settlement_verdict(app, sandbox, org)
    assert verdict.sound, verdict.problems
    assert verdict.payments > 0
    assert verdict.allocations > 0  # the refunds' credit notes, allocated to their bills
    notes = [e for e in ledger_entries(app, org) if e.xero_document_type == "CreditNotes"]
    assert {n.settlement_state for n in notes} <= {"allocated", "credit_left", "unallocated"}
    documents = sandbox_documents(sandbox, org)
    berlin_day = seen.date() + timedelta(days=1)
    for payment in documents["Payments"]:
        assert payment["CurrencyRate"] == 1.0
        assert payment["Account"]["Code"] == "090"
        assert payment["Date"] == ms_date(berlin_day)
    paid = {p["Invoice"]["InvoiceID"] for p in documents["Payments"]}
    for bill in documents["Invoices"]:
        assert bill["CurrencyCode"] == "EUR"
        if bill["InvoiceID"] in paid:
            assert d(bill["AmountDue"]) == 0
