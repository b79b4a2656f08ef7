"""The Accounting API client against mocked HTTP: headers, paging, batches and every error."""

from __future__ import annotations

import pytest
import requests
from responses import matchers

from plugin.infra.ratelimit import XeroRateLimiter
from plugin.xero.client import XeroClient
from plugin.xero.errors import XeroConnectionLost
from plugin.xero.errors import XeroConnectionRevoked
from plugin.xero.errors import XeroNeedsReconnect
from plugin.xero.errors import XeroNotFound
from plugin.xero.errors import XeroRateLimited
from plugin.xero.errors import XeroServerError
from plugin.xero.errors import XeroUnavailable
from plugin.xero.errors import XeroValidationError
from tests.common.fakes import FakeXeroTokens
from tests.common.xero import API
from tests.common.xero import TENANT
from tests.common.xero import XERO_URL


def test_sends_tenant_auth_and_json_headers(xero, http):
    http.get(
        f"{API}/Organisation",
        json={"Organisations": [{"Name": "Thames", "BaseCurrency": "GBP"}]},
        match=[
            matchers.header_matcher(
                {
                    "xero-tenant-id": TENANT,
                    "Authorization": "Bearer access-1",
                    "Accept": "application/json",
                }
            )
        ],
    )
    assert xero.organisation().base_currency == "GBP"


def test_batch_create_returns_per_element_results(xero, http):
    http.put(
        f"{API}/BankTransactions",
        match=[
            matchers.query_param_matcher({"summarizeErrors": "false"}),
            matchers.header_matcher({"Idempotency-Key": "batch-1"}),
            matchers.json_params_matcher(
                {"BankTransactions": [{"Reference": "a"}, {"Reference": "b"}]}
            ),
        ],
        json={
            "BankTransactions": [
                {"BankTransactionID": "bt-1", "StatusAttributeString": "OK"},
                {
                    "StatusAttributeString": "ERROR",
                    "ValidationErrors": [{"Message": "Account code '999' is not a valid code"}],
                },
            ]
        },
    )
    results = xero.create_documents(
        "BankTransactions", [{"Reference": "a"}, {"Reference": "b"}], idempotency_key="batch-1"
    )
    assert [(r.ok, r.xero_id) for r in results] == [(True, "bt-1"), (False, None)]
    assert results[1].messages == ["Account code '999' is not a valid code"]


def test_validation_exception_carries_element_messages(xero, http):
    http.put(
        f"{API}/Invoices",
        status=400,
        json={
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": "A validation exception occurred",
            "Elements": [
                {"ValidationErrors": [{"Message": "The document DueDate field must be specified"}]}
            ],
        },
    )
    with pytest.raises(XeroValidationError) as error:
        xero.create_documents("Invoices", [{"Type": "ACCPAY"}], idempotency_key="k")
    assert error.value.messages == ["The document DueDate field must be specified"]
    assert error.value.elements[0].index == 0


def test_401_refreshes_once_and_retries(xero, http, xero_tokens):
    http.get(
        f"{API}/Accounts",
        status=401,
        json={"Title": "Unauthorized", "Detail": "TokenExpired: token expired"},
        match=[matchers.header_matcher({"Authorization": "Bearer access-1"})],
    )
    http.get(
        f"{API}/Accounts",
        json={"Accounts": [{"Code": "429"}]},
        match=[matchers.header_matcher({"Authorization": "Bearer access-2"})],
    )
    assert [account.code for account in xero.accounts()] == ["429"]
    assert xero_tokens.refreshes == 1


def test_401_after_a_refresh_means_reconnect(xero, http, xero_tokens):
    http.get(f"{API}/Accounts", status=401, json={"Title": "Unauthorized"})
    http.get(f"{API}/Accounts", status=401, json={"Title": "Unauthorized"})
    with pytest.raises(XeroNeedsReconnect):
        xero.accounts()
    assert xero_tokens.refreshes == 1
    assert xero_tokens.reconnect_reasons


def test_403_authentication_unsuccessful_means_revoked(xero, http):
    http.get(
        f"{API}/Accounts",
        status=403,
        json={"title": "Forbidden", "status": 403, "detail": "AuthenticationUnsuccessful"},
    )
    with pytest.raises(XeroConnectionRevoked, match="AuthenticationUnsuccessful"):
        xero.accounts()


