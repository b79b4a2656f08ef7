"""The daily digest: built once per day per organisation, only for members who want it, only when
something is new, with links to the exact place to fix each thing; SMTP or the outbox."""

from __future__ import annotations

import re
import smtplib
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from sqlmodel import select

from jobs.notifications import send_digests
from plugin.models import AmazonConnection
from plugin.models import AuditEvent
from plugin.models import Membership
from plugin.models import Organisation
from plugin.models import PaymentMethod
from plugin.models import User
from plugin.models import utcnow
from plugin.notify import digest as notifications
from plugin.notify import outbox
from tests.common.manage import add_entries
from tests.common.manage import ready_org

# --- Pure rules --------------------------------------------------------------------------------

SNAP = notifications.Snapshot(
    methods={"Visa:9911": "Visa ending 9911"},
    held={"payment_method_unmapped": ("No account for Visa ending 9911.", 3)},
    reconnect={"xero": "Xero"},
)


@pytest.mark.parametrize(
    ("previous", "news"),
    [
        (None, True),
        (SNAP.as_detail(), False),
        ({**SNAP.as_detail(), "methods": []}, True),
        ({**SNAP.as_detail(), "reconnect": []}, True),
        ({**SNAP.as_detail(), "held": {"payment_method_unmapped": 2}}, True),
        ({**SNAP.as_detail(), "held": {"payment_method_unmapped": 9}}, False),
    ],
    ids=["first", "same", "new-method", "new-reconnect", "more-held", "fewer-held"],
)
def test_is_news(previous, news):
    assert notifications.is_news(SNAP, previous) is news


def test_nothing_to_report_is_never_news():
    assert notifications.is_news(notifications.Snapshot(), None) is False


@pytest.mark.parametrize(
    ("last", "now", "due"),
    [
        (None, datetime(2026, 5, 2, 7, tzinfo=UTC), True),
        (datetime(2026, 5, 2, 7, 0, 5, tzinfo=UTC), datetime(2026, 5, 2, 23, tzinfo=UTC), False),
        (
            datetime(2026, 5, 2, 7, 0, 5, tzinfo=UTC),
            datetime(2026, 5, 3, 7, 0, 1, tzinfo=UTC),
            True,
        ),
    ],
)
def test_at_most_one_digest_a_day(last, now, due):
    assert notifications.due(last, now) is due


def test_every_item_links_to_the_place_that_fixes_it():
    snapshot = notifications.Snapshot(
        methods=SNAP.methods, held=SNAP.held, reconnect={"xero": "Xero", "amazon:4": "Amazon UK"}
    )
    digest = notifications.build_digest(7, "Thames", "https://app.example/", snapshot)
    links = {item.title: item.url for item in digest.items}
    assert links == {
        "Reconnect to Xero": "https://app.example/orgs/7/manage#xero",
        "Reconnect Amazon UK": "https://app.example/orgs/7/manage#amazon",
        "New payment method: Visa ending 9911": (
            "https://app.example/orgs/7/manage#payment-methods-section"
        ),
        "3 purchases are waiting: No account for Visa ending 9911.": (
            "https://app.example/orgs/7/manage/entries?state=attention"
            "&reason=payment_method_unmapped"
        ),
    }
    assert digest.settings_url == "https://app.example/orgs/7/manage#notifications"
    assert digest.subject == "Thames: 4 things need your attention in Amazon Business for Xero"


# --- The job, through the outbox ---------------------------------------------------------------


def outbox_mails(app) -> list:
    folder = outbox.outbox_dir(app)
    if not folder.is_dir():
        return []
    return [
        BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        for path in sorted(folder.glob("*.eml"))
    ]


@pytest.fixture
def troubled_org(app, make_member, db_session):
    """An org with a new card, held entries, a store to reconnect, and three members."""
    _alice, org = ready_org(make_member, db_session)
    connection = db_session.exec(select(AmazonConnection)).one()
    connection.status = "needs_reconnect"
    db_session.add(connection)
    db_session.add(PaymentMethod(organisation_id=org.id, key="Visa:9911", label="Visa ending 9911"))
    add_entries(db_session, org, 3)
    bob = User(xero_user_id="bob", email="bob@example.com", name="Bob")
    quiet = User(xero_user_id="quiet", email="quiet@example.com", name="Quiet")
    db_session.add_all([bob, quiet])
    db_session.commit()
    db_session.add(Membership(user_id=bob.id, organisation_id=org.id))
    db_session.add(Membership(user_id=quiet.id, organisation_id=org.id, notify=False))
    db_session.commit()
    return org


