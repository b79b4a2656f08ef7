"""``flask preview``'s work (design.md §7): TX.json, the mapping file and CHART.json in, what
posting would send out, with no network call and no database.

``load_transactions_file`` reads TX.json (a ``getTransactions`` response body). ``preview``
accepts already-decoded JSON or JSON text / bytes (read by ``json_text.read_json``, the rules of
the mapping page's upload); a malformed input is an ``InputFileError`` whose message is one line
naming the file, the place and what is wrong. The mapping file may be 2 MiB, as on the page;
TX.json and CHART.json, which an operator builds from Amazon's and Xero's answers (a large org's
chart of accounts alone can pass 2 MiB), up to ``DATA_FILE_BYTES`` (32 MiB).
"""

from __future__ import annotations

from typing import Any

from plugin.amazon.models import MalformedPage
from plugin.amazon.models import ParseFailure
from plugin.amazon.models import Transaction
from plugin.amazon.models import parse_transactions_page
from plugin.mapping.chart_file import ChartFileError
from plugin.mapping.chart_file import load_chart
from plugin.mapping.files import MappingFileError
from plugin.mapping.files import load_mapping
from plugin.mapping.json_files import InputFileError
from plugin.mapping.json_files import decoded
from plugin.posting import Document
from plugin.posting import PostingContext
from plugin.posting import translate_all

__all__ = ["DATA_FILE_BYTES", "TransactionsFileError", "load_transactions_file", "preview"]

DATA_FILE_BYTES = 32 * 1024 * 1024
"""The largest TX.json or CHART.json read (the mapping file: ``json_text.MAX_FILE_BYTES``)."""


class TransactionsFileError(InputFileError):
    """TX.json is malformed."""


def load_transactions_file(data: object, source: str) -> tuple[Transaction | ParseFailure, ...]:
    """Read TX.json (a ``getTransactions`` body): every element, parsed or failed, in order.

    Raises ``TransactionsFileError`` when the body itself is not the documented shape; a bad
    transaction inside it is a ``ParseFailure`` (held as ``parse_error``), not an error.
    """
    try:
        page = parse_transactions_page(data, source)
    except MalformedPage as exc:
        message = str(exc).removeprefix(f"{source}: ")
        raise TransactionsFileError(f"{source}: $: {message}") from None
    return page.in_order


def _document(document: Document) -> dict[str, Any]:
    """One document of the output; a card bill also carries the payment that follows it
    (``payment``: ``PaymentIntent.as_json``, sent once Xero has given the bill its id)."""
    shown: dict[str, Any] = {
        "endpoint": document.endpoint,
        "amazon_transaction_id": document.amazon_transaction_id,
        "body": document.body,
    }
    if document.payment is not None:
        shown["payment"] = document.payment.as_json()
    return shown


def preview(
    tx_json: object,
    map_json: object,
    chart_json: object,
    *,
    tx_source: str = "TX.json",
    map_source: str = "MAP.json",
    chart_source: str = "CHART.json",
    context: PostingContext | None = None,
) -> dict[str, Any]:
    """Return what posting would send (design.md §7 output); raise ``InputFileError`` if malformed.

    Every input transaction appears exactly once, in ``documents`` or in ``held`` (with its
    ``code`` as well as the ``reason``), each list in input order. A card bill (a purchase in
    another currency than its base-currency card account, mapped ``bill_paid_from_account``)
    carries its ``payment`` intent too.
    """
    transactions = load_transactions_file(
        decoded(tx_json, tx_source, TransactionsFileError, DATA_FILE_BYTES), tx_source
    )
    mapping = load_mapping(decoded(map_json, map_source, MappingFileError), map_source)
    chart = load_chart(
        decoded(chart_json, chart_source, ChartFileError, DATA_FILE_BYTES), chart_source
    )
    plan = translate_all(transactions, mapping, chart, context)
    return {
        "documents": [_document(d) for d in plan.documents],
        "held": [
            {"amazon_transaction_id": h.amazon_transaction_id, "reason": h.reason, "code": h.code}
            for h in plan.held
        ],
    }