def test_404_is_not_found(xero, http):
    http.get(f"{API}/Contacts/c-1", status=404, body="")
    with pytest.raises(XeroNotFound):
        xero.get_contact("c-1")


def test_429_carries_retry_after_and_blocks_other_workers(xero, http, redis_client):
    http.get(
        f"{API}/TaxRates",
        status=429,
        headers={"Retry-After": "37", "X-Rate-Limit-Problem": "Minute"},
    )
    with pytest.raises(XeroRateLimited) as limited:
        xero.tax_rates()
    assert limited.value.retry_after == 37
    assert limited.value.limit == "minute"
    # Another worker's client for the same tenant now waits without calling Xero.
    other = XeroClient(
        TENANT, FakeXeroTokens(), XeroRateLimiter(redis_client), XERO_URL, max_wait=0
    )
    with pytest.raises(XeroRateLimited):
        other.tax_rates()


def test_500_is_a_server_error(xero, http):
    http.get(f"{API}/Currencies", status=500, json={"Message": "An error occurred"})
    with pytest.raises(XeroServerError, match="An error occurred"):
        xero.currencies()


def test_503_plain_text_organisation_offline(xero, http):
    http.get(f"{API}/Currencies", status=503, body="Organisation offline")
    with pytest.raises(XeroUnavailable, match="Organisation offline"):
        xero.currencies()


def test_dropped_connection_is_reported_as_unknown_outcome(xero, http):
    http.put(f"{API}/BankTransactions", body=requests.ConnectionError("reset by peer"))
    with pytest.raises(XeroConnectionLost, match="may or may not") as lost:
        xero.create_documents("BankTransactions", [{}], idempotency_key="k")
    assert lost.value.timed_out is False


def test_read_time_out_says_xero_may_still_be_working(xero, http):
    http.put(f"{API}/BankTransactions", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(XeroConnectionLost) as lost:
        xero.create_documents("BankTransactions", [{}], idempotency_key="k")
    assert lost.value.timed_out is True


def test_learns_remaining_budget_from_headers(xero, http):
    http.get(
        f"{API}/Currencies",
        json={"Currencies": []},
        headers={"X-DayLimit-Remaining": "1200", "X-MinLimit-Remaining": "50"},
    )
    xero.currencies()
    assert xero.limiter.remaining_today(TENANT) == 1200


def test_paging_follows_pages_until_a_short_one(xero, http):
    full_page = [{"ContactID": f"c{i}"} for i in range(100)]
    http.get(
        f"{API}/Contacts",
        json={"Contacts": full_page},
        match=[
            matchers.query_param_matcher(
                {"page": "1", "includeArchived": "true", "where": 'Name=="Amazon Business"'}
            )
        ],
    )
    http.get(
        f"{API}/Contacts",
        json={"Contacts": [{"ContactID": "last"}]},
        match=[
            matchers.query_param_matcher(
                {"page": "2", "includeArchived": "true", "where": 'Name=="Amazon Business"'}
            )
        ],
    )
    assert len(xero.contacts_named("Amazon Business")) == 101


def test_find_bank_transactions_by_reference_builds_an_or_filter(xero, http):
    http.get(
        f"{API}/BankTransactions",
        json={"BankTransactions": [{"BankTransactionID": "bt-1", "Reference": "111 T1"}]},
        match=[
            matchers.query_param_matcher(
                {"where": 'Reference=="111 T1" OR Reference=="222 \\"T2\\""', "page": "1"}
            )
        ],
    )
    found = xero.find_bank_transactions_by_reference(["111 T1", '222 "T2"'])
    assert [(t.bank_transaction_id, t.reference) for t in found] == [("bt-1", "111 T1")]


def test_attachment_sends_raw_bytes(xero, http):
    http.put(
        f"{API}/Invoices/inv-1/Attachments/invoice%20123.pdf",
        json={"Attachments": [{"AttachmentID": "att-1", "FileName": "invoice 123.pdf"}]},
        match=[matchers.header_matcher({"Content-Type": "application/pdf"})],
    )
    attachment = xero.add_attachment(
        "Invoices", "inv-1", "invoice 123.pdf", b"%PDF-1.4", "application/pdf"
    )
    assert (attachment.attachment_id, attachment.file_name) == ("att-1", "invoice 123.pdf")
    assert http.calls[0].request.body == b"%PDF-1.4"
