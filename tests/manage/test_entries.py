"""The entries list stays an index range scan with 100,000 entries (no timing asserts)."""

from __future__ import annotations

import re
from datetime import datetime
from datetime import timedelta

from plugin.manage.entries import PAGE_SIZE
from plugin.manage.entries import EntryFilter
from plugin.manage.entries import cursor_of
from plugin.manage.entries import entries_statements
from tests.common.manage import HTMX
from tests.common.manage import ready_org

TOTAL = 100_000
STATES = ("posted",) * 16 + ("held", "failed", "fetched", "ready")
REASONS = ("payment_method_unmapped", "tax_rate_unmapped", "account_archived")


COLUMNS = (
    "organisation_id",
    "amazon_transaction_id",
    "transaction_type",
    "transaction_date",
    "amount",
    "currency",
    "state",
    "reason_code",
    "reason",
    "payload_hash",
    "needs_review",
    "duplicate_cleared",
    "attempts",
    "created_at",
    "updated_at",
)


def bulk_entries(db_session, org_id: int, other_org_id: int) -> None:
    """100,000 entries for the org (and a few for another org), through the driver itself
    (COPY on PostgreSQL): the ORM's per-row work took most of this test's time. Dates are
    stored as ``UTCDateTime`` stores them (UTC, no zone)."""
    start = datetime(2025, 1, 1)
    sqlite = db_session.get_bind().dialect.name == "sqlite"

    def stamp(moment: datetime) -> object:  # SQLAlchemy's SQLite text form
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else moment

    rows = []
    for i in range(TOTAL):
        state = STATES[i % len(STATES)]
        attention = state in ("held", "failed")
        rows.append(
            (
                org_id if i % 50 else other_org_id,
                f"tx-{i}",
                "CHARGE",
                stamp(start + timedelta(minutes=i)),
                "10.00",
                "GBP",
                state,
                REASONS[i % 3] if attention else None,
                f"Reason {REASONS[i % 3]}" if attention else None,
                "",
                False,
                False,
                0,
                stamp(start),
                stamp(start),
            )
        )
    names = ", ".join(COLUMNS)
    connection = db_session.connection()
    if sqlite:
        marks = ", ".join("?" for _ in COLUMNS)
        cursor = connection.connection.cursor()
        cursor.executemany(f"INSERT INTO ledger_entry ({names}) VALUES ({marks})", rows)
        cursor.close()
    else:
        with (
            connection.connection.cursor() as cursor,
            cursor.copy(f"COPY ledger_entry ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
    db_session.commit()


def query_plan(db_session, statement) -> str:
    compiled = statement.compile(
        dialect=db_session.get_bind().dialect, compile_kwargs={"literal_binds": True}
    )
    rows = db_session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
    return "\n".join(str(row[-1]) for row in rows)


FILTERS = [
    EntryFilter(),
    EntryFilter(state="held"),
    EntryFilter(state="failed", before=90_000),
    EntryFilter(state="posted", before=50_000),
    EntryFilter(state="waiting"),
    EntryFilter(state="all"),
    EntryFilter(state="all", before=20_000),
    EntryFilter(reason_code="tax_rate_unmapped"),
    EntryFilter(state="held", reason_code="account_archived", before=70_000),
]


def test_a_page_of_entries_uses_an_index_with_100k_entries(
    app, client, make_member, db_session, sign_in
):
    user, org = ready_org(make_member, db_session)
    _other_user, other = make_member("user-2", "tenant-2", "Hudson Supplies Inc")
    bulk_entries(db_session, org.id, other.id)
    sign_in(client, user)
    for wanted in FILTERS:
        if db_session.get_bind().dialect.name == "sqlite":
            cursor = cursor_of(db_session, org.id, wanted.before)
            for statement in entries_statements(org.id, wanted, cursor=cursor):
                plan = query_plan(db_session, statement)
                assert re.search(r"USING (COVERING )?INDEX", plan), (wanted, plan)
                assert "TEMP B-TREE" not in plan, (wanted, plan)  # never sorts the org's rows
                assert not re.search(r"^SCAN ledger_entry", plan, re.M), (wanted, plan)
        response = client.get(
            f"/orgs/{org.id}/manage/entries", query_string=wanted.query_args(), headers=HTMX
        )
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        ids = [int(i) for i in re.findall(r'<tr id="entry-(\d+)"', body)]
        assert len(ids) == PAGE_SIZE, wanted
        assert ids == sorted(ids, reverse=True)
        assert "Older" in body
        if wanted.before:
            assert max(ids) < wanted.before
