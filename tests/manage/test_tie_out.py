"""The tie-out report's computation: the pure part on plain rows (refunds, held by reason, by
hand, linked, cancelled, waiting, a state it does not know, a difference Amazon made), and the
SQL on the database (months in the organisation's time zone, currencies, open corrections)."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from decimal import Decimal

from plugin.ledger.correction_model import Correction
from plugin.ledger.correction_model import CorrectionCause
from plugin.ledger.correction_model import CorrectionState
from plugin.manage.entries import EntryFilter
from plugin.manage.entries import list_entries
from plugin.manage.tie_out import UNDATED
from plugin.manage.tie_out import Bucket
from plugin.manage.tie_out import Change
from plugin.manage.tie_out import GroupRow
from plugin.manage.tie_out import bucket_of
from plugin.manage.tie_out import build_report
from plugin.manage.tie_out import month_bounds
from plugin.manage.tie_out import month_of
from plugin.manage.tie_out import valid_month
from plugin.manage.tie_out_chart import charts_of
from plugin.manage.tie_out_page import csv_rows
from plugin.manage.tie_out_query import tie_out_report
from plugin.models import LedgerEntry
from tests.common.amazon_payloads import uk_card_charge
from tests.common.amazon_payloads import uk_line
from tests.common.tie_out import entry

D = Decimal
SYDNEY = "AUSEASTERNSTANDARDTIME"  # Xero's Windows-style name: UTC+11 in January


def row(state, amount, count=1, reason=None, month="2026-03", method="Visa:4242", currency="GBP"):
    return GroupRow(month, method, currency, state, reason, count, D(amount))


# --- The pure part ------------------------------------------------------------------------------


def test_every_state_has_its_bucket_and_any_other_state_waits():
    assert bucket_of("posted", None) == Bucket.POSTED
    assert bucket_of("by_hand", "posted_by_hand") == Bucket.BY_HAND
    assert bucket_of("by_hand", "already_in_xero") == Bucket.LINKED
    assert bucket_of("cancelled", "amazon_cancelled") == Bucket.CANCELLED
    assert bucket_of("held", "lock_date") == Bucket.HELD
    assert bucket_of("failed", "xero_rejected") == Bucket.FAILED
    for state in ("fetched", "ready", "posting", "review", "something_new"):
        assert bucket_of(state, None) == Bucket.WAITING


def test_a_month_ties_out_with_refunds_held_by_hand_linked_cancelled_and_waiting():
    report = build_report(
        [
            row("posted", "1000.10", 7),
            row("posted", "-35.98", 2),  # refunds: negative
            row("by_hand", "12.00", 1, "posted_by_hand"),
            row("by_hand", "40.00", 1, "already_in_xero"),
            row("cancelled", "0.00", 1, "amazon_cancelled"),
            row("held", "20.00", 2, "lock_date"),
            row("held", "5.55", 1, "unmapped_tax_rate"),
            row("failed", "3.00", 1, "xero_rejected"),
            row("ready", "9.99", 1),
            row("review", "1.01", 1),  # a state added later: waiting
        ]
    )
    (month,) = report.months
    line = month.total
    assert line.amazon.amount == D("1055.67")
    assert line.amazon.count == 18
    assert line.figure(Bucket.POSTED).amount == D("964.12")
    assert line.figure(Bucket.BY_HAND).amount == D("12.00")
    assert line.figure(Bucket.LINKED).amount == D("40.00")
    assert line.figure(Bucket.CANCELLED).count == 1
    assert line.in_xero.amount == D("1016.12")
    assert line.held.amount == D("28.55")
    assert line.held.count == 4
    assert line.waiting.amount == D("11.00")
    assert line.difference == D("0.00")
    assert report.ties_out
    reasons = {(bucket, code): figure.amount for bucket, code, _, figure in line.held_reasons()}
    assert reasons == {
        (Bucket.HELD, "lock_date"): D("20.00"),
        (Bucket.HELD, "unmapped_tax_rate"): D("5.55"),
        (Bucket.FAILED, "xero_rejected"): D("3.00"),
    }
    labels = {code: label for _, code, label, _ in line.held_reasons()}
    assert line.held_reasons()[0][1] == "lock_date"  # the most purchases first
    assert labels["lock_date"] == "Dated on or before the org's lock date."
    assert labels["xero_rejected"].startswith("Refused by Xero")


def test_methods_currencies_and_months_are_lines_of_their_own():
    report = build_report(
        [
            row("posted", "10.00", method="Visa:4242"),
            row("posted", "20.00", method="Pay by Invoice:"),
            row("posted", "30.00", currency="EUR"),
            row("posted", "40.00", month="2026-02"),
            row("held", "1.00", reason="parse_error", month=UNDATED, method=None),
        ]
    )
    keys = [(m.month, m.currency, [line.method for line in m.lines]) for m in report.months]
    assert keys == [
        ("2026-03", "EUR", ["Visa:4242"]),
        ("2026-03", "GBP", ["Pay by Invoice:", "Visa:4242"]),
        ("2026-02", "GBP", ["Visa:4242"]),
        (UNDATED, "GBP", [None]),
    ]
    assert report.months[1].total.amazon.amount == D("30.00")
    assert report.currencies == ["EUR", "GBP"]


def test_a_change_amazon_made_after_posting_is_the_difference_and_says_which():
    change = Change("2026-03", "Visa:4242", "GBP", "TX-9", D("50.00"), D("45.50"), "held")
    report = build_report([row("posted", "150.00", 3)], [change])
    line = report.months[0].total
    assert line.amazon.amount == D("145.50")  # Amazon's data: the newer version
    assert line.in_xero.amount == D("150.00")  # what Xero shows: as posted
    assert line.difference == D("-4.50")
    assert not line.ties_out
    assert not report.ties_out
    assert report.changes() == [change]


def test_the_csv_rows_are_to_the_cent_and_end_each_month_with_its_total():
    rows = csv_rows(
        build_report([row("posted", "10.5"), row("held", "2", reason="lock_date")]),
        {"Visa:4242": "Visa ending 4242"},
    )
    assert rows[0][:4] == ["month", "payment_method", "currency", "amazon_total"]
    head = rows[0]
    first, total = (dict(zip(head, r, strict=True)) for r in rows[1:])
    assert first["payment_method"] == "Visa ending 4242"
    assert first["amazon_total"] == "12.50"
    assert first["in_xero"] == first["posted_by_app"] == "10.50"
    assert first["held"] == "2.00"
    assert first["held_reasons"] == "Dated on or before the org's lock date.: 2.00 (1)"
    assert first["difference"] == "0.00"
    assert first["ties_out"] == "yes"
    assert total["payment_method"] == "All"


def test_months_are_the_organisations_own():
    zone = __import__("plugin.posting.dates", fromlist=["xero_zone"]).xero_zone(SYDNEY)
    assert month_of(datetime(2026, 1, 31, 12, 59, tzinfo=UTC), zone) == "2026-01"
    assert month_of(datetime(2026, 1, 31, 13, 0, tzinfo=UTC), zone) == "2026-02"  # midnight
    start, end = month_bounds("2026-02", zone)
    assert start == datetime(2026, 1, 31, 13, 0, tzinfo=UTC)
    assert end == datetime(2026, 2, 28, 13, 0, tzinfo=UTC)
    assert month_bounds("2026-12", None)[1] == datetime(2027, 1, 1, tzinfo=UTC)
    assert valid_month("2026-13") is None
    assert valid_month("x") is None
    assert valid_month("2026-03") == "2026-03"


def test_the_chart_stacks_in_xero_held_and_waiting_up_to_amazons_mark():
    report = build_report(
        [
            row("posted", "600.00"),
            row("held", "200.00", reason="lock_date"),
            row("ready", "200.00"),
            row("posted", "-100.00", month="2026-02"),
        ]
    )
    (chart,) = charts_of(report.months)
    march, february = chart.bars[1], chart.bars[0]
    assert [bar.month for bar in chart.bars] == ["2026-02", "2026-03"]
    top = min(segment.y for segment in march.segments)
    assert abs(top - march.mark_y) < 0.2  # the stack reaches Amazon's total: it ties out
    assert [s.part for s in march.segments] == ["in_xero", "held", "waiting"]
    (refunds,) = february.segments
    assert refunds.y == chart.zero_y  # a month of refunds hangs below the zero line
    assert february.mark_y > chart.zero_y


# --- On the database ----------------------------------------------------------------------------


def test_the_report_from_the_ledger(db_session, make_member):
    _, org = make_member("alice", "tenant-a", timezone=SYDNEY)
    _, other = make_member("bob", "tenant-b")

    def on(day, hour=0):
        return datetime(2026, 1 if day > 27 else 2, day, hour, tzinfo=UTC)

    entry(db_session, org, "T1", "posted", "100.00", on(31, 12))
    entry(db_session, org, "T2", "posted", "7.00", on(31, 14))
    entry(db_session, org, "T3", "posted", "-7.00", on(3), refund=True)
    entry(db_session, org, "T4", "held", "3.33", on(4), "lock_date")
    entry(db_session, org, "T5", "by_hand", "8.00", on(5), "already_in_xero")
    entry(db_session, org, "T6", "posted", "19.99", on(6), currency="EUR")
    entry(db_session, org, "T7", "fetched", "1.00", None)
    entry(db_session, other, "X1", "posted", "999.00", on(6))

    report = tie_out_report(db_session, org.id, org.timezone)
    by_key = {(m.month, m.currency): m.total for m in report.months}
    assert set(by_key) == {
        ("2026-01", "GBP"),
        ("2026-02", "GBP"),
        ("2026-02", "EUR"),
        (UNDATED, "GBP"),
    }
    assert by_key["2026-01", "GBP"].amazon.amount == D("100.00")  # 23:00 on 31 Jan in Sydney
    february = by_key["2026-02", "GBP"]  # T2 is 01:00 on 1 Feb in Sydney
    assert february.amazon.amount == D("11.33")
    assert february.figure(Bucket.LINKED).amount == D("8.00")
    assert february.held.amount == D("3.33")
    assert by_key["2026-02", "EUR"].in_xero.amount == D("19.99")
    assert by_key[UNDATED, "GBP"].waiting.amount == D("1.00")
    assert report.ties_out
    assert all(isinstance(m.total.amazon.amount, Decimal) for m in report.months)

    # Each figure's link lists exactly its entries (month in the org's zone, method, state).
    def listed(**wanted):
        page = list_entries(db_session, org.id, EntryFilter(timezone=SYDNEY, **wanted))
        return sorted(r.amazon_transaction_id for r in page.rows)

    assert listed(state="all", month="2026-02") == ["T2", "T3", "T4", "T5", "T6"]
    assert listed(state="all", month="2026-01") == ["T1"]
    assert listed(state="by_hand", reason_code="already_in_xero", month="2026-02") == ["T5"]
    assert listed(state="all", month=UNDATED) == ["T7"]
    assert listed(state="in_xero", month="2026-02", method="Visa:4242") == ["T2", "T3", "T5", "T6"]
    assert listed(state="all", method="Mastercard:1") == []


def _payload(amount: str) -> dict:
    line = uk_line("0.00", amount)
    return uk_card_charge(transaction_id="T1", lines=[line], amount=amount)


def test_an_open_correction_shows_amazons_new_amount(db_session, make_member):
    _, org = make_member("alice", "tenant-a")
    posted = entry(db_session, org, "T1", "posted", "50.00", datetime(2026, 3, 4, tzinfo=UTC))
    cancelled = entry(db_session, org, "T2", "cancelled", "0.00", datetime(2026, 3, 5, tzinfo=UTC))
    for state, amount in ((CorrectionState.SUPERSEDED, "1.00"), (CorrectionState.HELD, "45.50")):
        db_session.add(
            Correction(
                organisation_id=org.id,
                ledger_entry_id=posted.id,
                cause=CorrectionCause.AMAZON_CHANGED,
                state=state,
                after_payload=_payload(amount),
            )
        )
    db_session.add(
        Correction(
            organisation_id=org.id,
            ledger_entry_id=cancelled.id,
            cause=CorrectionCause.AMAZON_CANCELLED,
            state=CorrectionState.APPLIED,
            after_payload=_payload("0.00"),
        )
    )
    db_session.commit()
    report = tie_out_report(db_session, org.id, "")
    line = report.months[0].total
    assert line.amazon.amount == D("45.50")
    assert line.in_xero.amount == D("50.00")
    assert line.difference == D("-4.50")
    (change,) = report.changes()
    assert (change.transaction_id, change.correction_state) == ("T1", "held")


def test_an_empty_ledger_is_an_empty_report(db_session, make_member):
    _, org = make_member("alice", "tenant-a")
    report = tie_out_report(db_session, org.id, "")
    assert report.months == []
    assert report.ties_out
    assert db_session.get(LedgerEntry, 1) is None


def test_the_lists_filters_show_the_entries_of_each_bucket():
    from plugin.manage.entries import STATE_FILTERS
    from plugin.manage.tie_out import IN_XERO
    from plugin.models import EntryState

    for state in EntryState:
        bucket = bucket_of(state, None)
        assert (state in STATE_FILTERS["pending"]) == (bucket == Bucket.WAITING), state
        assert (state in STATE_FILTERS["in_xero"]) == (bucket in IN_XERO), state
        assert (state in STATE_FILTERS["attention"]) == (bucket in (Bucket.HELD, Bucket.FAILED))


def test_a_chart_of_many_months_names_only_some_and_every_month_that_is_off():
    months = [f"{2024 + i // 12}-{i % 12 + 1:02d}" for i in range(24)]
    change = Change(months[3], "Visa:4242", "GBP", "TX-1", D("5.00"), D("6.00"), "held")
    report = build_report([row("posted", "10.00", month=m) for m in months], [change])
    (chart,) = charts_of(report.months)
    assert len(chart.bars) == 24
    assert sum(bar.labelled for bar in chart.bars) == 12
    assert chart.bars[-1].labelled  # the newest month is always named
    assert [bar.month for bar in chart.bars if not bar.ties_out] == [months[3]]


def test_a_csv_text_cell_is_never_a_formula():
    rows = csv_rows(build_report([row("posted", "-1.00", method="=HYPERLINK(1)")]))
    assert rows[1][1] == "'=HYPERLINK(1)"
    assert rows[1][3] == "-1.00"  # amounts stay numbers
