"""The tie-out report's page and CSV download: reachable from Manage Integrations, every figure
linked to the entries list filtered to its entries, the chart drawn on the server, the CSV's
content; members only (another organisation's user gets 404)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC
from datetime import datetime
from html import unescape

import pytest

from plugin.ledger.correction_model import Correction
from plugin.ledger.correction_model import CorrectionCause
from plugin.ledger.correction_model import CorrectionState
from plugin.models import OnboardingStep
from plugin.models import PaymentMethod
from tests.common.amazon_payloads import uk_card_charge
from tests.common.amazon_payloads import uk_line
from tests.common.onboarding import make_org
from tests.common.onboarding import text_of
from tests.common.tie_out import entry


@pytest.fixture
def ledger(client, make_member, db_session, sign_in):
    user, org = make_org(make_member, db_session, step=OnboardingStep.DONE)
    db_session.add(PaymentMethod(organisation_id=org.id, key="Visa:4242", label="Visa ending 4242"))
    march, april = datetime(2026, 3, 10, tzinfo=UTC), datetime(2026, 4, 2, tzinfo=UTC)
    entry(db_session, org, "TX-POSTED", "posted", "120.00", march)
    entry(db_session, org, "TX-REFUND", "posted", "-20.00", march, refund=True)
    entry(db_session, org, "TX-HAND", "by_hand", "15.00", march, "posted_by_hand")
    entry(db_session, org, "TX-LINKED", "by_hand", "30.00", march, "already_in_xero")
    entry(db_session, org, "TX-LOCKED", "held", "7.25", march, "lock_date")
    entry(db_session, org, "TX-WAIT", "ready", "2.75", march, method="Pay by Invoice:")
    entry(db_session, org, "TX-APRIL", "posted", "50.00", april)
    _, other = make_org(make_member, db_session, user="mallory", tenant="tenant-other")
    entry(db_session, other, "TX-OTHER", "posted", "999.00", march)
    sign_in(client, user)
    return org


def links(page: str) -> dict[str, str]:
    """Link text (its first words) → href, for the report's figures."""
    found = {}
    for href, text in re.findall(r'<a href="([^"]+)">([^<]+)', page):
        found.setdefault(text.strip(), unescape(href))
    return found


def test_the_report_is_linked_from_manage(client, ledger):
    page = client.get(f"/orgs/{ledger.id}/manage").get_data(as_text=True)
    assert f'href="/orgs/{ledger.id}/manage/tie-out"' in page
    assert "Open the tie-out report" in page


def test_the_page_shows_each_month_tying_out_with_its_figures_linked(client, ledger):
    response = client.get(f"/orgs/{ledger.id}/manage/tie-out")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = text_of(response)
    assert "Every month ties out to the cent." in page
    assert "Mar 2026" in page
    assert "Apr 2026" in page
    assert "TX-OTHER" not in html
    assert "999.00" not in page
    assert "Visa ending 4242" in page
    assert "155.00" in page  # March: Amazon's total, refunds negative
    assert "145.00" in page  # March in Xero: 100.00 posted + 15.00 by hand + 30.00 linked
    # The chart is server-rendered SVG: nothing from elsewhere, no script.
    assert html.count("<svg") == 1
    assert "<script" not in html.split("<main", 1)[-1]
    assert "http" not in re.sub(r'xmlns="[^"]+"', "", html.split("<svg", 1)[1].split("</svg>")[0])
    hrefs = [unescape(h) for h in re.findall(r'href="([^"]*manage/entries[^"]*)"', html)]
    assert f"/orgs/{ledger.id}/manage/entries?month=2026-03&state=all#entries" in hrefs
    assert any("state=held" in h and "reason=lock_date" in h and "method=Visa" in h for h in hrefs)
    assert any("reason=already_in_xero" in h for h in hrefs)
    assert any("reason=posted_by_hand" in h for h in hrefs)
    assert any("state=pending" in h and "method=Pay+by+Invoice" in h for h in hrefs)


