"""Where an import is, as the job records it and as the import pages say it (issue 15 point 10).

The import job (``plugin.work.imports``) keeps one ``Progress`` and reports it (to the RQ job's
meta) before each page is asked of Amazon and after every ``CHUNK`` purchases of a page are
recorded, so a slow Amazon or a slow database both show as movement: "UK store: page 3 —
250 fetched, 180 new" and what is being done now ("Asking Amazon for the next page…",
"Recording page 4: 75 of 100…"). Amazon does not say how many purchases a range holds, so the
bar shows the share of the feed dates read so far (a store's window from its start to the
latest feed date seen), over all the organisation's stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from plugin.amazon.models import Transaction
from plugin.amazon.models import TransactionsPage
from plugin.amazon.paging import FetchedPage

CHUNK = 25
"""Purchases recorded (and committed) between two reports within a page."""

ASKING = "asking"
RECORDING = "recording"


@dataclass
class Progress:
    """Where an import is, for the progress bar (job meta) and the ImportRun row."""

    fetched: int = 0
    new: int = 0
    already_known: int = 0
    pages: int = 0
    done: bool = False
    outside_range: int = 0
    """Fetched (their feed date is in the window) but dated outside the range asked for."""
    store: str = ""
    """The store being read ("UK"), its page (counted over its feed windows) and its counts."""
    store_page: int = 0
    store_fetched: int = 0
    store_new: int = 0
    stage: str = ""
    """``ASKING`` Amazon for the next page, or ``RECORDING`` one (``recorded`` of ``on_page``)."""
    recorded: int = 0
    on_page: int = 0
    stores: int = 1
    store_index: int = 0
    store_share: float = 0.0
    """How much of the current store's feed window is read (0..1)."""

    def start_store(self, store: str, index: int, stores: int) -> None:
        """Begin reading ``store`` (the ``index``-th of ``stores``)."""
        self.store, self.store_index, self.stores = store, index, max(stores, 1)
        self.store_page = self.store_fetched = self.store_new = 0
        self.store_share = 0.0
        self.stage, self.recorded, self.on_page = ASKING, 0, 0

    def start_page(self, size: int) -> None:
        """A page of ``size`` purchases arrived; recording it begins."""
        self.store_page += 1
        self.pages += 1
        self.stage, self.recorded, self.on_page = RECORDING, 0, size

    def page_read(self, fetched: FetchedPage, window_start: datetime, window_end: datetime) -> None:
        """A page is recorded: the store's window is read up to it (never moves back); next,
        Amazon is asked for the next page."""
        share = min(max(page_share(fetched, window_start, window_end), 0.0), 1.0)
        self.store_share = max(self.store_share, share)
        self.stage = ASKING


def page_share(fetched: FetchedPage, window_start: datetime, window_end: datetime) -> float:
    """How far into the feed window ``window_start``..``window_end`` a page reaches: to the end
    of its own window on that window's last page, else to the latest feed date it carries."""
    span = (window_end - window_start).total_seconds()
    if span <= 0:
        return 0.0
    if not fetched.page.next_page_token:
        reached: datetime | None = fetched.window_end
    else:
        dates = [t.feed_date for t in fetched.page.transactions if t.feed_date is not None]
        reached = max(dates) if dates else None
    return 0.0 if reached is None else (reached - window_start).total_seconds() / span


def chunks(page: TransactionsPage, size: int = CHUNK) -> list[TransactionsPage]:
    """The page cut into pages of at most ``size`` elements, in Amazon's order (recorded and
    committed one after the other; recording is idempotent, so a stop between two is safe)."""
    items = page.in_order or (*page.transactions, *page.failures)
    if len(items) <= size:
        return [page]
    parts = []
    for first in range(0, len(items), size):
        part = items[first : first + size]
        parts.append(
            TransactionsPage(
                transactions=tuple(i for i in part if isinstance(i, Transaction)),
                failures=tuple(i for i in part if not isinstance(i, Transaction)),
                next_page_token=page.next_page_token,
                in_order=tuple(part),
            )
        )
    return parts


def doing(meta: dict[str, Any]) -> tuple[str, str]:
    """What a running import's job meta says, in words: (where it is, what it does now).

    ("UK store: page 3 — 250 fetched, 180 new", "Asking Amazon for the next page…"); empty
    strings when the meta says nothing yet.
    """
    store = str(meta.get("store") or "")
    if not store:
        return "", ""
    page = int(meta.get("store_page") or 0)
    fetched, new = int(meta.get("store_fetched") or 0), int(meta.get("store_new") or 0)
    where = f"{store} store: " + (
        f"page {page} — {fetched} fetched, {new} new" if page else "starting"
    )
    if meta.get("stage") == RECORDING:
        recorded, size = int(meta.get("recorded") or 0), int(meta.get("on_page") or 0)
        now = f"Recording page {page}: {recorded} of {size}…"
    else:
        now = "Asking Amazon for the next page…" if page else "Asking Amazon for page 1…"
    return where, now


def percent(meta: dict[str, Any]) -> int:
    """The bar's value for a running import's meta (0..99: 100 only once it has finished)."""
    stores = max(int(meta.get("stores") or 1), 1)
    share = (int(meta.get("store_index") or 0) + float(meta.get("store_share") or 0.0)) / stores
    return max(0, min(int(share * 100), 99))
