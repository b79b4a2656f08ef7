"""The Xero Accounting API client: one class, one place for headers, paging, limits and errors.

Every call passes the shared Redis rate limiter (5 concurrent, 60/min, the daily budget, the
app-wide minute limit), which also learns from Xero's ``X-*-Remaining`` headers. Errors come
back as our own exception types (``plugin.xero.errors``). Batch writes use
``summarizeErrors=false`` and return per-element results as data, not exceptions. A 401 gets one
token refresh and one retry; anything that may have reached Xero without an answer raises
``XeroConnectionLost`` so the caller can recover by looking the documents up.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Protocol
from urllib.parse import quote

import requests

from plugin.infra.ratelimit import RateLimitWait
from plugin.infra.ratelimit import XeroRateLimiter
from plugin.xero.errors import ElementError
from plugin.xero.errors import XeroConnectionLost
from plugin.xero.errors import XeroConnectionRevoked
from plugin.xero.errors import XeroError
from plugin.xero.errors import XeroNeedsReconnect
from plugin.xero.errors import XeroNotFound
from plugin.xero.errors import XeroRateLimited
from plugin.xero.errors import XeroServerError
from plugin.xero.errors import XeroUnavailable
from plugin.xero.errors import XeroValidationError

log = logging.getLogger(__name__)

TIMEOUT = (5, 60)
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


@dataclass
class ElementResult:
    """The outcome of one element of a batch write."""

    index: int
    ok: bool
    xero_id: str | None
    messages: list[str] = field(default_factory=list)
    element: dict[str, Any] = field(default_factory=dict)


def _element_messages(element: dict[str, Any]) -> list[str]:
    return [
        str(error.get("Message", ""))
        for error in element.get("ValidationErrors") or []
        if isinstance(error, dict)
    ]


def _quote_where(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


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
    ) -> None:
        self.tenant_id = tenant_id
        self.tokens = tokens
        self.limiter = limiter
        self.base = api_url.rstrip("/") + "/api.xro/2.0"
        self.http = http or requests.Session()
        self.max_wait = max_wait

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
    ) -> requests.Response:
        """Send one call through the limiter; map every failure to our exception types."""
        headers = {"xero-tenant-id": self.tenant_id, "Accept": "application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
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
                        json=json_body,
                        data=data,
                        headers=headers,
                        timeout=TIMEOUT,
                    )
            except RateLimitWait as wait:
                raise XeroRateLimited(wait.retry_after, wait.limit) from wait
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise XeroConnectionLost(
                    f"No answer from Xero for {method} {path}: the request may or may not have "
                    "been processed.",
                    timed_out=isinstance(exc, requests.ReadTimeout),
                ) from exc
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
        body = _json_or_none(response)
        where = f"{method} {path}"
        if correlation:
            log.warning("Xero %s on %s (correlation id %s)", status, where, correlation)
        if status == 400:
            raise _validation_error(body, response.text, correlation)
        if status == 401:
            reason = "Xero no longer accepts this organisation's tokens. Reconnect to Xero."
            self.tokens.mark_needs_reconnect(reason)
            raise XeroNeedsReconnect(reason, 401, correlation)
        if status == 403:
            detail = _detail(body) or "AuthenticationUnsuccessful"
            raise XeroConnectionRevoked(
                f"Xero refused access to this organisation ({detail}): it may have been "
                "disconnected from the app in Xero.",
                403,
                correlation,
            )
        if status == 404:
            raise XeroNotFound(f"Not found in Xero: {where}", 404, correlation)
        if status == 429:
            retry_after = _float(response.headers.get("Retry-After"), 60.0)
            problem = response.headers.get("X-Rate-Limit-Problem", "minute")
            self.limiter.on_rate_limited(self.tenant_id, retry_after, problem)
            raise XeroRateLimited(retry_after, problem.lower(), correlation)
        if status == 503:
            text = response.text.strip()[:200] or "Service unavailable"
            raise XeroUnavailable(f"Xero is unavailable: {text}", 503, correlation)
        if status >= 500:
            raise XeroServerError(
                f"Xero failed with HTTP {status} on {where}: {_detail(body) or 'no details'}",
                status,
                correlation,
            )
        raise XeroError(f"Xero answered HTTP {status} on {where}", status, correlation)

    def get_json(self, path: str, **params: Any) -> dict[str, Any]:
        """GET a path and return its JSON object."""
        body = _json_or_none(self.request("GET", path, params=params or None))
        if not isinstance(body, dict):
            raise XeroServerError(f"Xero returned no JSON object for GET {path}")
        return body

    def _paged(self, endpoint: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        page = 1
        while True:
            items = self.get_json(endpoint, **params, page=page).get(endpoint) or []
            yield from items
            if len(items) < PAGE_SIZE:
                return
            page += 1

    # Settings -------------------------------------------------------------------------------
    def organisation(self) -> dict[str, Any]:
        """The organisation's details (name, country, base currency, lock dates)."""
        organisations = self.get_json("Organisation").get("Organisations") or []
        if not organisations:
            raise XeroServerError("Xero returned no organisation")
        return dict(organisations[0])

    def organisation_actions(self) -> dict[str, bool]:
        """Which actions the organisation's plan allows (CreateApprovedBill, UseMulticurrency…)."""
        actions = self.get_json("Organisation/Actions").get("Actions") or []
        return {a.get("Name", ""): a.get("Status") == "ALLOWED" for a in actions}

    def accounts(self, where: str | None = None) -> list[dict[str, Any]]:
        """The chart of accounts (optionally filtered)."""
        params = {"where": where} if where else {}
        return list(self.get_json("Accounts", **params).get("Accounts") or [])

    def tax_rates(self) -> list[dict[str, Any]]:
        """Every tax rate of the organisation."""
        return list(self.get_json("TaxRates").get("TaxRates") or [])

    def currencies(self) -> list[dict[str, Any]]:
        """The currencies the organisation has enabled."""
        return list(self.get_json("Currencies").get("Currencies") or [])

    # Contacts ---------------------------------------------------------------------------------
    def find_contacts(
        self,
        where: str | None = None,
        search_term: str | None = None,
        include_archived: bool = True,
    ) -> list[dict[str, Any]]:
        """Contacts matching a ``where`` filter or a search term."""
        params: dict[str, Any] = {"includeArchived": str(include_archived).lower()}
        if where:
            params["where"] = where
        if search_term:
            params["searchTerm"] = search_term
        return list(self._paged("Contacts", params))

    def contacts_named(self, name: str) -> list[dict[str, Any]]:
        """Contacts whose name is exactly ``name`` (archived ones included)."""
        return self.find_contacts(where=f'Name=="{_quote_where(name)}"')

    def get_contact(self, contact_id: str) -> dict[str, Any]:
        """One contact by id (raises XeroNotFound when it was deleted)."""
        contacts = self.get_json(f"Contacts/{contact_id}").get("Contacts") or []
        if not contacts:
            raise XeroNotFound(f"Contact {contact_id} not found", 404)
        return dict(contacts[0])

    def create_contact(self, contact: dict[str, Any]) -> dict[str, Any]:
        """Create one contact and return it."""
        body = _json_or_none(self.request("PUT", "Contacts", json_body={"Contacts": [contact]}))
        return dict((body or {}).get("Contacts", [{}])[0])

    def update_contact(self, contact_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Update one contact (e.g. restore its name or status)."""
        response = self.request("POST", f"Contacts/{contact_id}", json_body={"Contacts": [changes]})
        return dict((_json_or_none(response) or {}).get("Contacts", [{}])[0])

    # Documents --------------------------------------------------------------------------------
    def create_documents(
        self, endpoint: str, elements: Sequence[dict[str, Any]], idempotency_key: str
    ) -> list[ElementResult]:
        """Create a batch (≤ 50) of BankTransactions / Invoices / CreditNotes / Payments.

        Each element's outcome comes back as data; the request as a whole raises only when Xero
        did not process it (rate limit, outage, lost connection, auth).
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
        returned = (_json_or_none(response) or {}).get(endpoint) or []
        if len(returned) != len(elements):
            raise XeroServerError(
                f"Xero returned {len(returned)} results for {len(elements)} {endpoint}"
            )
        results = []
        for index, element in enumerate(returned):
            messages = _element_messages(element)
            ok = element.get("StatusAttributeString", "OK") != "ERROR" and not messages
            results.append(
                ElementResult(
                    index=index,
                    ok=ok,
                    xero_id=element.get(ID_FIELDS[endpoint]) if ok else None,
                    messages=messages,
                    element=element,
                )
            )
        return results

    def find_bank_transactions_by_reference(self, references: Sequence[str]) -> list[dict]:
        """Bank transactions whose Reference is one of ``references`` (any status)."""
        found: list[dict[str, Any]] = []
        for chunk in _chunks(list(references), 20):
            where = " OR ".join(f'Reference=="{_quote_where(r)}"' for r in chunk)
            found.extend(self._paged("BankTransactions", {"where": where}))
        return found

    def find_invoices_by_numbers(self, numbers: Sequence[str]) -> list[dict[str, Any]]:
        """Bills/invoices by InvoiceNumber (ACCPAY numbers are not unique: filter by contact)."""
        found: list[dict[str, Any]] = []
        for chunk in _chunks(list(numbers), 40):
            found.extend(self._paged("Invoices", {"InvoiceNumbers": ",".join(chunk)}))
        return found

    def find_credit_notes(self, where: str) -> list[dict[str, Any]]:
        """Credit notes matching a ``where`` filter."""
        return list(self._paged("CreditNotes", {"where": where}))

    def get_invoice(self, invoice_id: str) -> dict[str, Any]:
        """One invoice/bill by id."""
        invoices = self.get_json(f"Invoices/{invoice_id}").get("Invoices") or []
        if not invoices:
            raise XeroNotFound(f"Invoice {invoice_id} not found", 404)
        return dict(invoices[0])

    def payments_for_invoice(self, invoice_id: str) -> list[dict[str, Any]]:
        """Payments recorded against one invoice/bill."""
        return list(self._paged("Payments", {"where": f'Invoice.InvoiceID=guid("{invoice_id}")'}))

    def get_credit_note(self, credit_note_id: str) -> dict[str, Any]:
        """One credit note by id (with ``RemainingCredit``)."""
        notes = self.get_json(f"CreditNotes/{credit_note_id}").get("CreditNotes") or []
        if not notes:
            raise XeroNotFound(f"Credit note {credit_note_id} not found", 404)
        return dict(notes[0])

    def allocate_credit_note(
        self, credit_note_id: str, invoice_id: str, amount: float, date: str, idempotency_key: str
    ) -> dict[str, Any]:
        """Allocate (part of) a credit note to an open bill."""
        body = {
            "Allocations": [{"Invoice": {"InvoiceID": invoice_id}, "Amount": amount, "Date": date}]
        }
        response = self.request(
            "PUT",
            f"CreditNotes/{credit_note_id}/Allocations",
            json_body=body,
            idempotency_key=idempotency_key,
        )
        return dict((_json_or_none(response) or {}).get("Allocations", [{}])[0])

    def add_attachment(
        self, endpoint: str, document_id: str, file_name: str, content: bytes, mime: str
    ) -> dict[str, Any]:
        """Attach a file (raw bytes) to a document."""
        response = self.request(
            "PUT",
            f"{endpoint}/{document_id}/Attachments/{quote(file_name)}",
            data=content,
            content_type=mime,
        )
        return dict((_json_or_none(response) or {}).get("Attachments", [{}])[0])

    def attachments(self, endpoint: str, document_id: str) -> list[dict[str, Any]]:
        """The attachments of a document."""
        return list(self.get_json(f"{endpoint}/{document_id}/Attachments").get("Attachments") or [])

    def add_history_note(self, endpoint: str, document_id: str, details: str) -> None:
        """Add a note to a document's history (≤ 2,500 characters)."""
        self.request(
            "PUT",
            f"{endpoint}/{document_id}/History",
            json_body={"HistoryRecords": [{"Details": details[:2500]}]},
        )


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _detail(body: Any) -> str:
    if isinstance(body, dict):
        for key in ("Detail", "detail", "Message", "message", "Title", "title"):
            if body.get(key):
                return str(body[key])
    return ""


def _float(value: str | None, default: float) -> float:
    try:
        return max(0.0, float(value)) if value is not None else default
    except ValueError:
        return default


def _validation_error(body: Any, text: str, correlation: str) -> XeroValidationError:
    if not isinstance(body, dict):
        return XeroValidationError(
            f"Xero rejected the request: {text.strip()[:300] or 'no details'}",
            correlation_id=correlation,
        )
    elements = []
    for index, element in enumerate(body.get("Elements") or []):
        if isinstance(element, dict):
            elements.append(ElementError(index, _element_messages(element), element))
    message = str(body.get("Message") or _detail(body) or "Xero rejected the request")
    return XeroValidationError(message, elements, correlation_id=correlation)
