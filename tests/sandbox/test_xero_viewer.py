"""The viewer page and the JSON control endpoints tests read: orgs, documents, stats,
disconnect."""

from __future__ import annotations

from tests.sandbox.test_xero_bank_transactions import spend
from tests.sandbox.test_xero_bills import bill
from tests.sandbox.xero_support import HUDSON
from tests.sandbox.xero_support import PRACTICE
from tests.sandbox.xero_support import THAMES
from tests.sandbox.xero_support import xero  # noqa: F401
from tests.sandbox.xero_support import xero_app  # noqa: F401


def post_some_documents(xero):  # noqa: F811
    amazon = xero.contact_id("Amazon Business")
    transaction = xero.put(
        "BankTransactions", json={"BankTransactions": [spend(amazon, Reference="112-999 TX9")]}
    )
    transaction_id = transaction.json["BankTransactions"][0]["BankTransactionID"]
    xero.client.put(
        f"/api.xro/2.0/BankTransactions/{transaction_id}/Attachments/order.pdf",
        data=b"%PDF-1.4",
        headers={**xero.headers(), "Content-Type": "application/pdf"},
    )
    invoice = xero.put(
        "Invoices", json={"Invoices": [bill(amazon, InvoiceNumber="GB-INV-777")]}
    ).json["Invoices"][0]
    payment = {
        "Invoice": {"InvoiceID": invoice["InvoiceID"]},
        "Account": {"Code": "090"},
        "Date": "2026-05-31",
        "Amount": 720.0,
    }
    xero.put("Payments", json={"Payments": [payment]})
    return transaction_id, invoice["InvoiceID"]


SCOTLAND = "Thames Stationery (Scotland) Ltd"


def test_orgs_lists_tenants_users_and_connections(xero):  # noqa: F811
    orgs = {o["tenantName"]: o for o in xero.client.get("/_sandbox/xero/orgs").json["orgs"]}
    assert set(orgs) == {THAMES, HUDSON, "Beispiel GmbH", SCOTLAND, PRACTICE}
    assert orgs[SCOTLAND]["users"] == ["fiona@example.com"]  # its own books, its own person
    assert orgs["Beispiel GmbH"]["baseCurrency"] == "EUR"
    assert orgs["Beispiel GmbH"]["users"] == ["greta@example.com"]
    assert orgs[THAMES]["users"] == ["alice@example.com", "bob@example.com"]
    assert orgs[HUDSON]["users"] == ["alice@example.com", "carol@example.com"]
    assert orgs[PRACTICE]["tenantType"] == "PRACTICE"
    assert [c["user"] for c in orgs[THAMES]["connections"]] == ["alice@example.com"]
    assert orgs[PRACTICE]["connections"] == []


def test_documents_json_has_everything_the_app_created(xero):  # noqa: F811
    transaction_id, invoice_id = post_some_documents(xero)
    documents = xero.client.get(f"/_sandbox/xero/documents?tenant={xero.tenant}").json
    assert documents["tenantName"] == THAMES
    [transaction] = documents["BankTransactions"]
    assert transaction["BankTransactionID"] == transaction_id
    assert [a["FileName"] for a in transaction["Attachments"]] == ["order.pdf"]
    [invoice] = documents["Invoices"]
    assert (invoice["InvoiceID"], invoice["Status"]) == (invoice_id, "PAID")
    assert len(documents["Payments"]) == 1
    assert documents["CreditNotes"] == []
    other = xero.client.get(f"/_sandbox/xero/documents?tenant={xero.tenants[HUDSON]}").json
    assert other["BankTransactions"] == []
    assert xero.client.get("/_sandbox/xero/documents?tenant=nope").status_code == 404


def test_viewer_page_shows_documents_per_org(xero):  # noqa: F811
    post_some_documents(xero)
    page = xero.client.get("/viewer")
    assert page.status_code == 200
    html = page.text
    assert THAMES in html
    assert HUDSON in html
    assert "112-999 TX9" in html
    assert "GB-INV-777" in html
    assert "59.98" in html
    assert "720.00" in html
    assert "ACCPAYPAYMENT" in html


def test_disconnect_from_xeros_side(xero):  # noqa: F811
    removed = xero.client.post(
        "/_sandbox/xero/disconnect", json={"tenant": xero.tenant, "user": "alice@example.com"}
    )
    assert len(removed.json["removed"]) == 1
    assert xero.get("Organisation").status_code == 403
    assert xero.get("Organisation", tenant=xero.tenants[HUDSON]).status_code == 200


def test_stats_shape(xero):  # noqa: F811
    xero.get("Organisation")
    stats = xero.stats()
    assert set(stats) == {
        "token_requests",
        "token_refreshes",
        "token_errors",
        "revocations",
        "concurrent_same_key",
        "api_calls",
        "api_calls_total",
        "api_calls_by_endpoint",
        "rate_limited",
        "idempotent_replays",
        "connections_deleted",
    }
    assert stats["api_calls_by_endpoint"]["GET Organisation"] == 1
    assert stats["api_calls_total"] == 1


def test_reset_clears_documents_and_connections(xero):  # noqa: F811
    post_some_documents(xero)
    xero.client.post("/_sandbox/reset", json={})
    assert (
        xero.client.get(f"/_sandbox/xero/documents?tenant={xero.tenant}").json["BankTransactions"]
        == []
    )
    assert xero.get("Organisation").status_code == 403
