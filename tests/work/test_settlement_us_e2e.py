"""Pay by Invoice settlement end to end for a US organisation (issue 13 point 5): the sandbox's
Hudson Design LLC (USD, New York) buying on amazon.com, every bill paid once, exactly what it
owed after credits, from the mapped account, dated the New York day the invoice was first seen
Closed; a bill Amazon does not report Closed yet is left alone."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import time
from datetime import timedelta

import pytest
from sqlmodel import select

import jobs.context
from plugin.db import session_scope
from plugin.mapping import files as mapping_file
from plugin.mapping.store import save_mapping
from plugin.models import EntryState
from plugin.models import OnboardingStep
from plugin.models import Organisation
from plugin.models import utcnow
from plugin.posting.dates import today_in
from sandbox.xero.xerojson import ms_date
from tests.common.charts import us_mapping
from tests.common.e2e import amazon_connect
from tests.common.e2e import sandbox_settings
from tests.common.e2e import xero_install
from tests.common.pipeline import ledger_entries
from tests.common.pipeline import sandbox_documents
from tests.common.settlement import d
from tests.common.settlement import posted_and_closed
from tests.common.settlement import settle_through_limits
from tests.common.settlement import settlement_verdict

HUDSON = "Hudson Design LLC"


def hudson_mapping() -> dict:
    """Hudson's cards to spend money, Pay by Invoice to bills paid from Checking (1000)."""
    card = {"treatment": "spend_money", "account_code": "1090"}
    return us_mapping(
        payment_methods=[
            {"type": "Visa", "last4": "1881", **card},
            {"type": "Mastercard", "last4": "4444", **card},
            {"type": "American Express", "last4": "3005", **card, "account_code": "1091"},
            {"type": "Visa", "last4": "2468", **card},
            {"type": "Gift Card Balance", "last4": None, **card, "account_code": "1000"},
            {
                "type": "Pay by Invoice",
                "last4": None,
                "treatment": "bill",
                "payment_account_code": "1000",
            },
        ],
        expense_rules=[],
    )


def map_hudson(app, org):
    mapping = mapping_file.load_mapping(hudson_mapping(), "test mapping")
    with session_scope(app) as db:
        save_mapping(db, org.id, mapping, actor="test")
        stored = db.get(Organisation, org.id)
        stored.onboarding_step = OnboardingStep.DONE
        stored.sync_enabled = True
        db.add(stored)
        db.commit()


@pytest.fixture
def hudson(app_config, make_app, sandbox, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    app_config.update(sandbox_settings(sandbox.url))
    app = make_app(app_config)
    jobs.context.use_app(app)
    client = xero_install(app, sandbox.url, "alice@example.com", [HUDSON])
    with session_scope(app) as db:
        org = db.exec(select(Organisation)).one()
    answer = amazon_connect(client, org.id, "US", "buyer-admin-us@example.com")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return app, org


def test_a_us_org_s_bills_are_paid_once_on_the_new_york_day(hudson, sandbox, run_jobs, monkeypatch):
    app, org = hudson
    assert org.timezone == "EASTERNSTANDARDTIME"  # from the sandbox's GET /Organisation
    posted_and_closed(app, org, sandbox, run_jobs, set_up=map_hudson)
    bills = [
        e
        for e in ledger_entries(app, org)
        if e.state == EntryState.POSTED and e.xero_document_type == "Invoices"
    ]
    assert bills, "the sandbox's US purchases include Pay by Invoice bills"
    # First seen Closed at 02:30 UTC: still the day before in New York.
    seen = datetime.combine(utcnow().date(), time(2, 30), UTC)
    monkeypatch.setattr(
        "plugin.work.settlements.today_in", lambda zone, now=None: today_in(zone, now=seen)
    )
    result = settle_through_limits(app, org, sandbox, run_jobs)
    verdict = settlement_verdict(app, sandbox, org)
    assert verdict.sound, verdict.problems
    assert verdict.payments > 0
    documents = sandbox_documents(sandbox, org)
    # A bill Amazon does not report Closed yet is left as it is, untouched in Xero.
    open_bills = [e for e in ledger_entries(app, org) if e.settlement_state == "awaiting_payment"]
    assert (
        len(open_bills)
        == verdict.bills - verdict.paid_bills
        == result["checked"] - (verdict.paid_bills)
    )
    xero_bills = {b["InvoiceID"]: b for b in documents["Invoices"]}
    for bill in open_bills:
        xero_bill = xero_bills[bill.xero_document_id]
        assert d(xero_bill["AmountDue"]) == d(xero_bill["Total"]) - d(
            xero_bill.get("AmountCredited")
        )
    new_york_day = seen.date() - timedelta(days=1)
    for payment in documents["Payments"]:
        assert payment["CurrencyRate"] == 1.0
        assert payment["Account"]["Code"] == "1000"  # Checking, as mapped
        assert payment["Date"] == ms_date(new_york_day)
