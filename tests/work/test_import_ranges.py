"""Import ranges (spec §9 item 6): fetch by feed date, judge the range by transaction date.

The sandbox feeds some purchases 45 days after they were made, as Amazon does (months, in real
data). A person's import of a range of days must record such a purchase however late it was
fed, and an import of the days it was *fed* on must not count it.
"""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

import pytest
import requests
from sqlmodel import select

from plugin.amazon.models import parse_transaction
from plugin.amazon.models import parse_transactions_page
from plugin.db import session_scope
from plugin.models import AuditEvent
from plugin.models import ImportRun
from plugin.models import ImportTrigger
from plugin.models import Organisation
from plugin.work.import_ranges import feed_window
from plugin.work.import_ranges import keep_in_range
from plugin.work.imports import start_import
from tests.common.amazon_payloads import transaction
from tests.common.pipeline import ledger_entries

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 1, 31, 23, 59, 59, tzinfo=UTC)


def _run(trigger: str) -> ImportRun:
    return ImportRun(organisation_id=1, trigger=trigger, range_start=START, range_end=END)


def test_a_persons_import_reads_feed_dates_up_to_now_and_a_sync_its_own_window():
    now = datetime(2026, 6, 1, tzinfo=UTC)
    assert feed_window(_run(ImportTrigger.MANUAL), now) == (START, now)
    assert feed_window(_run(ImportTrigger.HISTORICAL), now) == (START, now)
    assert feed_window(_run(ImportTrigger.SCHEDULED), now) == (START, END)


def test_keep_in_range_judges_by_transaction_date_and_keeps_what_cannot_be_dated():
    page = parse_transactions_page(
        {
            "transactions": [
                transaction(transaction_id="in-range", date="2026-01-15T10:00:00Z"),
                transaction(transaction_id="before", date="2025-12-31T23:59:59Z"),
                transaction(transaction_id="after", date="2026-02-01T00:00:00Z"),
                {"transactionId": "undated", "transactionType": "CHARGE"},
                {"transactionId": "unreadable", "amount": "lots"},
            ]
        },
        "page 1",
    )
    kept, left = keep_in_range(page, START, END)
    assert [t.transaction_id for t in kept.transactions] == ["in-range", "undated"]
    assert [f.transaction_id for f in kept.failures] == ["unreadable"]
    assert [getattr(i, "transaction_id", None) for i in kept.in_order] == [
        "in-range",
        "undated",
        "unreadable",
    ]
    assert [t.transaction_id for t in left] == ["before", "after"]
    assert parse_transaction(transaction()).transaction_id  # the helper makes readable ones


def _sandbox_transactions(sandbox) -> list[dict]:
    answer = requests.get(
        f"{sandbox.url}/_sandbox/amazon/transactions",
        params={"account": "thames", "store": "UK"},
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()["transactions"]


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _import(app, org, start: date, end: date) -> int:
    with session_scope(app) as db:
        stored = db.get(Organisation, org.id)
        run = start_import(db, app, stored, start, end, ImportTrigger.MANUAL, actor="test")
        return int(run.id or 0)


def _dated_in(transactions: list[dict], start: date, end: date) -> set[str]:
    return {
        tx["transactionId"]
        for tx in transactions
        if start <= _moment(tx["transactionDate"]).date() <= end
    }


def test_a_purchase_fed_weeks_late_belongs_to_the_range_of_its_date(pipeline, sandbox, run_jobs):
    app, _client, org = pipeline
    transactions = _sandbox_transactions(sandbox)
    lagging = [
        tx
        for tx in transactions
        if _moment(tx["feedDate"]) - _moment(tx["transactionDate"]) >= timedelta(days=30)
    ]
    assert lagging, "the sandbox should feed some purchases weeks after they were made"
    late = lagging[0]
    made = _moment(late["transactionDate"]).date()
    fed = _moment(late["feedDate"]).date()
    if (fed - made).days < 4:  # pragma: no cover - the sandbox lags by 45 days
        pytest.skip("feed lag too short for two disjoint ranges")

    # First the days it was fed on: a feed-date import would have counted it here.
    fed_range = (fed - timedelta(days=1), fed)
    fed_run = _import(app, org, *fed_range)
    run_jobs(queues=("high",))
    with session_scope(app) as db:
        run = db.get(ImportRun, fed_run)
        notes = list(db.exec(select(AuditEvent).where(AuditEvent.action == "import_outside_range")))
    expected = _dated_in(transactions, *fed_range)
    recorded = {e.amazon_transaction_id for e in ledger_entries(app, org)}
    assert late["transactionId"] not in recorded
    assert recorded == expected
    assert run.state == "succeeded"
    assert run.fetched == run.new == len(expected)
    assert notes
    assert late["transactionId"] in notes[0].detail["transaction_ids"]

    # Then the days it was made on, imported long after: it is found and counted there.
    made_range = (made, made + timedelta(days=1))
    made_run = _import(app, org, *made_range)
    run_jobs(queues=("high",))
    with session_scope(app) as db:
        run = db.get(ImportRun, made_run)
    expected_made = _dated_in(transactions, *made_range)
    entries = {e.amazon_transaction_id: e for e in ledger_entries(app, org)}
    assert late["transactionId"] in entries
    assert set(entries) == expected | expected_made
    assert run.fetched == len(expected_made)
    assert run.new == len(expected_made - expected)
    for entry_id in expected_made:
        when = entries[entry_id].transaction_date
        assert made_range[0] <= when.astimezone(UTC).date() <= made_range[1]