def test_one_digest_per_member_who_wants_it(app, client, troubled_org, sign_in, db_session):
    result = send_digests()
    assert result == {"emails": 2, "organisations_skipped": 0, "failed": 0}
    mails = outbox_mails(app)
    assert sorted(m["To"] for m in mails) == ["bob@example.com", "user-1@example.com"]
    mail = mails[0]
    assert mail["Subject"].startswith("Thames Stationery Ltd: 3 things need your attention")
    text = mail.get_body(preferencelist=("plain",)).get_content()
    org_id = troubled_org.id
    assert f"http://localhost/orgs/{org_id}/manage#amazon" in text
    assert f"http://localhost/orgs/{org_id}/manage#payment-methods-section" in text
    assert "3 purchases are waiting: No Xero account is mapped for Visa ending 9911." in text
    assert (
        f"http://localhost/orgs/{org_id}/manage/entries?state=attention"
        "&reason=payment_method_unmapped"
    ) in text
    assert f"http://localhost/orgs/{org_id}/manage#notifications" in text
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert f'href="http://localhost/orgs/{org_id}/manage#amazon"' in html


def test_the_links_land_on_the_right_places(app, client, troubled_org, sign_in, db_session):
    send_digests()
    text = outbox_mails(app)[0].get_body(preferencelist=("plain",)).get_content()
    user = db_session.exec(select(User).where(User.xero_user_id == "user-1")).one()
    sign_in(client, user)
    for url in re.findall(r"http://localhost(\S+)", text):
        path, _, anchor = url.partition("#")
        response = client.get(path)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        if anchor:
            assert f'id="{anchor}"' in body, url
    entries = client.get(
        f"/orgs/{troubled_org.id}/manage/entries?state=attention&reason=payment_method_unmapped"
    ).get_data(as_text=True)
    assert len(re.findall(r'<tr id="entry-', entries)) == 3


def test_not_twice_the_same_day_and_not_without_news(app, troubled_org, db_session):
    send_digests()
    assert len(outbox_mails(app)) == 2
    assert send_digests()["emails"] == 0  # same day
    tomorrow = utcnow() + timedelta(days=1)
    org = db_session.get(Organisation, troubled_org.id)
    with app.app_context():
        assert notifications.send_digest(db_session, app, org, tomorrow).skipped == "nothing new"
        add_entries(db_session, org, 2, prefix="more")  # more held: news
        assert notifications.send_digest(db_session, app, org, tomorrow).sent == 2
        assert notifications.send_digest(db_session, app, org, tomorrow).skipped == (
            "already sent today"
        )
    assert len(outbox_mails(app)) == 4
    events = db_session.exec(select(AuditEvent).where(AuditEvent.action == "digest_sent")).all()
    assert len(events) == 2


def test_xero_reconnect_alone_is_reported(app, make_member, db_session):
    _user, org = ready_org(make_member, db_session, status="needs_reconnect")
    assert send_digests()["emails"] == 1
    text = outbox_mails(app)[0].get_body(preferencelist=("plain",)).get_content()
    assert "Reconnect to Xero" in text
    assert f"/orgs/{org.id}/manage#xero" in text


def test_quiet_orgs_and_disconnected_orgs_get_nothing(app, make_member, db_session):
    ready_org(make_member, db_session)  # nothing to report
    _user, gone = make_member("user-2", "tenant-2", "Gone Ltd", status="disconnected")
    add_entries(db_session, gone, 2)
    assert send_digests()["emails"] == 0
    assert outbox_mails(app) == []


def test_members_who_turned_it_off_get_nothing(app, troubled_org, db_session):
    for membership in db_session.exec(select(Membership)):
        membership.notify = False
        db_session.add(membership)
    db_session.commit()
    assert send_digests()["emails"] == 0
    assert db_session.exec(select(AuditEvent).where(AuditEvent.action == "digest_sent")).all() == []


def test_members_xero_has_not_vouched_for_in_two_weeks_get_nothing(app, troubled_org, db_session):
    """Issue 18 point 2: a member the app cannot check (no token of theirs, no sign-in for 15
    days) may have lost access in Xero, so gets no digest until they sign in again."""
    from datetime import timedelta

    from plugin.models import utcnow

    bob = db_session.exec(select(User).where(User.xero_user_id == "bob")).one()
    stale = db_session.exec(select(Membership).where(Membership.user_id == bob.id)).one()
    stale.verified_at = utcnow() - timedelta(days=15)
    db_session.add(stale)
    db_session.commit()
    assert send_digests()["emails"] == 1
    assert [m["To"] for m in outbox_mails(app)] == ["user-1@example.com"]


def test_the_daily_job_is_scheduled(monkeypatch):
    import importlib

    from rq import cron

    import jobs.schedule

    registered = []

    def spy(func, queue_name, **kwargs):
        registered.append((func.__name__, queue_name, kwargs.get("cron")))

    monkeypatch.setattr(cron, "register", spy)
    importlib.reload(jobs.schedule)
    assert ("send_digests", "low", "0 7 * * *") in registered


# --- SMTP --------------------------------------------------------------------------------------


