"""Every Accounting API body the sandbox returns for our endpoints validates against Xero's
official OpenAPI schema (``shared/reference/xero-openapi/xero_accounting.yaml``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.sandbox.test_xero_bank_transactions import spend
from tests.sandbox.test_xero_bills import bill
from tests.sandbox.test_xero_bills import credit_note
from tests.sandbox.xero_support import HUDSON
from tests.sandbox.xero_support import xero  # noqa: F401
from tests.sandbox.xero_support import xero_app  # noqa: F401

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
CHECKER = SHARED / "tools" / "xero_schema_check.py"
SPEC = SHARED / "reference" / "xero-openapi" / "xero_accounting.yaml"

pytestmark = pytest.mark.skipif(
    not (CHECKER.exists() and SPEC.exists()),
    reason=f"Xero's OpenAPI schema and checker are not available at {SHARED.resolve()}",
)


@pytest.fixture(scope="module")
def errors_for():
    spec = importlib.util.spec_from_file_location("xero_schema_check", CHECKER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.errors_for


@pytest.fixture
def responses(xero):  # noqa: F811
    """(schema name, body) for every kind of response our app reads."""
    amazon = xero.contact_id("Amazon Business")
    collected = []

    def keep(schema, answer, status=200):
        assert answer.status_code == status, answer.text
        collected.append((schema, answer.json))
        return answer.json

    keep("Organisations", xero.get("Organisation"))
    keep("Organisations", xero.get("Organisation", tenant=xero.tenants[HUDSON]))
    keep("Actions", xero.get("Organisation/Actions"))
    keep("Accounts", xero.get("Accounts"))
    keep("Accounts", xero.get("Accounts", tenant=xero.tenants[HUDSON]))
    keep("TaxRates", xero.get("TaxRates"))
    keep("TaxRates", xero.get("TaxRates", tenant=xero.tenants[HUDSON]))
    keep("Currencies", xero.get("Currencies"))
    keep("Contacts", xero.get("Contacts", query_string={"includeArchived": "true", "page": "1"}))
    keep(
        "Contacts",
        xero.put(
            "Contacts", json={"Contacts": [{"Name": "New Supplier", "EmailAddress": "a@b.example"}]}
        ),
    )
    keep(
        "Contacts",
        xero.post(f"Contacts/{amazon}", json={"Contacts": [{"EmailAddress": "ap@amazon.example"}]}),
    )
    keep(
        "Contacts",
        xero.put(
            "Contacts?summarizeErrors=false", json={"Contacts": [{"Name": "Amazon Business"}]}
        ),
    )
    created = keep(
        "BankTransactions", xero.put("BankTransactions", json={"BankTransactions": [spend(amazon)]})
    )
    transaction_id = created["BankTransactions"][0]["BankTransactionID"]
    keep(
        "BankTransactions",
        xero.put(
            "BankTransactions?summarizeErrors=false",
            json={
                "BankTransactions": [
                    spend(amazon, line={"AccountCode": "999"}),
                    spend(amazon, Type="RECEIVE"),
                ]
            },
        ),
    )
    keep("BankTransactions", xero.get("BankTransactions", query_string={"page": "1"}))
    keep("BankTransactions", xero.get(f"BankTransactions/{transaction_id}"))
    invoice = keep("Invoices", xero.put("Invoices", json={"Invoices": [bill(amazon)]}))["Invoices"][
        0
    ]
    keep(
        "Invoices",
        xero.put("Invoices?summarizeErrors=false", json={"Invoices": [bill(amazon, DueDate=None)]}),
    )
    note = keep(
        "CreditNotes", xero.put("CreditNotes", json={"CreditNotes": [credit_note(amazon)]})
    )["CreditNotes"][0]
    keep(
        "Allocations",
        xero.put(
            f"CreditNotes/{note['CreditNoteID']}/Allocations",
            json={
                "Allocations": [
                    {
                        "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                        "Amount": 20.0,
                        "Date": "2026-05-12",
                    }
                ]
            },
        ),
    )
    payment = {
        "Invoice": {"InvoiceID": invoice["InvoiceID"]},
        "Account": {"Code": "090"},
        "Date": "2026-05-31",
        "Amount": 700.0,
    }
    keep("Payments", xero.put("Payments", json={"Payments": [payment]}))
    keep("Payments", xero.put("Payments?summarizeErrors=false", json={"Payments": [payment]}))
    keep("Payments", xero.get("Payments"))
    keep("Invoices", xero.get(f"Invoices/{invoice['InvoiceID']}"))
    keep("Invoices", xero.get("Invoices", query_string={"page": "1"}))
    keep("CreditNotes", xero.get(f"CreditNotes/{note['CreditNoteID']}"))
    keep("CreditNotes", xero.get("CreditNotes"))
    attachment = xero.client.put(
        f"/api.xro/2.0/BankTransactions/{transaction_id}/Attachments/invoice.pdf",
        data=b"%PDF-1.4",
        headers={**xero.headers(), "Content-Type": "application/pdf"},
    )
    keep("Attachments", attachment)
    keep("Attachments", xero.get(f"BankTransactions/{transaction_id}/Attachments"))
    keep(
        "HistoryRecords",
        xero.put(
            f"BankTransactions/{transaction_id}/History",
            json={"HistoryRecords": [{"Details": "note"}]},
        ),
    )
    keep("HistoryRecords", xero.get(f"BankTransactions/{transaction_id}/History"))
    keep("HistoryRecords", xero.get(f"Invoices/{invoice['InvoiceID']}/History"))
    keep(
        "Error",
        xero.put("BankTransactions", json={"BankTransactions": [spend(amazon, Date="2020-01-01")]}),
        400,
    )
    keep(
        "Error",
        xero.put("Invoices", json={"Invoices": [bill(amazon, Status="AUTHORISED", DueDate=None)]}),
        400,
    )
    keep("Error", xero.put("Payments", json={"Payments": [{**payment, "Amount": 5000}]}), 400)
    keep("Error", xero.put("Contacts", json={"Contacts": [{"Name": "Viking Direct"}]}), 400)
    keep("Error", xero.get("Accounts", query_string={"where": "Code=="}), 400)
    return collected


def test_responses_match_xeros_schema(responses, errors_for):
    problems = [
        f"{schema}: {line}" for schema, body in responses for line in errors_for(schema, body)
    ]
    assert problems == []
    assert {schema for schema, _ in responses} >= {
        "Organisations",
        "Actions",
        "Accounts",
        "TaxRates",
        "Currencies",
        "Contacts",
        "BankTransactions",
        "Invoices",
        "CreditNotes",
        "Payments",
        "Allocations",
        "Attachments",
        "HistoryRecords",
        "Error",
    }


def test_the_checker_catches_a_broken_body(errors_for):
    assert errors_for("BankTransactions", {"BankTransactions": [{"Type": "SPEND"}]})
