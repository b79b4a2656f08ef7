"""Held purchases grouped by their real cause, labelled from their own members, and the list
sorted by purchase date (issue 15 point 4)."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from plugin.manage.entries import EntryFilter
from plugin.manage.entries import list_entries
from plugin.manage.entries import reason_groups
from plugin.manage.held_groups import Cause
from plugin.manage.held_groups import Member
from plugin.manage.held_groups import cause_of
from plugin.manage.held_groups import group_members
from plugin.models import LedgerEntry
from plugin.onboarding.review import held_groups as review_groups
from plugin.posting import Held
from tests.common.manage import HTMX
from tests.common.manage import ready_org

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PM = "unmapped_payment_method"


def pm_reason(label: str) -> str:
    return (
        f"Payment method {label} is not mapped to a Xero account yet. Map it under Payment methods."
    )


def tax_reason(tax: str, net: str, gives: str) -> str:
    return (
        f"Amazon's tax of £{tax} on Paper is not what its rate gives: 20% of £{net} is £{gives} "
        "(rounding explains at most £0.02). Nothing was posted; check the order in Amazon "
        "Business and post it by hand."
    )


# (payment method key, label, how many), dates interleaved so that id order is not date order
MIXED = [
    ("Mastercard:6006", "Mastercard ending 6006", 4),
    ("GiftCard:", "Gift Card Balance", 1),
    ("Visa:9911", "Visa ending 9911", 2),
]


def add_mixed(db_session, org) -> list[LedgerEntry]:
    rows = []
    n = 0
    for key, label, count in MIXED:
        for _ in range(count):
            rows.append(
                LedgerEntry(
                    organisation_id=org.id,
                    amazon_transaction_id=f"pm-{n}",
                    transaction_type="CHARGE",
                    transaction_date=START + timedelta(days=(n * 5) % 7),
                    amount=Decimal("10.00") + n,
                    currency="GBP",
                    payment_method_key=key,
                    state="held",
                    reason_code=PM,
                    reason=pm_reason(label),
                )
            )
            n += 1
    for i, (tax, net, gives) in enumerate([("2.50", "10.00", "2.00"), ("7.00", "30.00", "6.00")]):
        rows.append(
            LedgerEntry(
                organisation_id=org.id,
                amazon_transaction_id=f"tax-{i}",
                transaction_type="CHARGE",
                transaction_date=START + timedelta(days=10 - i * 9),
                amount=Decimal(net),
                currency="GBP",
                payment_method_key="Visa:4242",
                state="held",
                reason_code="tax_amount_mismatch",
                reason=tax_reason(tax, net, gives),
            )
        )
    db_session.add_all(rows)
    db_session.commit()
    return rows


def test_a_payment_method_is_a_cause_of_its_own():
    assert cause_of(PM, "Visa:9911", pm_reason("Visa ending 9911")) == Cause(
        PM, "method", "Visa:9911"
    )
    assert cause_of("tax_amount_mismatch", None, tax_reason("2.50", "10.00", "2.00")) == Cause(
        "tax_amount_mismatch", "rate", "20%"
    )
    text = "Amazon tax rate 5% is not mapped to a Xero tax rate yet. Map it under Taxes."
    assert cause_of("unmapped_tax_rate", "Visa:9911", text) == Cause(
        "unmapped_tax_rate", "text", text
    )
    assert cause_of("lock_date", None, "The transaction is dated 2026-01-01, …") == Cause(
        "lock_date"
    )


@pytest.mark.parametrize("cause", [Cause(PM, "method", "Visa:9911"), Cause("lock_date")])
def test_a_cause_survives_its_url(cause):
    assert Cause.from_param(cause.param) == cause


def test_mixed_payment_methods_are_three_groups_each_named_from_its_members():
    members = [Member(PM, key, pm_reason(label), count, START) for key, label, count in MIXED]
    groups = group_members(members)
    assert [(g.count, g.label) for g in groups] == [
        (4, "Payment method Mastercard ending 6006 is not mapped to a Xero account yet."),
        (2, "Payment method Visa ending 9911 is not mapped to a Xero account yet."),
        (1, "Payment method Gift Card Balance is not mapped to a Xero account yet."),
    ]


def test_manage_groups_by_cause_with_each_groups_own_figures(db_session, make_member):
    _user, org = ready_org(make_member, db_session)
    add_mixed(db_session, org)
    groups = reason_groups(db_session, org.id)
    assert [(g.count, g.label) for g in groups if g.reason_code == PM] == [
        (4, "Payment method Mastercard ending 6006 is not mapped to a Xero account yet."),
        (2, "Payment method Visa ending 9911 is not mapped to a Xero account yet."),
        (1, "Payment method Gift Card Balance is not mapped to a Xero account yet."),
    ]
    (tax,) = [g for g in groups if g.reason_code == "tax_amount_mismatch"]
    assert tax.count == 2
    assert "Amazon's rate 20%" in tax.label
    assert "£" not in tax.label  # the figures are a member's, not the group's
    # The sample is the earliest purchase's own figures (tax-1 is dated before tax-0).
    assert tax.sample == tax_reason("7.00", "30.00", "6.00")


def test_a_groups_filter_and_retry_take_only_its_members(
    app, client, db_session, make_member, sign_in
):
    user, org = ready_org(make_member, db_session)
    add_mixed(db_session, org)
    sign_in(client, user)
    visa = next(g for g in reason_groups(db_session, org.id) if "Visa ending 9911" in g.label)
    listed = list_entries(db_session, org.id, EntryFilter(reason_code=visa.param))
    assert {row.payment_method_key for row in listed.rows} == {"Visa:9911"}
    assert len(listed.rows) == 2

    page = client.get(f"/orgs/{org.id}/manage", headers={}).get_data(as_text=True)
    for count in (4, 2, 1):
        assert f"Retry all {count}" in page

    answer = client.post(
        f"/orgs/{org.id}/manage/entries/retry", data={"reason": visa.param}, headers=HTMX
    )
    assert "2 entries go back to be posted" in answer.get_data(as_text=True)
    db_session.expire_all()
    rows = db_session.exec(select(LedgerEntry).where(LedgerEntry.organisation_id == org.id)).all()
    fetched = sorted(e.payment_method_key for e in rows if e.state == "fetched")
    assert fetched == ["Visa:9911", "Visa:9911"]


def test_the_list_is_sorted_by_purchase_date_newest_first(client, db_session, make_member, sign_in):
    user, org = ready_org(make_member, db_session)
    rows = add_mixed(db_session, org)
    undated = LedgerEntry(
        organisation_id=org.id,
        amazon_transaction_id="undated",
        state="held",
        reason_code="incomplete_transaction",
        reason="Amazon sent this transaction without a transactionDate.",
    )
    db_session.add(undated)
    db_session.commit()
    sign_in(client, user)
    body = client.get(f"/orgs/{org.id}/manage/entries", headers=HTMX).get_data(as_text=True)
    assert "by purchase date, newest first" in body
    shown = [int(i) for i in re.findall(r'<tr id="entry-(\d+)"', body)]
    by_date = sorted(rows, key=lambda e: (e.transaction_date, e.id), reverse=True)
    assert shown == [e.id for e in by_date] + [undated.id]
    assert shown != sorted(shown, reverse=True)  # date order is not id order here


def test_pages_follow_the_purchase_date(db_session, make_member):
    _user, org = ready_org(make_member, db_session)
    rows = add_mixed(db_session, org)
    by_date = [e.id for e in sorted(rows, key=lambda e: (e.transaction_date, e.id), reverse=True)]
    seen, before = [], None
    while True:
        page = list_entries(db_session, org.id, EntryFilter(before=before), page_size=3)
        seen += [row.id for row in page.rows]
        if page.next_before is None:
            break
        before = page.next_before
    assert seen == by_date


def test_review_groups_by_cause_too():
    held = (
        [Held(f"m-{i}", PM, pm_reason("Mastercard ending 6006")) for i in range(4)]
        + [Held("g-0", PM, pm_reason("Gift Card Balance"))]
        + [Held(f"v-{i}", PM, pm_reason("Visa ending 9911")) for i in range(2)]
        + [
            Held("t-0", "tax_amount_mismatch", tax_reason("2.50", "10.00", "2.00")),
            Held("t-1", "tax_amount_mismatch", tax_reason("7.00", "30.00", "6.00")),
        ]
    )
    groups = review_groups(held)
    pm = [(g.count, g.gloss) for g in groups if g.code == PM]
    assert pm == [
        (4, pm_reason("Mastercard ending 6006")),
        (2, pm_reason("Visa ending 9911")),
        (1, pm_reason("Gift Card Balance")),
    ]
    (tax,) = [g for g in groups if g.code == "tax_amount_mismatch"]
    assert [reason for _id, _name, reason in tax.examples] == [
        tax_reason("2.50", "10.00", "2.00"),
        tax_reason("7.00", "30.00", "6.00"),
    ]