class FakeSMTP:
    """Records what smtplib would have done."""

    instances: list[FakeSMTP] = []

    def __init__(self, host, port, timeout=None, context=None):
        self.host, self.port, self.calls, self.sent = host, port, [], []
        FakeSMTP.instances.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.calls.append("quit")

    def starttls(self, context=None):
        self.calls.append("starttls")

    def login(self, user, password):
        self.calls.append(("login", user, password))

    def send_message(self, message):
        self.sent.append(message)


@pytest.fixture
def fake_smtp(monkeypatch):
    FakeSMTP.instances = []
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setattr(smtplib, "SMTP_SSL", type("FakeSSL", (FakeSMTP,), {}))
    return FakeSMTP


def test_smtp_with_starttls_and_login(app, troubled_org, fake_smtp):
    app.config["SMTP_URL"] = "smtp://mailer:p%40ss@mail.example:587"
    assert send_digests()["emails"] == 2
    assert [(s.host, s.port) for s in fake_smtp.instances] == [("mail.example", 587)] * 2
    first = fake_smtp.instances[0]
    assert first.calls == ["starttls", ("login", "mailer", "p@ss"), "quit"]
    assert first.sent[0]["From"] == app.config["MAIL_FROM"]
    assert outbox_mails(app) == []


def test_smtps_and_a_plain_local_relay(app, troubled_org, fake_smtp):
    app.config["SMTP_URL"] = "smtps://mail.example"
    send_digests()
    assert type(fake_smtp.instances[0]).__name__ == "FakeSSL"
    assert fake_smtp.instances[0].port == 465
    assert fake_smtp.instances[0].calls == ["quit"]


def test_a_failing_mail_server_is_retried_next_run(app, troubled_org, monkeypatch, db_session):
    app.config["SMTP_URL"] = "smtp://mail.example:25"

    class Refusing(FakeSMTP):
        def send_message(self, message):
            raise smtplib.SMTPRecipientsRefused({})

    monkeypatch.setattr(smtplib, "SMTP", Refusing)
    assert send_digests() == {"emails": 0, "organisations_skipped": 0, "failed": 1}
    assert db_session.exec(select(AuditEvent).where(AuditEvent.action == "digest_sent")).all() == []


# --- The outbox page ---------------------------------------------------------------------------


def test_outbox_page_lists_only_the_members_own_mail(
    app, client, troubled_org, make_member, sign_in, db_session
):
    outsider, _other = make_member(
        "user-9", "tenant-9", "Hudson Supplies Inc", status="needs_reconnect"
    )
    send_digests()
    assert len(outbox_mails(app)) == 3
    user = db_session.exec(select(User).where(User.xero_user_id == "user-1")).one()
    sign_in(client, user)
    page = client.get("/outbox").get_data(as_text=True)
    assert page.count('class="card mail"') == 2
    assert "Thames Stationery Ltd: 3 things need your attention" in page
    assert "Hudson" not in page
    sign_in(client, outsider)
    theirs = client.get("/outbox").get_data(as_text=True)
    assert theirs.count('class="card mail"') == 1
    assert "Hudson Supplies Inc: 1 thing needs your attention" in theirs
    assert "Thames" not in theirs
    assert app.test_client().get("/outbox").status_code == 302  # signed out: to the start


def test_outbox_is_empty_then_404_with_smtp(app, client, make_member, sign_in, tmp_path):
    user, _org = make_member()
    sign_in(client, user)
    app.config["MAIL_OUTBOX_DIR"] = str(tmp_path / "nowhere")
    assert "No mail yet." in client.get("/outbox").get_data(as_text=True)
    app.config["SMTP_URL"] = "smtp://mail.example:587"
    assert client.get("/outbox").status_code == 404


def test_outbox_folder_setting(app, tmp_path):
    app.config["MAIL_OUTBOX_DIR"] = str(tmp_path / "mail")
    assert outbox.outbox_dir(app) == Path(tmp_path / "mail")
    app.config["MAIL_OUTBOX_DIR"] = None
    assert outbox.outbox_dir(app) == Path(app.instance_path) / "outbox"


# --- Review before posting (issue 16 point 4) ---------------------------------------------------


def test_purchases_waiting_for_review_are_news_when_more_wait():
    snapshot = notifications.Snapshot(in_review=4)
    assert notifications.is_news(snapshot, None) is True
    assert notifications.is_news(snapshot, {"in_review": 4}) is False
    assert notifications.is_news(snapshot, {"in_review": 2}) is True
    digest = notifications.build_digest(7, "Thames", "https://app.example", snapshot)
    [item] = digest.items
    assert item.title == "4 purchases wait for your review"
    assert item.url == "https://app.example/orgs/7/review"


def test_the_digest_says_how_many_wait_for_review(app, make_member, db_session):
    _user, org = ready_org(make_member, db_session)
    add_entries(db_session, org, 3, state="review")
    assert send_digests()["emails"] == 1
    text = outbox_mails(app)[0].get_body(preferencelist=("plain",)).get_content()
    assert "3 purchases wait for your review" in text
    assert f"/orgs/{org.id}/review" in text