def test_a_figures_link_lists_exactly_its_entries(client, ledger):
    url = f"/orgs/{ledger.id}/manage/entries"
    page = text_of(client.get(url, query_string={"state": "in_xero", "month": "2026-03"}))
    for tid in ("TX-POSTED", "TX-REFUND", "TX-HAND", "TX-LINKED"):
        assert tid in page
    for tid in ("TX-LOCKED", "TX-WAIT", "TX-APRIL", "TX-OTHER"):
        assert tid not in page
    assert "From the tie-out report: only purchases of Mar 2026." in page
    held = text_of(
        client.get(
            url,
            query_string={"state": "held", "reason": "lock_date", "month": "2026-03"},
        )
    )
    assert "TX-LOCKED" in held
    assert "TX-POSTED" not in held
    bad = client.get(url, query_string={"state": "all", "month": "2026-99"})
    assert bad.status_code == 200  # an unknown month is no month filter, as for the others
    assert "TX-APRIL" in text_of(bad)


def test_a_change_amazon_made_is_the_difference_and_named(client, ledger, db_session):
    posted = next(
        e
        for e in __import__("tests.common.pipeline", fromlist=["x"]).ledger_entries(
            client.application, ledger
        )
        if e.amazon_transaction_id == "TX-APRIL"
    )
    payload = uk_card_charge(transaction_id="TX-APRIL", lines=[uk_line("0.00", "44.00")])
    db_session.add(
        Correction(
            organisation_id=ledger.id,
            ledger_entry_id=posted.id,
            cause=CorrectionCause.AMAZON_CHANGED,
            state=CorrectionState.PENDING,
            after_payload=payload,
        )
    )
    db_session.commit()
    page = text_of(client.get(f"/orgs/{ledger.id}/manage/tie-out"))
    assert "1 month does not tie out" in page
    assert "Why the difference" in page
    assert "-6.00" in page
    assert "Waits for the next posting run" in page


def test_the_csv_download(client, ledger):
    response = client.get(f"/orgs/{ledger.id}/manage/tie-out.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    march = [r for r in rows if r["month"] == "2026-03"]
    assert [r["payment_method"] for r in march] == ["Pay by Invoice:", "Visa ending 4242", "All"]
    visa = march[1]
    assert visa["amazon_total"] == "152.25"
    assert visa["amazon_count"] == "5"
    assert visa["in_xero"] == "145.00"
    assert visa["posted_by_app"] == "100.00"
    assert visa["posted_by_hand"] == "15.00"
    assert visa["linked"] == "30.00"
    assert visa["held"] == "7.25"
    assert visa["held_reasons"] == "Dated on or before the org's lock date.: 7.25 (1)"
    assert visa["difference"] == "0.00"
    total = march[2]
    assert (total["amazon_total"], total["waiting"], total["ties_out"]) == ("155.00", "2.75", "yes")
    assert {r["month"] for r in rows} == {"2026-03", "2026-04"}


def test_another_organisations_user_gets_404(client, ledger, make_member, db_session, sign_in):
    outsider, _ = make_org(make_member, db_session, user="eve", tenant="tenant-eve")
    sign_in(client, outsider)
    assert client.get(f"/orgs/{ledger.id}/manage/tie-out").status_code == 404
    assert client.get(f"/orgs/{ledger.id}/manage/tie-out.csv").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(app, ledger):
    response = app.test_client().get(f"/orgs/{ledger.id}/manage/tie-out.csv")
    assert response.status_code in (302, 401)


def test_before_any_import_the_page_says_so(client, make_member, db_session, sign_in):
    user, org = make_org(make_member, db_session, user="new", tenant="tenant-new")
    sign_in(client, user)
    page = text_of(client.get(f"/orgs/{org.id}/manage/tie-out"))
    assert "Nothing imported yet" in page
    assert "<svg" not in page
    rows = list(csv.reader(io.StringIO(client.get(f"/orgs/{org.id}/manage/tie-out.csv").text)))
    assert rows == [rows[0]]  # the header alone
    assert rows[0][0] == "month"
