"""Shared steps of the posting end-to-end tests (the Thames UK org against the sandbox)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import requests
from sqlmodel import select

from plugin.db import session_scope
from plugin.mapping import files as mapping_file
from plugin.mapping.store import save_mapping
from plugin.models import EntryState
from plugin.models import ImportTrigger
from plugin.models import LedgerEntry
from plugin.models import OnboardingStep
from plugin.models import Organisation
from plugin.models import utcnow
from plugin.work.imports import start_import
from tests.common.charts import uk_mapping

THAMES = "Thames Stationery Ltd"
NEW_CARD = "Mastercard:6006"


def thames_mapping(include_new_card: bool = False, foreign_currency: str | None = None) -> dict:
    """The Thames Stationery mapping the sandbox's generated purchases need: the UK mapping of
    tests/common/charts.py with the sandbox account's cards and its GL-code rule.

    ``foreign_currency`` (e.g. ``"bill_paid_from_account"``) is given to every spend-money
    method, so the DE store's EUR purchases on the GBP cards post as bills paid from them."""
    methods = [
        {"type": "Visa", "last4": "4242", "treatment": "spend_money", "account_code": "800"},
        {"type": "Mastercard", "last4": "5454", "treatment": "spend_money", "account_code": "801"},
        {
            "type": "American Express",
            "last4": "1005",
            "treatment": "spend_money",
            "account_code": "801",
        },
        {
            "type": "Gift Card Balance",
            "last4": None,
            "treatment": "spend_money",
            "account_code": "091",
        },
        {
            "type": "Pay by Invoice",
            "last4": None,
            "treatment": "bill",
            "payment_account_code": "090",
        },
    ]
    if include_new_card:
        methods.append(
            {
                "type": "Mastercard",
                "last4": "6006",
                "treatment": "spend_money",
                "account_code": "801",
            }
        )
    if foreign_currency is not None:
        for method in methods:
            if method["treatment"] == "spend_money":
                method["foreign_currency"] = foreign_currency
    return uk_mapping(
        payment_methods=methods,
        expense_rules=[
            {
                "field": "business_order_info",
                "key": "GL code",
                "value": "6300-it",
                "account_code": "463",
            }
        ],
        tax_rates=[
            {"rate": "0.20", "tax_type": "INPUT2"},
            {"rate": "0.05", "tax_type": "RRINPUT"},
            {"rate": "0.00", "tax_type": "ZERORATEDINPUT"},
        ],
    )


def import_days(app, org, days=90, trigger=ImportTrigger.HISTORICAL):
    today = utcnow().date()
    with session_scope(app) as db:
        stored = db.get(Organisation, org.id)
        return start_import(
            db, app, stored, today - timedelta(days=days), today, trigger, actor="test"
        )


def finish_setup(app, org, include_new_card=False, foreign_currency=None):
    mapping = mapping_file.load_mapping(
        thames_mapping(include_new_card, foreign_currency), "test mapping"
    )
    with session_scope(app) as db:
        save_mapping(db, org.id, mapping, actor="test")
        stored = db.get(Organisation, org.id)
        stored.onboarding_step = OnboardingStep.DONE
        stored.sync_enabled = True
        db.add(stored)
        db.commit()


def ledger_entries(app, org):
    with session_scope(app) as db:
        return list(db.exec(select(LedgerEntry).where(LedgerEntry.organisation_id == org.id)))


def sandbox_documents(sandbox, org):
    body = requests.get(
        f"{sandbox.url}/_sandbox/xero/documents", params={"tenant": org.xero_tenant_id}, timeout=10
    ).json()
    return body


def assert_exactly_once(app, sandbox, org):
    """Every posted entry has exactly one document in Xero, and Xero has no others."""
    documents = sandbox_documents(sandbox, org)
    posted = [e for e in ledger_entries(app, org) if e.state == EntryState.POSTED]
    ids = Counter()
    for endpoint, id_field in (
        ("BankTransactions", "BankTransactionID"),
        ("Invoices", "InvoiceID"),
        ("CreditNotes", "CreditNoteID"),
    ):
        for document in documents[endpoint]:
            if document.get("Status") not in ("DELETED", "VOIDED"):
                ids[document[id_field]] += 1
    per_transaction = Counter()
    for document in documents["BankTransactions"]:
        if document.get("Status") not in ("DELETED", "VOIDED"):  # still in the books
            per_transaction[document["Reference"].split()[-1]] += 1
    assert all(count == 1 for count in per_transaction.values()), "duplicate bank transaction"
    assert {e.xero_document_id for e in posted} == set(ids)
    assert len(posted) == sum(ids.values())
    return posted
