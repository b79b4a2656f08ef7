"""The small things a user notices (issue 15 point 8), each checked on the page it is on."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

from plugin.amazon.regions import default_store_code
from plugin.models import ImportRun
from plugin.models import utcnow
from tests.common.manage import HTMX
from tests.common.manage import add_entries
from tests.common.manage import ready_org


@pytest.fixture
def member(app, client, make_member, db_session, sign_in):
    user, org = ready_org(make_member, db_session, country="GB", base_currency="GBP")
    sign_in(client, user)
    return user, org


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("country", "store"), [("GB", "UK"), ("US", "US"), ("DE", "DE"), ("NZ", None), ("", None)]
)
def test_the_store_picker_defaults_to_the_organisations_own_store(country, store):
    offered = ["US", "UK", "CA", "DE", "FR", "IT", "ES", "JP"]
    assert default_store_code(country, offered) == store


def test_a_uk_organisation_sees_the_uk_store_preselected(client, member):
    _user, org = member
    page = text(client.get(f"/orgs/{org.id}/amazon"))
    assert re.search(r'<option value="UK" selected>United Kingdom', page)
    assert not re.search(r'<option value="US" selected', page)


def test_last_sync_says_when_an_import_last_fetched(client, member, db_session):
    _user, org = member
    assert "<dt>Last sync</dt><dd>never</dd>" in text(client.get(f"/orgs/{org.id}/manage/status"))
    finished = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    db_session.add(
        ImportRun(
            organisation_id=org.id,
            trigger="historical",
            range_start=finished - timedelta(days=30),
            range_end=finished,
            state="succeeded",
            finished_at=finished,
        )
    )
    db_session.commit()
    status = text(client.get(f"/orgs/{org.id}/manage/status"))
    assert "<dt>Last sync</dt><dd>1 Dec 2026, 09:30 UTC</dd>" in status


def test_the_contact_card_never_says_before_the_first_posting_after_postings(
    client, member, db_session
):
    _user, org = member
    page = text(client.get(f"/orgs/{org.id}/manage"))
    assert "set up in Xero when the first purchase is posted" in page
    add_entries(db_session, org, 3, state="posted")
    page = text(client.get(f"/orgs/{org.id}/manage"))
    assert "first purchase is posted" not in page
    assert "Every purchase is posted to the “Amazon Business” supplier contact" in page


def test_badges_say_what_the_filters_say(client, member, db_session):
    _user, org = member
    add_entries(db_session, org, 1, state="fetched", prefix="f")
    add_entries(db_session, org, 1, state="ready", prefix="r")
    listing = text(client.get(f"/orgs/{org.id}/manage/entries?state=waiting", headers=HTMX))
    assert listing.count('<span class="badge ">Waiting to post</span>') == 2
    assert "Fetched" not in listing
    assert ">Ready<" not in listing
    assert '<option value="waiting" selected>Waiting to post</option>' in listing


def test_the_organisations_page_counts_what_is_there(client, member):
    page = text(client.get("/xero/organisations"))
    assert "0 organisations" not in page
    assert "You have 1 organisation connected." in page
    assert "Thames Stationery Ltd" in page


def test_an_unknown_address_is_a_404_page_in_our_layout(client, member):
    response = client.get("/no/such/page")
    page = text(response)
    assert response.status_code == 404
    assert page.startswith("<!doctype html>")
    assert 'class="site-header"' in page
    assert "<h1>Page not found</h1>" in page
    assert "There is no page at this address" in page
    assert "The requested URL was not found on the server" not in page  # Werkzeug's text
    signed_out = text(client.application.test_client().get("/no/such/page"))
    assert "<h1>Page not found</h1>" in signed_out


def test_date_hints_are_written_as_the_pages_write_dates(client, member, db_session):
    """The rule under both date forms, and the dates of imports, read "28 Apr 2015", never
    ISO (the pickers themselves follow the browser's locale)."""
    _user, org = member
    manage = text(client.get(f"/orgs/{org.id}/manage"))
    rule = re.search(r'<p class="muted" id="import-rule">([^<]*)</p>', manage).group(1)
    assert "28 Apr 2015" in rule
    assert not re.search(r"\d{4}-\d{2}-\d{2}", rule)
    today = utcnow().date()
    db_session.add(
        ImportRun(
            organisation_id=org.id,
            trigger="manual",
            range_start=datetime(2026, 11, 3, tzinfo=UTC),
            range_end=datetime(2026, 11, 9, tzinfo=UTC),
            state="succeeded",
            finished_at=datetime.combine(today, datetime.min.time(), tzinfo=UTC),
        )
    )
    db_session.commit()
    history = text(client.get(f"/orgs/{org.id}/manage/history", headers=HTMX))
    assert "3 Nov 2026 \u2013 9 Nov 2026" in history
