"""One organisation never stops a job that loops over organisations (issue 18, point 5): a
carriage return in a name is stripped from the mail headers, and any failure for one
organisation is logged with its id and counted while the others go on (digests, the scheduled
sync fan-out, the contact checks)."""

from __future__ import annotations

import logging
from email import policy
from email.parser import BytesParser

import pytest

from jobs.notifications import send_digests
from plugin.infra.queues import get_queue
from plugin.notify import digest
from plugin.notify import outbox
from plugin.notify.mail import header_safe
from plugin.work import contact_checks
from plugin.work import scheduled

EVIL_NAME = "Evil Ltd\r\nBcc: everyone@evil.example"


def outbox_mails(app) -> list:
    folder = outbox.outbox_dir(app)
    return [
        BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        for path in sorted(folder.glob("*.eml"))
    ]


@pytest.fixture
def two_orgs_with_news(make_member):
    """Two organisations that need reconnecting (news for a digest), the evil one first."""
    _, evil = make_member("user-evil", "tenant-evil", EVIL_NAME, status="needs_reconnect")
    _, calm = make_member("user-calm", "tenant-calm", "Calm Ltd", status="needs_reconnect")
    return evil, calm


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("Acme Ltd", "Acme Ltd"),
        ("Evil\rBcc: x@evil.example", "Evil Bcc: x@evil.example"),
        ("Two\r\n\tlines", "Two lines"),
        ("Null\x00byte\x1b[31m", "Null byte [31m"),
        ("Line\u2028separator", "Line separator"),
        ("Zoë & Søn", "Zoë & Søn"),
    ],
)
def test_header_values_lose_their_control_characters(name, safe):
    assert header_safe(name) == safe


def test_a_carriage_return_in_a_name_stops_no_digest(app, two_orgs_with_news):
    result = send_digests()
    assert result == {"emails": 2, "organisations_skipped": 0, "failed": 0}
    mails = outbox_mails(app)
    subjects = sorted(str(mail["Subject"]) for mail in mails)
    assert subjects[0].startswith("Calm Ltd: 1 thing needs")
    assert subjects[1].startswith("Evil Ltd Bcc: everyone@evil.example: 1 thing needs")
    for mail in mails:
        assert mail["Bcc"] is None
        assert "\r" not in str(mail["Subject"])
        assert "\n" not in str(mail["Subject"])


def test_one_organisations_failing_digest_does_not_stop_the_others(
    app, two_orgs_with_news, monkeypatch, caplog
):
    evil, _calm = two_orgs_with_news
    real_snapshot = digest.snapshot_of

    def snapshot_of(session, org):
        if org.id == evil.id:
            raise RuntimeError("unreadable data")
        return real_snapshot(session, org)

    monkeypatch.setattr("plugin.notify.digest.snapshot_of", snapshot_of)
    with caplog.at_level(logging.ERROR, logger="plugin.work.digests"):
        result = send_digests()
    assert result == {"emails": 1, "organisations_skipped": 0, "failed": 1}
    assert [str(m["To"]) for m in outbox_mails(app)] == ["user-calm@example.com"]
    assert f"The digest of org {evil.id} failed" in caplog.text
    # The failed one is tried again the next run (nothing recorded it as sent).
    monkeypatch.setattr("plugin.notify.digest.snapshot_of", real_snapshot)
    assert send_digests() == {"emails": 1, "organisations_skipped": 1, "failed": 0}


def failing_for(org_id, real):
    """``enqueue_once`` that fails for one organisation's job."""

    def enqueue_once(queue, func, job_id, *args, **kwargs):
        if args and args[0] == org_id:
            raise RuntimeError("cannot queue")
        return real(queue, func, job_id, *args, **kwargs)

    return enqueue_once


def test_one_organisation_that_cannot_be_queued_does_not_stop_the_sync_of_the_others(
    app, make_member, db_session, monkeypatch, caplog
):
    _, first = make_member("user-1", "tenant-1", "First Ltd", sync_enabled=True)
    _, second = make_member("user-2", "tenant-2", "Second Ltd", sync_enabled=True)
    monkeypatch.setattr(
        "plugin.work.scheduled.enqueue_once", failing_for(first.id, scheduled.enqueue_once)
    )
    with caplog.at_level(logging.ERROR, logger="plugin.work.scheduled"):
        result = scheduled.sync_all(db_session, app)
    assert result == {"organisations": 2, "queued": 1, "failed": 1}
    assert get_queue("default", app).job_ids == [f"sync-{second.id}"]
    assert f"Could not queue the sync of org {first.id}" in caplog.text


def test_one_organisation_that_cannot_be_queued_does_not_stop_the_contact_checks(
    app, make_member, db_session, monkeypatch, caplog
):
    _, first = make_member("user-1", "tenant-1", "First Ltd")
    _, second = make_member("user-2", "tenant-2", "Second Ltd")
    monkeypatch.setattr(
        "plugin.work.contact_checks.enqueue_once",
        failing_for(first.id, contact_checks.enqueue_once),
    )
    with caplog.at_level(logging.ERROR, logger="plugin.work.contact_checks"):
        result = contact_checks.queue_contact_checks(db_session, app)
    assert result == {"enqueued": 1, "failed": 1}
    assert get_queue("default", app).job_ids == [f"contact-check-{second.id}"]
    assert f"Could not queue the contact check of org {first.id}" in caplog.text
