"""Manage Integrations: the page, each fragment, each action, permissions and CSRF."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from plugin.infra.queues import get_queue
from plugin.manage.entries import PAGE_SIZE
from plugin.models import AmazonConnection
from plugin.models import ImportRun
from plugin.models import LedgerEntry
from plugin.models import Membership
from plugin.models import Organisation
from plugin.models import PaymentMethod
from plugin.models import utcnow
from tests.common.manage import HTMX
from tests.common.manage import add_entries
from tests.common.manage import ready_org
from tests.common.web import sign_in_on

FRAGMENTS = {
    "/manage/status": 'id="manage-status"',
    "/manage/entries": 'id="manage-entries"',
    "/manage/import": 'id="manage-import"',
    "/manage/history": 'id="manage-history"',
}
GET_ROUTES = ["/manage", *FRAGMENTS, "/manage/disconnect"]
POST_ROUTES = [
    "/manage/sync",
    "/manage/sync-enabled",
    "/manage/entries/retry",
    "/manage/import",
    "/manage/import/1/post",
    "/manage/notify",
]


@pytest.fixture
def member(app, client, make_member, db_session, sign_in):
    """A signed-in member of an organisation that finished set-up."""
    user, org = ready_org(make_member, db_session)
    sign_in(client, user)
    return user, org


def text(response) -> str:
    return response.get_data(as_text=True)


def queued_ids(app, queue: str = "high") -> set[str]:
    return set(get_queue(queue, app).job_ids)


# --- The page and its fragments ----------------------------------------------------------------


def test_page_shows_every_section(client, member):
    _user, org = member
    response = client.get(f"/orgs/{org.id}/manage")
    assert response.status_code == 200
    body = text(response)
    for needle in (
        "Manage Integrations",
        org.name,
        'id="manage-status"',
        'id="manage-entries"',
        'id="payment-methods-section"',
        f'hx-get="/orgs/{org.id}/mapping/payment-methods?from=manage" hx-trigger="load"',
        f"/orgs/{org.id}/mapping?from=manage",
        'id="manage-import"',
        'id="manage-history"',
        "Amazon Business UK",
        "Connect another store",
        'id="manage-notify"',
        "Disconnect from Xero",
    ):
        assert needle in body, needle
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize(("path", "root"), FRAGMENTS.items())
def test_fragment_for_htmx_and_page_for_a_browser(client, member, path, root):
    _user, org = member
    fragment = client.get(f"/orgs/{org.id}{path}", headers=HTMX)
    assert fragment.status_code == 200
    # One root element, carrying the fragment's stable id (HTMX swaps it with outerHTML).
    assert re.match(rf"\s*<(div|section) {re.escape(root)}", text(fragment)), text(fragment)[:200]
    assert "<html" not in text(fragment)
    page = client.get(f"/orgs/{org.id}{path}")
    assert page.status_code == 200
    assert "<html" in text(page)
    assert root in text(page)


@pytest.mark.parametrize("path", GET_ROUTES)
def test_get_routes_are_404_for_another_organisations_member(client, member, make_member, path):
    _stranger, other = make_member("user-2", "tenant-2", "Hudson Supplies Inc")
    assert client.get(f"/orgs/{other.id}{path}").status_code == 404
    assert client.get(f"/orgs/{other.id}{path}", headers=HTMX).status_code == 404


@pytest.mark.parametrize("path", POST_ROUTES)
def test_post_routes_are_404_for_another_organisations_member(
    client, member, make_member, db_session, path
):
    _stranger, other = make_member("user-2", "tenant-2", "Hudson Supplies Inc")
    add_entries(db_session, other, 1)
    data = {"entry_id": "1", "reason": "payment_method_unmapped", "enabled": "0", "notify": "0"}
    data.update({"start": "2026-01-01", "end": "2026-01-02"})
    assert client.post(f"/orgs/{other.id}{path}", data=data).status_code == 404
    entry = db_session.exec(select(LedgerEntry)).one()
    db_session.refresh(entry)
    assert entry.state == "held"
    assert not queued_ids(client.application)


def test_signed_out_visitors_are_sent_to_the_start(app):
    response = app.test_client().get("/orgs/1/manage")
    assert response.status_code == 302
    htmx = app.test_client().get("/orgs/1/manage/status", headers=HTMX)
    assert htmx.status_code == 401
    assert htmx.headers["HX-Redirect"].startswith("/")


def test_unknown_organisation_is_404(client, member):
    assert client.get("/orgs/999/manage").status_code == 404


def test_no_secret_reaches_the_page(client, member, db_session):
    _user, org = member
    stored = db_session.get(Organisation, org.id)
    stored.xero_token_encrypted = "XERO-TOKEN-CIPHERTEXT-SECRET"
    db_session.add(stored)
    connection = db_session.exec(select(AmazonConnection)).one()
    connection.refresh_token_encrypted = "AMAZON-REFRESH-SECRET"
    connection.access_token_encrypted = "AMAZON-ACCESS-SECRET"
    db_session.add(connection)
    db_session.commit()
    body = text(client.get(f"/orgs/{org.id}/manage"))
    assert "SECRET" not in body


# --- Empty states and messages ---------------------------------------------------------------


def test_nothing_imported_yet(client, member):
    _user, org = member
    body = text(client.get(f"/orgs/{org.id}/manage"))
    assert "Nothing imported yet. Purchases appear here" in body
    assert "Nothing is waiting for you" not in body


def test_nothing_waiting_when_everything_posted(client, member, db_session):
    _user, org = member
    add_entries(db_session, org, 3, state="posted")
    body = text(client.get(f"/orgs/{org.id}/manage"))
    assert "Nothing is waiting for you" in body
    assert "Nothing imported yet. Purchases appear here" not in body


def test_nothing_held_but_posting_paused_does_not_say_nothing_waits(client, member, db_session):
    """Issue 15 point 2: with the contact archived, the list does not say all is well."""
    _user, org = member
    add_entries(db_session, org, 3, state="ready")
    stored = db_session.get(Organisation, org.id)
    stored.settings = {
        "contact_problem": {"kind": "archived", "message": "The contact is archived in Xero."}
    }
    db_session.add(stored)
    db_session.commit()
    body = text(client.get(f"/orgs/{org.id}/manage"))
    assert "Nothing is waiting for you" not in body
    assert "nothing is posted until this is fixed: The contact is archived" in body


def test_counts_by_state(client, member, db_session):
    _user, org = member
    add_entries(db_session, org, 4, state="posted")
    add_entries(db_session, org, 3, state="held")
    add_entries(db_session, org, 2, state="failed", reason_code="xero_validation", reason="Xero")
    add_entries(db_session, org, 1, state="fetched")
    body = text(client.get(f"/orgs/{org.id}/manage/status", headers=HTMX))
    tiles = dict(
        (label, int(number))
        for number, label in re.findall(
            r'tile-number">(\d+)</span><span class="tile-label">([^<]+)<', body
        )
    )
    assert tiles == {"Posted": 4, "Held": 3, "Failed": 2, "Waiting to post": 1}


def test_xero_needs_reconnect_is_prominent(client, member, db_session):
    _user, org = member
    stored = db_session.get(Organisation, org.id)
    stored.status = "needs_reconnect"
    stored.status_reason = "Xero no longer accepts our connection."
    db_session.add(stored)
    db_session.commit()
    body = text(client.get(f"/orgs/{org.id}/manage"))
    assert "Access to Xero was revoked: reconnect." in body
    assert 'href="/xero/connect">Reconnect to Xero' in body
    assert "Xero no longer accepts our connection." in body


def test_amazon_store_needs_reconnect(client, member, db_session):
    _user, org = member
    connection = db_session.exec(select(AmazonConnection)).one()
    connection.status = "needs_reconnect"
    db_session.add(connection)
    db_session.commit()
    body = text(client.get(f"/orgs/{org.id}/manage/status", headers=HTMX))
    assert "Amazon Business UK needs reconnecting." in body
    assert f'action="/orgs/{org.id}/amazon"' in body
    assert 'name="store" value="UK"' in body


RATE_LIMITED = {"pause_kind": "rate_limited", "pause_status": 429}


def test_rate_limited_shows_the_next_try(app, client, member):
    _user, org = member
    job = get_queue("default", app).enqueue_in(
        timedelta(minutes=7),
        "jobs.posting.post_ready",
        org.id,
        job_id=f"post-later-{org.id}",
        meta=RATE_LIMITED,
    )
    at = get_queue("default", app).scheduled_job_registry.get_scheduled_time(job)
    body = text(client.get(f"/orgs/{org.id}/manage"))
    assert f"Xero asked us to slow down; posting resumes at {at:%H:%M} UTC" in body


def test_rate_limited_a_second_time_in_a_row(app, client, member):
    _user, org = member
    job = get_queue("default", app).enqueue_in(
        timedelta(minutes=3),
        "jobs.posting.post_ready",
        org.id,
        job_id=f"post-later-{org.id}-again",
        meta=RATE_LIMITED,
    )
    at = get_queue("default", app).scheduled_job_registry.get_scheduled_time(job)
    assert f"posting resumes at {at:%H:%M} UTC" in text(client.get(f"/orgs/{org.id}/manage"))


@pytest.mark.parametrize(
    ("meta", "said"),
    [
        ({"pause_kind": "failing", "pause_status": 500}, "Xero is failing (HTTP 500)"),
        ({"pause_kind": "unavailable", "pause_status": 503}, "Xero is unavailable (maintenance"),
        ({"pause_kind": "unreachable", "pause_status": None}, "Xero cannot be reached"),
        ({}, "Posting to Xero is paused; next try at"),
    ],
)
def test_a_paused_run_names_its_outage(app, client, member, meta, said):
    _user, org = member
    get_queue("default", app).enqueue_in(
        timedelta(minutes=1),
        "jobs.posting.post_ready",
        org.id,
        job_id=f"post-later-{org.id}",
        meta=meta,
    )
    body = text(client.get(f"/orgs/{org.id}/manage/status", headers=HTMX))
    assert said in body
    assert "slow down" not in body


def test_not_rate_limited_says_nothing(client, member):
    _user, org = member
    assert "slow down" not in text(client.get(f"/orgs/{org.id}/manage"))


def test_contact_problem_offers_the_repair(client, member, db_session):
    _user, org = member
    stored = db_session.get(Organisation, org.id)
    stored.settings = {
        "contact_problem": {"kind": "archived", "message": "The contact is archived in Xero."}
    }
    db_session.add(stored)
    db_session.commit()
    body = text(client.get(f"/orgs/{org.id}/manage"))
    assert "The contact is archived in Xero." in body
    assert f'action="/xero/orgs/{org.id}/contact/repair"' in body
    assert "Repair the contact" in body


def test_new_payment_method_is_flagged_at_the_top(client, member, db_session):
    _user, org = member
    db_session.add(
        PaymentMethod(
            organisation_id=org.id, key="Visa:9911", label="Visa ending 9911", acknowledged=False
        )
    )
    db_session.add(
        PaymentMethod(
            organisation_id=org.id, key="Visa:4242", label="Visa ending 4242", acknowledged=True
        )
    )
    db_session.commit()
    body = text(client.get(f"/orgs/{org.id}/manage"))
    status = body[body.index('id="manage-status"') : body.index('id="entries"')]
    assert "A new payment method" in status
    assert "Visa ending 9911" in status
    assert "Visa ending 4242" not in body.replace("Visa ending 9911", "")


def test_set_up_unfinished_says_so(client, make_member, db_session, sign_in):
    user, org = make_member()
    sign_in(client, user)
    body = text(client.get(f"/orgs/{org.id}/manage"))
    assert "Set-up is not finished" in body


def test_unexpected_error_shows_a_reference_not_a_traceback(client, member, monkeypatch, caplog):
    _user, org = member

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom: secret detail")

    monkeypatch.setattr("plugin.manage.status.summary", broken)
    response = client.get(f"/orgs/{org.id}/manage")
    assert response.status_code == 500
    body = text(response)
    assert "Traceback" not in body
    assert "secret detail" not in body
    reference = re.search(r"Reference: <code>([0-9a-f]+)</code>", body).group(1)
    assert reference in caplog.text


# --- Entries: filters, pagination, retry ------------------------------------------------------


def test_entries_are_paginated_by_keyset(client, member, db_session):
    _user, org = member
    add_entries(db_session, org, 60)
    first = text(client.get(f"/orgs/{org.id}/manage/entries", headers=HTMX))
    ids = [int(i) for i in re.findall(r'<tr id="entry-(\d+)"', first)]
    assert len(ids) == PAGE_SIZE == 20
    assert ids == sorted(ids, reverse=True)
    older = re.search(r'href="([^"]*before=(\d+)[^"]*)"', first)
    assert int(older.group(2)) == ids[-1]
    second = text(client.get(older.group(1).replace("&amp;", "&"), headers=HTMX))
    second_ids = [int(i) for i in re.findall(r'<tr id="entry-(\d+)"', second)]
    assert len(second_ids) == 20
    assert max(second_ids) < min(ids)
    assert "Newest" in second
    third = text(client.get(f"/orgs/{org.id}/manage/entries?before={second_ids[-1]}", headers=HTMX))
    assert len(re.findall(r'<tr id="entry-', third)) == 60 - 2 * PAGE_SIZE
    assert "Older" not in third


def test_entries_filter_by_state_and_reason(client, member, db_session):
    _user, org = member
    add_entries(db_session, org, 3, prefix="card")
    add_entries(
        db_session, org, 2, reason_code="tax_rate_unmapped", reason="No tax rate", prefix="tax"
    )
    add_entries(
        db_session,
        org,
        4,
        state="posted",
        xero_document_type="BankTransactions",
        xero_document_id="bt-1",
    )
    url = f"/orgs/{org.id}/manage/entries"
    attention = text(client.get(url, headers=HTMX))
    assert len(re.findall(r'<tr id="entry-', attention)) == 5
    assert "Retry all 3" in attention
    assert "Retry all 2" in attention
    by_reason = text(client.get(f"{url}?reason=tax_rate_unmapped", headers=HTMX))
    assert len(re.findall(r'<tr id="entry-', by_reason)) == 2
    posted = text(client.get(f"{url}?state=posted", headers=HTMX))
    assert len(re.findall(r'<tr id="entry-', posted)) == 4
    assert "https://go.xero.com/Bank/ViewTransaction.aspx?bankTransactionID=bt-1" in posted
    assert "View bank transaction in Xero" in posted
    nothing = text(client.get(f"{url}?state=failed", headers=HTMX))
    assert "No failed purchases" in nothing


def test_entries_ignore_bad_filter_values(client, member, db_session):
    _user, org = member
    add_entries(db_session, org, 2)
    response = client.get(f"/orgs/{org.id}/manage/entries?state=nope&before=abc", headers=HTMX)
    assert response.status_code == 200
    assert len(re.findall(r'<tr id="entry-', text(response))) == 2


@pytest.mark.parametrize(
    "before", ["99999999999999999999999", "²", "9223372036854775808", "2147483648"]
)
@pytest.mark.parametrize("htmx", [True, False])
def test_entries_refuse_a_cursor_no_database_could_hold(client, member, db_session, before, htmx):
    _user, org = member
    add_entries(db_session, org, 1)
    response = client.get(
        f"/orgs/{org.id}/manage/entries?before={before}", headers=HTMX if htmx else {}
    )
    assert response.status_code == 400
    assert "That page of entries does not exist." in text(response)


def test_entries_take_the_largest_cursor_a_database_holds(client, member, db_session):
    _user, org = member
    add_entries(db_session, org, 2)
    response = client.get(f"/orgs/{org.id}/manage/entries?before={2**31 - 1}", headers=HTMX)
    assert response.status_code == 200
    assert len(re.findall(r'<tr id="entry-', text(response))) == 2


@pytest.mark.parametrize("entry_id", ["99999999999999999999999", "²"])
def test_retry_refuses_an_entry_id_no_database_could_hold(client, member, db_session, entry_id):
    _user, org = member
    entry = add_entries(db_session, org, 1)[0]
    response = client.post(
        f"/orgs/{org.id}/manage/entries/retry",
        data={"entry_id": entry_id, "reason": entry.reason_code},
        headers=HTMX,
    )
    assert response.status_code == 400
    assert "That is not an entry that can be retried." in text(response)
    db_session.refresh(entry)
    assert entry.state == "held"


def test_retry_by_reason_ignores_an_entry_id_that_is_no_number(app, client, member, db_session):
    _user, org = member
    entry = add_entries(db_session, org, 1)[0]
    response = client.post(
        f"/orgs/{org.id}/manage/entries/retry",
        data={"entry_id": "abc", "reason": entry.reason_code},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "1 entry goes back to be posted" in text(response)


def test_retry_one_entry(app, client, member, db_session):
    _user, org = member
    entries = add_entries(db_session, org, 2)
    response = client.post(
        f"/orgs/{org.id}/manage/entries/retry",
        data={"entry_id": str(entries[0].id), "state": "attention"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "manage-changed"
    assert "1 entry goes back to be posted" in text(response)
    db_session.expire_all()
    states = {e.id: e.state for e in db_session.exec(select(LedgerEntry))}
    assert states == {entries[0].id: "fetched", entries[1].id: "held"}
    assert f"retry-{org.id}" in queued_ids(app)


def test_retry_all_of_one_reason(app, client, member, db_session):
    _user, org = member
    add_entries(db_session, org, 3, prefix="card")
    add_entries(db_session, org, 2, reason_code="tax", reason="No tax rate", prefix="tax")
    add_entries(db_session, org, 1, state="failed", prefix="failed")  # same reason, failed
    response = client.post(
        f"/orgs/{org.id}/manage/entries/retry", data={"reason": "payment_method_unmapped"}
    )
    assert response.status_code == 302
    db_session.expire_all()
    states = sorted((e.reason_code, e.state) for e in db_session.exec(select(LedgerEntry)))
    assert states.count(("payment_method_unmapped", "fetched")) == 4
    assert states.count(("tax", "held")) == 2
    assert f"retry-{org.id}" in queued_ids(app)


def test_retry_never_touches_another_organisations_entries(client, member, db_session, make_member):
    _user, org = member
    _stranger, other = make_member("user-2", "tenant-2", "Hudson Supplies Inc")
    theirs = add_entries(db_session, other, 1)[0]
    response = client.post(
        f"/orgs/{org.id}/manage/entries/retry", data={"entry_id": str(theirs.id)}, headers=HTMX
    )
    assert response.status_code == 200
    assert "Nothing to retry" in text(response)
    db_session.refresh(theirs)
    assert theirs.state == "held"


def test_retry_needs_an_entry_or_a_reason(client, member):
    _user, org = member
    response = client.post(f"/orgs/{org.id}/manage/entries/retry", data={}, headers=HTMX)
    assert response.status_code == 400
    assert "Choose an entry or a reason" in text(response)


# --- Sync -------------------------------------------------------------------------------------


def test_sync_now_queues_one_sync(app, client, member):
    _user, org = member
    first = client.post(f"/orgs/{org.id}/manage/sync", headers=HTMX)
    assert first.status_code == 200
    assert "Sync started" in text(first)
    assert first.headers["HX-Trigger"] == "manage-changed"
    second = client.post(f"/orgs/{org.id}/manage/sync", headers=HTMX)
    assert "already on its way" in text(second)
    assert [j for j in queued_ids(app) if j.startswith("sync-")] == [f"sync-{org.id}"]


def test_sync_now_refuses_when_not_ready(app, client, make_member, db_session, sign_in):
    user, org = ready_org(make_member, db_session, sync_enabled=False)
    sign_in(client, user)
    response = client.post(f"/orgs/{org.id}/manage/sync", headers=HTMX)
    assert "Cannot sync now" in text(response)
    assert not queued_ids(app)


def test_sync_can_be_turned_off_and_on(client, member, db_session):
    _user, org = member
    off = client.post(f"/orgs/{org.id}/manage/sync-enabled", data={"enabled": "0"}, headers=HTMX)
    assert "Syncing is off" in text(off)
    assert "Turn syncing on" in text(off)
    db_session.expire_all()
    assert db_session.get(Organisation, org.id).sync_enabled is False
    on = client.post(f"/orgs/{org.id}/manage/sync-enabled", data={"enabled": "1"})
    assert on.status_code == 302
    db_session.expire_all()
    assert db_session.get(Organisation, org.id).sync_enabled is True


def test_sync_cannot_be_turned_on_before_set_up(client, make_member, db_session, sign_in):
    user, org = make_member()
    sign_in(client, user)
    answer = client.post(f"/orgs/{org.id}/manage/sync-enabled", data={"enabled": "1"}, headers=HTMX)
    assert "Finish set-up first" in text(answer)
    db_session.expire_all()
    assert db_session.get(Organisation, org.id).sync_enabled is False


# --- Manual import ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({}, "Choose both a start date and an end date."),
        ({"start": "2026-01-05"}, "Choose both a start date and an end date."),
        ({"start": "05/01/2026", "end": " "}, "Choose both a start date and an end date."),
        ({"start": "05/01/2026", "end": "2026-01-06"}, "Those are not dates"),
        ({"start": "2026-01-06", "end": "2026-01-05"}, "The start date is after the end date."),
        ({"start": "2026-01-06", "end": "2999-01-01"}, "The end date is in the future."),
        ({"start": "0001-01-01", "end": "2026-01-05"}, "no purchases before 28 April 2015"),
        ({"start": "1900-01-01", "end": "1900-01-02"}, "no purchases before 28 April 2015"),
        ({"start": "2015-04-27", "end": "2015-04-30"}, "choose a start on or after that day"),
        ({"start": "2025-01-01", "end": "2026-01-02"}, "That range is 367 days"),
    ],
)
@pytest.mark.parametrize("htmx", [True, False])
def test_manual_import_validation(app, client, member, form, message, htmx):
    _user, org = member
    response = client.post(f"/orgs/{org.id}/manage/import", data=form, headers=HTMX if htmx else {})
    assert response.status_code == 400
    body = text(response)
    assert message in body
    assert ("<html" in body) is not htmx
    assert not queued_ids(app)


def test_the_import_form_states_its_rule_and_takes_a_year(app, client, member):
    _user, org = member
    page = text(client.get(f"/orgs/{org.id}/manage"))
    assert "Any dates from 28 Apr 2015 (when Amazon Business opened) to today" in page
    assert "at most 366 days in one import" in page
    assert 'min="2015-04-28"' in page
    # The longest range allowed gets past the rule (and stops only at the missing store).
    answer = client.post(
        f"/orgs/{org.id}/manage/import", data={"start": "2025-01-01", "end": "2026-01-01"}
    )
    assert "That range is" not in text(answer)


def test_manual_import_needs_a_store(client, make_member, db_session, sign_in):
    user, org = make_member(onboarding_step="done", sync_enabled=True)
    sign_in(client, user)
    today = utcnow().date().isoformat()
    response = client.post(
        f"/orgs/{org.id}/manage/import", data={"start": today, "end": today}, headers=HTMX
    )
    assert response.status_code == 400
    assert "Connect an Amazon Business store" in text(response)


def test_manual_import_previews_then_posts_on_request(app, client, member, db_session):
    _user, org = member
    today = utcnow().date()
    started = client.post(
        f"/orgs/{org.id}/manage/import",
        data={"start": (today - timedelta(days=200)).isoformat(), "end": today.isoformat()},
        headers=HTMX,
    )
    assert started.status_code == 200
    body = text(started)
    assert "already in Xero are recognised and never posted twice" in body
    assert "Importing" in body
    assert 'hx-trigger="every 500ms"' in body
    run = db_session.exec(select(ImportRun)).one()
    assert run.trigger == "manual"
    assert f"import-{run.id}" in queued_ids(app)
    assert f"post-{org.id}" not in queued_ids(app)

    run.state, run.new, run.already_known = "succeeded", 3, 5
    db_session.add(run)
    db_session.commit()
    done = client.get(f"/orgs/{org.id}/manage/import?polling=1", headers=HTMX)
    assert "3 new, 5 already known" in text(done)
    assert "Post 3 new" in text(done)
    assert "every 500ms" not in text(done)
    assert done.headers["HX-Trigger"] == "manage-changed"
    assert f"post-{org.id}" not in queued_ids(app)

    posted = client.post(f"/orgs/{org.id}/manage/import/{run.id}/post", headers=HTMX)
    assert posted.status_code == 200
    assert "Posting of the new purchases has started" in text(posted)
    assert "Post 3 new" not in text(posted)
    assert f"post-{org.id}" in queued_ids(app)


def test_manual_import_while_busy_says_so(app, client, member, redis_client):
    _user, org = member
    redis_client.set(f"lock:org-work:{org.id}", "import-99")
    today = utcnow().date().isoformat()
    response = client.post(
        f"/orgs/{org.id}/manage/import", data={"start": today, "end": today}, headers=HTMX
    )
    assert response.status_code == 400
    assert "already going" in text(response)


def test_posting_another_organisations_run_is_404(client, member, db_session, make_member):
    _user, org = member
    _stranger, other = make_member("user-2", "tenant-2", "Hudson Supplies Inc")
    run = ImportRun(
        organisation_id=other.id,
        trigger="manual",
        range_start=utcnow(),
        range_end=utcnow(),
        state="succeeded",
    )
    db_session.add(run)
    db_session.commit()
    assert client.post(f"/orgs/{org.id}/manage/import/{run.id}/post").status_code == 404


def test_import_history_lists_runs(client, member, db_session):
    _user, org = member
    assert "Nothing imported yet." in text(
        client.get(f"/orgs/{org.id}/manage/history", headers=HTMX)
    )
    db_session.add(
        ImportRun(
            organisation_id=org.id,
            trigger="scheduled",
            range_start=utcnow() - timedelta(days=3),
            range_end=utcnow(),
            state="failed",
            new=0,
            error="Amazon Business: the service is unavailable.",
        )
    )
    db_session.commit()
    body = text(client.get(f"/orgs/{org.id}/manage/history", headers=HTMX))
    assert "Scheduled" in body
    assert "Amazon Business: the service is unavailable." in body


# --- Notifications and disconnect -------------------------------------------------------------


def test_member_turns_email_off_and_on(client, member, db_session):
    user, org = member
    off = client.post(f"/orgs/{org.id}/manage/notify", data={"notify": "0"}, headers=HTMX)
    assert off.status_code == 200
    assert "Turn email on" in text(off)
    membership = db_session.exec(select(Membership).where(Membership.user_id == user.id)).one()
    db_session.refresh(membership)
    assert membership.notify is False
    on = client.post(f"/orgs/{org.id}/manage/notify", data={"notify": "1"})
    assert on.status_code == 302
    db_session.refresh(membership)
    assert membership.notify is True


def test_disconnect_asks_first_and_says_what_happens(client, member):
    _user, org = member
    body = text(client.get(f"/orgs/{org.id}/manage/disconnect"))
    assert "connection to Xero is removed" in body
    assert "Syncing stops" in body
    assert "nothing is ever posted twice" in body
    assert f'action="/xero/orgs/{org.id}/disconnect"' in body
    assert 'name="csrf_token"' in body


# --- CSRF -------------------------------------------------------------------------------------


@pytest.fixture
def csrf_client(app_config, make_app, make_member, db_session):
    app_config["WTF_CSRF_ENABLED"] = True
    app = make_app(app_config)
    user, org = ready_org(make_member, db_session)
    client = sign_in_on(app, app.test_client(), user)
    return app, client, org


@pytest.mark.parametrize("path", POST_ROUTES)
@pytest.mark.parametrize("htmx", [True, False])
def test_every_post_needs_the_csrf_token(csrf_client, path, htmx):
    _app, client, org = csrf_client
    response = client.post(
        f"/orgs/{org.id}{path}", data={"notify": "0"}, headers=HTMX if htmx else {}
    )
    assert response.status_code == 400
    assert "This form has expired" in text(response)


def test_the_page_carries_the_token_for_htmx(csrf_client):
    _app, client, org = csrf_client
    page = text(client.get(f"/orgs/{org.id}/manage"))
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    response = client.post(
        f"/orgs/{org.id}/manage/notify",
        data={"notify": "0"},
        headers={**HTMX, "X-CSRFToken": token},
    )
    assert response.status_code == 200


# --- Every answer is said next to its form (issue 15 point 1) ---------------------------------


def test_every_page_loads_the_script_that_shows_refused_answers(client, member):
    _user, org = member
    for path in (f"/orgs/{org.id}/manage", f"/orgs/{org.id}/mapping?from=manage", "/"):
        body = text(client.get(path))
        assert 'src="/static/js/forms.js"' in body, path


def test_import_on_a_disconnected_org_answers_its_section_with_the_message(
    app, client, member, db_session
):
    _user, org = member
    org.status = "disconnected"
    db_session.add(org)
    db_session.commit()
    today = utcnow().date().isoformat()
    response = client.post(
        f"/orgs/{org.id}/manage/import", data={"start": today, "end": today}, headers=HTMX
    )
    assert response.status_code == 400
    body = text(response)
    # The section itself (root id = the form's hx-target), the message as an alert by the form.
    assert body.lstrip().startswith('<div id="manage-import"')
    assert re.search(
        r'role="alert" id="import-error">'
        r"Xero is disconnected: reconnect to Xero before importing.<",
        body,
    )
    assert not queued_ids(app)


def test_a_queued_import_says_so(app, client, member):
    _user, org = member
    today = utcnow().date()
    start = today - timedelta(days=9)
    response = client.post(
        f"/orgs/{org.id}/manage/import",
        data={"start": start.isoformat(), "end": today.isoformat()},
        headers=HTMX,
    )
    assert response.status_code == 200
    expected = f"Import queued: {start.day} {start:%b %Y} \u2013 {today.day} {today:%b %Y}."
    assert expected in text(response)


def test_notify_says_it_saved(client, member):
    _user, org = member
    response = client.post(f"/orgs/{org.id}/manage/notify", data={"notify": "0"}, headers=HTMX)
    assert "Saved: email digest off." in text(response)
    response = client.post(f"/orgs/{org.id}/manage/notify", data={"notify": "1"}, headers=HTMX)
    assert "Saved: email digest on." in text(response)


def test_an_htmx_404_is_a_short_message_not_a_page(client, member):
    _user, org = member
    response = client.post(f"/orgs/{org.id}/manage/import/999999/post", headers=HTMX)
    assert response.status_code == 404
    body = text(response)
    assert "<html" not in body
    assert 'role="alert"' in body
    assert "That is no longer here. Reload the page to see what changed." in body
    assert "If you entered the URL manually" not in body  # not Werkzeug's words


def test_a_plain_form_post_says_its_answer_next_to_that_form(app, client, member):
    """Without HTMX, the redirect back shows the message in the form's own section."""
    _user, org = member
    today = utcnow().date()
    answer = client.post(
        f"/orgs/{org.id}/manage/import",
        data={"start": (today - timedelta(days=3)).isoformat(), "end": today.isoformat()},
        follow_redirects=True,
    )
    body = text(answer)
    assert body.count("Import queued: ") == 1
    section = body[body.index('id="manage-import"') :]
    section = section[: section.index("</section>")]
    assert 'data-place="import"' in section
    assert "Import queued: " in section
    assert 'class="flashes"' not in body

    answer = client.post(
        f"/orgs/{org.id}/manage/notify", data={"notify": "0"}, follow_redirects=True
    )
    body = text(answer)
    notify = body[body.index('id="manage-notify"') :]
    assert "Saved: email digest off." in notify[: notify.index("</section>")]
    assert 'class="flashes"' not in body


def test_access_revoked_in_xero_says_so(client, member, db_session):
    from plugin.xero.organisations import REVOKED_IN_XERO

    _user, org = member
    org.status, org.status_reason = "disconnected", REVOKED_IN_XERO
    db_session.add(org)
    db_session.commit()
    body = text(client.get(f"/orgs/{org.id}/manage/status", headers=HTMX))
    assert "Access to Xero was revoked: reconnect." in body
    org.status_reason = "Disconnected from Xero in Manage Integrations."
    db_session.add(org)
    db_session.commit()
    body = text(client.get(f"/orgs/{org.id}/manage/status", headers=HTMX))
    assert "This organisation is disconnected from Xero." in body
