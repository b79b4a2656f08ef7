"""The Xero Accounting API client: one class, one place for headers, paging, limits and errors.

Every call passes the shared Redis rate limiter (5 concurrent, 60/min, the daily budget, the
app-wide minute limit), which also learns from Xero's ``X-*-Remaining`` headers. Answers come
back as typed models (``plugin.xero.models``, money ``Decimal``), errors as our own types
(``plugin.xero.errors``). Batch writes use ``summarizeErrors=false`` and return per-element
results as data. A 401 gets one token refresh and one retry; anything that may have reached
Xero without an answer raises ``XeroConnectionLost`` (the caller looks the documents up)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from typing import Any
from typing import Protocol
from typing import TypeVar
from urllib.parse import quote

import requests

from plugin.infra import metrics
from plugin.infra.ratelimit import RateLimitWait
from plugin.infra.ratelimit import XeroRateLimiter
from plugin.xero.bank_lookups import bank_transactions_in
from plugin.xero.error_mapping import error_for
from plugin.xero.errors import XeroConnectionLost
from plugin.xero.errors import XeroMalformedResponse
from plugin.xero.errors import XeroNeedsReconnect
from plugin.xero.errors import XeroNotFound
from plugin.xero.errors import XeroRateLimited
from plugin.xero.filters import WHERE_MAX_CHARS
from plugin.xero.filters import chunks
from plugin.xero.filters import joined_within
from plugin.xero.filters import quote_where
from plugin.xero.filters import xero_moment
from plugin.xero.models import ElementResult
from plugin.xero.models import XeroAccount
from plugin.xero.models import XeroAllocation
from plugin.xero.models import XeroAttachment
from plugin.xero.models import XeroBankTransaction
from plugin.xero.models import XeroContact
from plugin.xero.models import XeroCreditNote
from plugin.xero.models import XeroCurrency
from plugin.xero.models import XeroInvoice
from plugin.xero.models import XeroModel
from plugin.xero.models import XeroOrganisation
from plugin.xero.models import XeroPayment
from plugin.xero.models import XeroTaxRate
from plugin.xero.models import XeroTrackingCategory
from plugin.xero.models import element_results
from plugin.xero.models import parse_items
from plugin.xero.timing import XeroTiming
from plugin.xero.wire import dumps
from plugin.xero.wire import json_or_none

log = logging.getLogger(__name__)

PAGE_SIZE = 100
ID_FIELDS = {
    "BankTransactions": "BankTransactionID",
    "Invoices": "InvoiceID",
    "CreditNotes": "CreditNoteID",
    "Payments": "PaymentID",
    "Contacts": "ContactID",
}


class AccessTokens(Protocol):
    """Where the client gets tokens (``plugin.xero.tokens.XeroTokenManager``)."""

    def access_token(self, force_refresh: bool = False) -> str: ...

    def mark_needs_reconnect(self, reason: str) -> None: ...


Model = TypeVar("Model", bound=XeroModel)


class XeroClient:
    """The Accounting API for one organisation (tenant)."""

    def __init__(
        self,
        tenant_id: str,
        tokens: AccessTokens,
        limiter: XeroRateLimiter,
        api_url: str = "https://api.xero.com",
        http: requests.Session | None = None,
        max_wait: float = 10.0,
        timing: XeroTiming | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.timing = timing or XeroTiming()
        self.tokens = tokens
        self.limiter = limiter
        self.base = api_url.rstrip("/") + "/api.xro/2.0"
        self.http = http or requests.Session()
        self.max_wait = max_wait

    @property
    def in_flight(self) -> timedelta:
        """How long after sending a write it may still be in Xero's hands (``timing``)."""
        return self.timing.in_flight

    # The one place requests are made -------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        data: bytes | None = None,
        content_type: str | None = None,
        idempotency_key: str | None = None,
        modified_since: datetime | None = None,
    ) -> requests.Response:
        """Send one call through the limiter; map every failure to our exception types."""
        headers = {"xero-tenant-id": self.tenant_id, "Accept": "application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if modified_since is not None:
            headers["If-Modified-Since"] = xero_moment(modified_since)
        body = data
        if json_body is not None:  # exact amounts: Decimal is written as its digits
            body, content_type = dumps(json_body).encode(), "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        for attempt in (0, 1):
            headers["Authorization"] = f"Bearer {self.tokens.access_token(attempt == 1)}"
            try:
                with self.limiter.slot(self.tenant_id, max_wait=self.max_wait):
                    response = self.http.request(
                        method,
                        f"{self.base}/{path}",
                        params=params,
                        data=body,
                        headers=headers,
                        timeout=self.timing.timeout,
                    )
            except RateLimitWait as wait:
                raise XeroRateLimited(wait.retry_after, wait.limit) from wait
            except (requests.ConnectionError, requests.Timeout) as exc:
                metrics.xero_call(path, None)
                raise XeroConnectionLost(
                    f"No answer from Xero for {method} {path}: the request may or may not have "
                    "been processed.",
                    timed_out=isinstance(exc, requests.ReadTimeout),
                ) from exc
            metrics.xero_call(path, response.status_code)
            self.limiter.observe(self.tenant_id, response.headers)
            if response.status_code == 401 and attempt == 0:
                continue  # one refresh, one retry
            return self._checked(response, method, path)
        raise AssertionError("unreachable")  # pragma: no cover

    def _checked(self, response: requests.Response, method: str, path: str) -> requests.Response:
        status = response.status_code
        if status < 400:
            return response
        correlation = response.headers.get("Xero-Correlation-Id", "")
        if correlation:
            log.warning("Xero %s on %s %s (correlation id %s)", status, method, path, correlation)
        error = error_for(
            status,
            json_or_none(response),
            response.text,
            response.headers,
            f"{method} {path}",
            correlation,
        )
        if isinstance(error, XeroNeedsReconnect):
            self.tokens.mark_needs_reconnect(error.message)
        if isinstance(error, XeroRateLimited):
            problem = response.headers.get("X-Rate-Limit-Problem", "minute")
            self.limiter.on_rate_limited(self.tenant_id, error.retry_after, problem)
        raise error

    def get_json(self, path: str, **params: Any) -> dict[str, Any]:
        """GET a path and return its JSON object (numbers exact)."""
        body = json_or_none(self.request("GET", path, params=params or None))
        if not isinstance(body, dict):
            raise XeroMalformedResponse(f"Xero returned no JSON object for GET {path}")
        return body

    def _list(self, model: type[Model], path: str, key: str, **params: Any) -> list[Model]:
        return parse_items(model, self.get_json(path, **params), key)

    def _one(self, model: type[Model], path: str, key: str, what: str) -> Model:
        found = self._list(model, path, key)
        if not found:
            raise XeroNotFound(f"{what} not found", 404)
        return found[0]

    def _written(self, model: type[Model], response: requests.Response, key: str) -> Model:
        """The one element a write returns (``{"Contacts": [{...}]}``)."""
        found = parse_items(model, json_or_none(response), key)
        if not found:
            raise XeroMalformedResponse(f"Xero returned no {key} for {response.request.method}")
        return found[0]

    def _paged(self, model: type[Model], endpoint: str, params: dict[str, Any]) -> list[Model]:
        found: list[Model] = []
        page = 1
        while True:
            items = self._list(model, endpoint, endpoint, **params, page=page)
            found.extend(items)
            if len(items) < PAGE_SIZE:
                return found
            page += 1

    # Settings -------------------------------------------------------------------------------
    def organisation(self) -> XeroOrganisation:
        """The organisation's details (name, country, base currency, lock dates)."""
        organisations = self._list(XeroOrganisation, "Organisation", "Organisations")
        if not organisations:
            raise XeroMalformedResponse("Xero returned no organisation")
        return organisations[0]

    def organisation_actions(self) -> dict[str, bool]:
        """Which actions the organisation's plan allows (CreateApprovedBill, UseMulticurrency…)."""
        actions = self.get_json("Organisation/Actions").get("Actions") or []
        if not isinstance(actions, list) or not all(isinstance(a, dict) for a in actions):
            raise XeroMalformedResponse("Xero's Actions is not a list of objects")
        return {str(a.get("Name", "")): a.get("Status") == "ALLOWED" for a in actions}

    def accounts(self, where: str | None = None) -> list[XeroAccount]:
        """The chart of accounts (optionally filtered)."""
        params = {"where": where} if where else {}
        return self._list(XeroAccount, "Accounts", "Accounts", **params)

    def tax_rates(self) -> list[XeroTaxRate]:
        """Every tax rate of the organisation."""
        return self._list(XeroTaxRate, "TaxRates", "TaxRates")

    def currencies(self) -> list[XeroCurrency]:
        """The currencies the organisation has enabled."""
        return self._list(XeroCurrency, "Currencies", "Currencies")

    def tracking_categories(self) -> list[XeroTrackingCategory]:
        """The tracking categories and their options (archived ones included)."""
        return self._list(
            XeroTrackingCategory, "TrackingCategories", "TrackingCategories", includeArchived="true"
        )

    # Contacts ---------------------------------------------------------------------------------
    def find_contacts(
        self,
        where: str | None = None,
        search_term: str | None = None,
        include_archived: bool = True,
    ) -> list[XeroContact]:
        """Contacts matching a ``where`` filter or a search term."""
        params: dict[str, Any] = {"includeArchived": str(include_archived).lower()}
        if where:
            params["where"] = where
        if search_term:
            params["searchTerm"] = search_term
        return self._paged(XeroContact, "Contacts", params)

    def contacts_named(self, name: str) -> list[XeroContact]:
        """Contacts whose name is exactly ``name`` (archived ones included)."""
        return self.find_contacts(where=f'Name=="{quote_where(name)}"')

    def get_contact(self, contact_id: str) -> XeroContact:
        """One contact by id (raises XeroNotFound when it was deleted)."""
        return self._one(XeroContact, f"Contacts/{contact_id}", "Contacts", f"Contact {contact_id}")

    def create_contact(self, contact: dict[str, Any]) -> XeroContact:
        """Create one contact and return it."""
        response = self.request("PUT", "Contacts", json_body={"Contacts": [contact]})
        return self._written(XeroContact, response, "Contacts")

    def update_contact(self, contact_id: str, changes: dict[str, Any]) -> XeroContact:
        """Update one contact (e.g. restore its name or status)."""
        response = self.request("POST", f"Contacts/{contact_id}", json_body={"Contacts": [changes]})
        return self._written(XeroContact, response, "Contacts")

    # Documents --------------------------------------------------------------------------------
    def create_documents(
        self, endpoint: str, elements: Sequence[dict[str, Any]], idempotency_key: str
    ) -> list[ElementResult]:
        """Create a batch (≤ 50) of BankTransactions / Invoices / CreditNotes / Payments.

        Each element's outcome comes back as data; the request as a whole raises only when Xero
        did not process it (rate limit, outage, lost connection, auth). Amounts in ``elements``
        are ``Decimal`` and reach the wire with exactly their digits.
        """
        if endpoint not in ID_FIELDS:
            raise ValueError(f"unsupported endpoint {endpoint}")
        response = self.request(
            "PUT",
            endpoint,
            params={"summarizeErrors": "false"},
            json_body={endpoint: list(elements)},
            idempotency_key=idempotency_key,
        )
        return element_results(json_or_none(response), endpoint, ID_FIELDS[endpoint], len(elements))

    def find_bank_transactions_by_reference(
        self, references: Sequence[str]
    ) -> list[XeroBankTransaction]:
        """Bank transactions whose Reference is one of ``references`` (any status): one query for
        a batch of 50 short references (more when the filter would be too long for a URL)."""
        found: list[XeroBankTransaction] = []
        clauses = [f'Reference=="{quote_where(r)}"' for r in references]
        for chunk in joined_within(clauses, " OR ", WHERE_MAX_CHARS):
            found.extend(self._paged(XeroBankTransaction, "BankTransactions", {"where": chunk}))
        return found

    def find_bank_transactions_in(
        self, account: str, start: date, end: date, modified_since: datetime | None = None
    ) -> list[XeroBankTransaction]:
        """Spend/receive money on one bank account dated start..end (``xero.bank_lookups``)."""
        return bank_transactions_in(self, account, start, end, modified_since)

    def find_invoices_by_numbers(self, numbers: Sequence[str]) -> list[XeroInvoice]:
        """Bills/invoices by InvoiceNumber (ACCPAY numbers are not unique: filter by contact)."""
        found: list[XeroInvoice] = []
        for chunk in chunks(list(numbers), 50):
            found.extend(self._paged(XeroInvoice, "Invoices", {"InvoiceNumbers": ",".join(chunk)}))
        return found

    def find_credit_notes(self, where: str) -> list[XeroCreditNote]:
        """Credit notes matching a ``where`` filter."""
        return self._paged(XeroCreditNote, "CreditNotes", {"where": where})

    def get_invoice(self, invoice_id: str) -> XeroInvoice:
        """One invoice/bill by id (with ``AmountDue``)."""
        return self._one(XeroInvoice, f"Invoices/{invoice_id}", "Invoices", f"Invoice {invoice_id}")

    def payments_for_invoice(self, invoice_id: str) -> list[XeroPayment]:
        """Payments recorded against one invoice/bill."""
        where = f'Invoice.InvoiceID=guid("{invoice_id}")'
        return self._paged(XeroPayment, "Payments", {"where": where})

    def payments_for_credit_note(self, credit_note_id: str) -> list[XeroPayment]:
        """Refund payments recorded against one credit note."""
        where = f'CreditNote.CreditNoteID=guid("{credit_note_id}")'
        return self._paged(XeroPayment, "Payments", {"where": where})

    def get_credit_note(self, credit_note_id: str) -> XeroCreditNote:
        """One credit note by id (with ``RemainingCredit``)."""
        return self._one(
            XeroCreditNote,
            f"CreditNotes/{credit_note_id}",
            "CreditNotes",
            f"Credit note {credit_note_id}",
        )

    def allocate_credit_note(
        self,
        credit_note_id: str,
        invoice_id: str,
        amount: Decimal,
        on: date,
        idempotency_key: str,
    ) -> XeroAllocation:
        """Allocate ``amount`` of a credit note to an open bill, dated ``on``."""
        allocation = {
            "Invoice": {"InvoiceID": invoice_id},
            "Amount": amount,
            "Date": on.isoformat(),
        }
        response = self.request(
            "PUT",
            f"CreditNotes/{credit_note_id}/Allocations",
            json_body={"Allocations": [allocation]},
            idempotency_key=idempotency_key,
        )
        return self._written(XeroAllocation, response, "Allocations")

    def add_attachment(
        self, endpoint: str, document_id: str, file_name: str, content: bytes, mime: str
    ) -> XeroAttachment:
        """Attach a file (raw bytes) to a document."""
        response = self.request(
            "PUT",
            f"{endpoint}/{document_id}/Attachments/{quote(file_name)}",
            data=content,
            content_type=mime,
        )
        return self._written(XeroAttachment, response, "Attachments")

    def attachments(self, endpoint: str, document_id: str) -> list[XeroAttachment]:
        """The attachments of a document."""
        path = f"{endpoint}/{document_id}/Attachments"
        return self._list(XeroAttachment, path, "Attachments")

    def add_history_note(self, endpoint: str, document_id: str, details: str) -> None:
        """Add a note to a document's history (≤ 2,500 characters)."""
        self.request(
            "PUT",
            f"{endpoint}/{document_id}/History",
            json_body={"HistoryRecords": [{"Details": details[:2500]}]},
        )
