"""An import reports where it is while it runs (issue 15 point 10): before each page is asked
of Amazon and after every chunk of a page recorded, naming the store, the page and its counts,
with the bar's share of the feed dates never moving back."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from plugin.db import session_scope
from plugin.models import ImportRun
from plugin.work import import_progress
from plugin.work.import_progress import Progress
from plugin.work.imports import run_import
from tests.common.pipeline import import_days


@pytest.fixture
def sandbox_config():
    return {"SANDBOX_AMAZON_TRANSACTIONS": 300, "SANDBOX_AMAZON_PAGE_SIZE": 60}


def test_an_import_says_store_page_and_counts_as_it_goes(pipeline):
    app, _client, org = pipeline
    run = import_days(app, org, days=90)  # queued; run here, in this process, to see reports
    reports: list[dict] = []

    def report(progress: Progress) -> None:
        reports.append(asdict(progress))

    with session_scope(app) as db:
        finished = run_import(db, app, run.id, "test-holder", report)
        assert finished.state == "succeeded"
        stored = db.get(ImportRun, run.id)
        fetched, new = stored.fetched, stored.new
    words = [import_progress.doing(meta) for meta in reports]
    assert words[0] == ("UK store: starting", "Asking Amazon for page 1…")
    pages = max(meta["store_page"] for meta in reports)
    assert pages >= 5  # 300 purchases, 60 a page
    first_chunk = words[1]  # a page of up to 60 (fewer when some are dated outside the range)
    assert first_chunk[0] == "UK store: page 1 — 25 fetched, 25 new"
    assert first_chunk[1].startswith("Recording page 1: 25 of ")
    assert any(now == "Asking Amazon for the next page…" for _, now in words)
    last = reports[-1]
    assert last["done"]
    assert (last["store_fetched"], last["store_new"]) == (fetched, new)
    where = import_progress.doing(last)[0]
    assert where == f"UK store: page {pages} — {fetched} fetched, {new} new"
    shares = [import_progress.percent(meta) for meta in reports]
    assert shares == sorted(shares)
    assert (shares[0], shares[-1]) == (0, 99)
    # Every page is reported more than once (asked, recorded in chunks): movement on a long page.
    assert len(reports) >= 3 * pages
