"""Reading the spend and receive money on one bank account for the bank-feed guard: every
document dated in a window, or only the ones changed since a moment (``If-Modified-Since``), a
thousand a page, so a posting run costs one call per card account (``ledger.bank_feed_guard``).
"""

from __future__ import annotations

from datetime import date
from datetime import datetime
from typing import Any
from typing import Protocol

from plugin.xero.filters import bank_account_window
from plugin.xero.models import XeroBankTransaction
from plugin.xero.models import parse_items
from plugin.xero.wire import json_or_none

BIG_PAGE = 1000  # Xero's largest page (pageSize)


class Requests(Protocol):
    """The one method of ``XeroClient`` this needs."""

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        modified_since: datetime | None = None,
    ) -> Any: ...


def bank_transactions_in(
    client: Requests, account: str, start: date, end: date, modified_since: datetime | None
) -> list[XeroBankTransaction]:
    """Documents on ``account`` dated start..end: the live ones, or with ``modified_since``
    every one changed since then whatever its status (a document deleted since must be seen)."""
    where = bank_account_window(account, start, end, live_only=modified_since is None)
    found: list[XeroBankTransaction] = []
    page = 1
    while True:
        params = {"where": where, "page": page, "pageSize": BIG_PAGE}
        response = client.request(
            "GET", "BankTransactions", params=params, modified_since=modified_since
        )
        items = parse_items(XeroBankTransaction, json_or_none(response), "BankTransactions")
        found.extend(items)
        if len(items) < BIG_PAGE:
            return found
        page += 1
