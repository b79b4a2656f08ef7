"""Reading one document and changing one document in place (``POST /{Endpoint}/{id}``), for
corrections (``ledger.corrections``), through the client's one ``request`` method.

Both return the document's JSON as Xero shows it (numbers exact): corrections compare it with
what they meant to send, and keep a summary of it in the entry's audit trail.
"""

from __future__ import annotations

from typing import Any
from typing import Protocol

from plugin.xero.errors import XeroMalformedResponse
from plugin.xero.errors import XeroNotFound
from plugin.xero.wire import json_or_none

EDITABLE = ("BankTransactions", "Invoices", "CreditNotes")


class Requests(Protocol):
    """The one method of ``XeroClient`` this needs."""

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        idempotency_key: str | None = None,
    ) -> Any: ...


def _the_document(body: Any, endpoint: str, what: str) -> dict[str, Any]:
    found = body.get(endpoint) if isinstance(body, dict) else None
    if not isinstance(found, list) or not found or not isinstance(found[0], dict):
        raise XeroMalformedResponse(f"Xero returned no {endpoint} for {what}")
    return found[0]


def read_document(client: Requests, endpoint: str, document_id: str) -> dict[str, Any]:
    """One bank transaction, bill or credit note by id (``IsReconciled``, payments, lines)."""
    if endpoint not in EDITABLE:
        raise ValueError(f"unsupported endpoint {endpoint}")
    response = client.request("GET", f"{endpoint}/{document_id}")
    body = json_or_none(response)
    if isinstance(body, dict) and not body.get(endpoint):
        raise XeroNotFound(f"{endpoint} {document_id} not found", 404)
    return _the_document(body, endpoint, f"GET {endpoint}/{document_id}")


def change_document(
    client: Requests,
    endpoint: str,
    document_id: str,
    element: dict[str, Any],
    idempotency_key: str,
) -> dict[str, Any]:
    """Send one change (new lines, or ``Status`` DELETED/VOIDED) with its key; Xero's answer.

    Raises the client's errors: ``XeroValidationError`` when Xero refuses the change.
    """
    if endpoint not in EDITABLE:
        raise ValueError(f"unsupported endpoint {endpoint}")
    response = client.request(
        "POST",
        f"{endpoint}/{document_id}",
        json_body={endpoint: [element]},
        idempotency_key=idempotency_key,
    )
    return _the_document(json_or_none(response), endpoint, f"POST {endpoint}/{document_id}")
