"""Deep links into Xero's web app for a posted document (pure: no Flask, no network)."""

from __future__ import annotations

from urllib.parse import quote
from urllib.parse import urlencode

XERO_GO_URL = "https://go.xero.com"

# Our ledger stores the Accounting API endpoint a document was posted to.
_PATHS = {
    "BankTransactions": ("/Bank/ViewTransaction.aspx", "bankTransactionID"),
    "Invoices": ("/AccountsPayable/View.aspx", "InvoiceID"),
    "CreditNotes": ("/AccountsPayable/ViewCreditNote.aspx", "creditNoteID"),
}

DOCUMENT_NAMES = {
    "BankTransactions": "Bank transaction",
    "Invoices": "Bill",
    "CreditNotes": "Credit note",
}


def document_url(doc_type: str | None, doc_id: str | None, short_code: str | None = None) -> str:
    """The go.xero.com page of a document, or "" when there is no document to link to.

    ``short_code`` (the organisation's Xero short code) makes Xero open the right organisation
    for users with several; without it Xero opens the one last used.
    """
    if not doc_type or not doc_id or doc_type not in _PATHS:
        return ""
    path, parameter = _PATHS[doc_type]
    query = {parameter: doc_id}
    if short_code:
        return (
            f"{XERO_GO_URL}/organisationlogin/default.aspx?shortcode={quote(short_code)}"
            f"&redirecturl={quote(path + '?' + urlencode(query), safe='')}"
        )
    return f"{XERO_GO_URL}{path}?{urlencode(query)}"


def document_name(doc_type: str | None) -> str:
    """What Xero calls the document ("Bill", "Bank transaction", ...)."""
    return DOCUMENT_NAMES.get(doc_type or "", "Document")
