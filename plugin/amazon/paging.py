"""Reading getTransactions: a feed window split into chunks, and every page of each chunk.

- Windows longer than the client's ``max_feed_window`` (30 days by default) are split into
  consecutive chunks sharing their boundaries. Amazon documents no maximum (its example spans
  16 months), so the chunk size is our choice: it bounds the work lost to one failure and
  gives progress per chunk. A transaction on a boundary may come twice; the ledger dedupes on
  ``transactionId``. ``feedEndDate`` is rounded *up* to the second so nothing is cut off.
- Pages are parsed by ``plugin.amazon.models``: a bad transaction comes back as a
  ``ParseFailure`` with a reason; a page that is not a ``TransactionsResponse`` (or not JSON)
  raises ``AmazonMalformedPage`` (also a ``MalformedPage``) naming the window and page number.
  ``nextPageToken`` is sent alone; a token Amazon already sent stops with an error (no loop).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import requests

from plugin.amazon.errors import AmazonMalformedPage
from plugin.amazon.http import request_id_of
from plugin.amazon.models import MalformedPage
from plugin.amazon.models import ParseFailure
from plugin.amazon.models import Transaction
from plugin.amazon.models import TransactionsPage
from plugin.amazon.models import parse_transactions_page
from plugin.amazon.transport import AmazonTransport

log = logging.getLogger(__name__)

TRANSACTIONS_PATH = "/reconciliation/2021-01-08/transactions"
DEFAULT_FEED_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class FetchedPage:
    """One getTransactions page: where it came from, and what parsed and what did not."""

    label: str
    window_start: datetime
    window_end: datetime
    number: int
    page: TransactionsPage

    @property
    def transactions(self) -> tuple[Transaction, ...]:
        """The transactions that parsed."""
        return self.page.transactions

    @property
    def failures(self) -> tuple[ParseFailure, ...]:
        """The transactions that did not parse, each with its reason."""
        return self.page.failures


def amazon_time(moment: datetime, round_up: bool = False) -> str:
    """``2025-01-01T00:00:00Z`` (UTC, whole seconds) for a timezone-aware datetime."""
    if moment.tzinfo is None:
        raise ValueError("feed dates must be timezone-aware")
    moment = moment.astimezone(UTC)
    if round_up and moment.microsecond:
        moment = moment.replace(microsecond=0) + timedelta(seconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def split_window(
    start: datetime, end: datetime, size: timedelta
) -> list[tuple[datetime, datetime]]:
    """Consecutive ``(start, end)`` chunks of at most ``size`` covering ``start``..``end``."""
    if size <= timedelta(0):
        raise ValueError("the window size must be positive")
    chunks = []
    cursor = start
    while cursor < end:
        chunk_end = min(end, cursor + size)
        chunks.append((cursor, chunk_end))
        cursor = chunk_end
    return chunks


def transaction_pages(
    transport: AmazonTransport, start: datetime, end: datetime, max_window: timedelta
) -> Iterator[FetchedPage]:
    """Every page of transactions whose feed date is in ``start``..``end``, in order."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("feed dates must be timezone-aware")
    if start >= end:
        raise ValueError("the feed window must end after it starts")
    for window_start, window_end in split_window(start, end, max_window):
        yield from _window_pages(transport, window_start, window_end)


def _window_pages(
    transport: AmazonTransport, start: datetime, end: datetime
) -> Iterator[FetchedPage]:
    window = f"{amazon_time(start)}..{amazon_time(end, round_up=True)}"
    params: dict[str, str] = {
        "feedStartDate": amazon_time(start),
        "feedEndDate": amazon_time(end, round_up=True),
    }
    seen_tokens: set[str] = set()
    number = 1
    while True:
        label = f"{transport.store.display_name} transactions {window}, page {number}"
        response = transport.call("getTransactions", "GET", TRANSACTIONS_PATH, params=params)
        page = _parse_page(response, label)
        yield FetchedPage(label, start, end, number, page)
        token = page.next_page_token
        if not token:
            return
        if token in seen_tokens:
            raise AmazonMalformedPage(
                f"{label}: Amazon sent a nextPageToken it had already sent; stopped to "
                "avoid reading the same pages forever. Try the import again later.",
                operation="getTransactions",
                request_id=request_id_of(response),
            )
        seen_tokens.add(token)
        params = {"nextPageToken": token}
        number += 1


def _parse_page(response: requests.Response, label: str) -> TransactionsPage:
    request_id = request_id_of(response)
    try:
        body = response.json()
    except ValueError:
        raise AmazonMalformedPage(
            f"{label}: Amazon's answer is not JSON, so the page could not be read.",
            operation="getTransactions",
            status=response.status_code,
            request_id=request_id,
        ) from None
    try:
        return parse_transactions_page(body, label)
    except MalformedPage as exc:
        log.warning("Malformed getTransactions page: %s [request id %s]", exc, request_id)
        raise AmazonMalformedPage(
            str(exc), operation="getTransactions", request_id=request_id
        ) from exc
