"""The tie-out report over 20,000 entries (the figures in docs/performance.md section 10 were
measured with ``TOTAL = 100_000``): computed by the database (a handful of statements, one
GROUP BY, never an entry at a time), exact to the cent against the same sums done in Python
with Decimal; the month filter of its links stays an index range scan (no timing asserts)."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import event
from sqlalchemy import insert

from plugin.manage.entries import EntryFilter
from plugin.manage.entries import entries_statements
from plugin.manage.tie_out import month_of
from plugin.manage.tie_out_query import tie_out_report
from plugin.models import LedgerEntry
from plugin.posting.dates import xero_zone
from tests.manage.test_entries import query_plan

TOTAL = 20_000  # 100,000 for the figures; the default run stays small
MINUTES_APART = 3 * 100_000 // TOTAL  # about seven months whatever TOTAL is
STATES = ("posted",) * 12 + ("held", "failed", "fetched", "ready", "by_hand", "cancelled")
LONDON = xero_zone("GMTSTANDARDTIME")
METHODS = ("Visa:4242", "Mastercard:5454", "Pay by Invoice:", None)


def amount_of(i: int, state: str) -> Decimal:
    if state == "cancelled":
        return Decimal("0.00")
    cents = Decimal(i % 9973 + 1) / 100  # 0.01 .. 99.73: every cent matters
    return -cents if i % 7 == 0 else cents  # one in seven a refund


def test_the_report_over_many_entries_is_sql_and_exact(db_session, make_member):
    _, org = make_member("alice", "tenant-a", timezone="GMTSTANDARDTIME")
    _, other = make_member("bob", "tenant-b")
    start = datetime(2025, 1, 1, tzinfo=UTC)
    rows, expected = [], {}
    for i in range(TOTAL):
        state = STATES[i % len(STATES)]
        mine = i % 50 != 0
        amount = amount_of(i, state)
        when = start + timedelta(minutes=MINUTES_APART * i)  # about seven months
        rows.append(
            {
                "organisation_id": org.id if mine else other.id,
                "amazon_transaction_id": f"tx-{i}",
                "transaction_type": "REFUND" if amount < 0 else "CHARGE",
                "transaction_date": when,
                "amount": amount,
                "currency": "EUR" if i % 11 == 0 else "GBP",
                "payment_method_key": METHODS[i % len(METHODS)],
                "state": state,
                "reason_code": "lock_date" if state in ("held", "failed") else None,
                "payload_hash": "",
                "needs_review": False,
                "attempts": 0,
                "created_at": start,
                "updated_at": start,
            }
        )
        if mine:
            key = (month_of(when, LONDON), rows[-1]["currency"])  # summer time from 30 Mar
            expected[key] = expected.get(key, Decimal("0.00")) + amount
    db_session.execute(insert(LedgerEntry), rows)
    db_session.commit()

    statements: list[str] = []
    engine = db_session.get_bind()

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        report = tie_out_report(db_session, org.id, org.timezone)
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert len(statements) <= 3, statements
    assert sum("GROUP BY" in s.upper() for s in statements) == 1
    assert {(m.month, m.currency): m.total.amazon.amount for m in report.months} == expected
    assert sum(m.total.amazon.count for m in report.months) == TOTAL - TOTAL // 50
    assert report.ties_out
    assert len(report.months) == 2 * 7  # seven months in two currencies

    if engine.dialect.name == "sqlite":
        wanted = EntryFilter(state="posted", month="2025-03", timezone=org.timezone)
        for statement in entries_statements(org.id, wanted):
            plan = query_plan(db_session, statement)
            assert re.search(r"USING (COVERING )?INDEX", plan), plan
            assert "TEMP B-TREE" not in plan, plan
