"""The kept parts of Manage Integrations (``plugin.manage.part_cache``, issue 17 point 2): a
part served from Redis is never older than the data it shows, after any kind of write, and
never another organisation's or another person's.

Each staleness test warms the cache, writes as the app does (a state change, a reason changed
by a re-check, Amazon's change and its correction, a new purchase, the organisation's status, a
job queued), and compares what is served with what is rendered with nothing kept."""

from __future__ import annotations

import re

import pytest
import redis
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import update
from sqlmodel import col
from sqlmodel import select

from plugin.infra.queues import get_queue
from plugin.ledger.correction_model import Correction
from plugin.manage import part_cache
from plugin.models import AmazonConnection
from plugin.models import ConnectionStatus
from plugin.models import ImportRun
from plugin.models import LedgerEntry
from plugin.models import Membership
from plugin.models import Organisation
from plugin.models import OrgStatus
from plugin.models import PaymentMethod
from plugin.models import User
from plugin.models import utcnow
from tests.common.manage import HTMX
from tests.common.manage import add_entries
from tests.common.manage import ready_org

URLS = {
    "page": ("/manage", {}),
    "entries": ("/manage/entries", HTMX),
    "posted": ("/manage/entries?state=posted", HTMX),
    "status": ("/manage/status", HTMX),
}


@pytest.fixture
def member(app, client, make_member, db_session, sign_in):
    """A signed-in member of a set-up organisation with held, failed and posted entries."""
    user, org = ready_org(make_member, db_session, last_synced_at=utcnow())  # next sync fixed
    add_entries(db_session, org, 3, "held")
    add_entries(db_session, org, 2, "failed", reason_code="xero_rejected", reason="Refused.")
    add_entries(
        db_session,
        org,
        2,
        "posted",
        xero_document_type="BankTransactions",
        xero_document_id="00000000-0000-4000-8000-000000000001",
    )
    sign_in(client, user)
    return user, org


def _kept_keys(redis_client: redis.Redis, org_id: int | None = None) -> list[bytes]:
    return list(redis_client.scan_iter(f"manage-part:{org_id if org_id else '*'}:*"))


TOKEN = re.compile(r'(name="csrf_token" value=|"X-CSRFToken": )"[^"]+"')


def _get(client, org, name: str, tokens: bool = False) -> str:
    """The part as served; its CSRF tokens written as ``TOKEN`` (a signed token carries the
    second it was signed in) unless ``tokens``."""
    path, headers = URLS[name]
    response = client.get(f"/orgs/{org.id}{path}", headers=headers)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    return body if tokens else TOKEN.sub(r'\1"TOKEN"', body)


def served_and_fresh(client, redis_client, org, name: str) -> tuple[str, str]:
    """(what is served now, what is rendered with nothing kept)."""
    served = _get(client, org, name)
    for key in _kept_keys(redis_client):
        redis_client.delete(key)
    return served, _get(client, org, name)


def warm(client, redis_client, org, name: str) -> str:
    """Serve the part twice: the second comes from Redis (and says the same)."""
    first = _get(client, org, name)
    assert _kept_keys(redis_client, org.id), "nothing was kept"
    assert _get(client, org, name) == first
    return first


def _entries(db_session, org, state: str) -> list[LedgerEntry]:
    db_session.expire_all()
    return list(
        db_session.exec(
            select(LedgerEntry).where(
                LedgerEntry.organisation_id == org.id, LedgerEntry.state == state
            )
        )
    )


def _state_change(db_session, org) -> None:
    """A posting run's outcome: held entries fail (one statement, as the ledger writes)."""
    db_session.exec(
        update(LedgerEntry)
        .where(col(LedgerEntry.organisation_id) == org.id, col(LedgerEntry.state) == "held")
        .values(state="failed", reason_code="xero_rejected", reason="Refused by Xero.")
    )
    db_session.commit()


def _reason_recheck(db_session, org) -> None:
    """A re-check after a mapping change: still held, for another reason (no state change)."""
    db_session.exec(
        update(LedgerEntry)
        .where(col(LedgerEntry.organisation_id) == org.id, col(LedgerEntry.state) == "held")
        .values(reason_code="archived_account", reason="Account 429 is archived in Xero.")
    )
    db_session.commit()


def _amazon_change_and_remap(db_session, org) -> None:
    """Amazon changed a posted purchase: a correction is recorded, the entry needs review."""
    entry = _entries(db_session, org, "posted")[0]
    db_session.add(
        Correction(
            organisation_id=org.id,
            ledger_entry_id=entry.id,
            cause="remap",
            state="pending",
            endpoint="BankTransactions",
            before_payload={"amount": {"amount": "12.50", "currencyCode": "GBP"}},
            after_payload={"amount": {"amount": "15.00", "currencyCode": "GBP"}},
        )
    )
    entry.needs_review = True
    db_session.add(entry)
    db_session.commit()


def _correction_held(db_session, org) -> None:
    """The correction is refused (the document is reconciled): only the correction changes."""
    db_session.expire_all()
    correction = db_session.exec(select(Correction)).first()
    correction.state = "held"
    correction.reason = "The document is reconciled in Xero: correct it by hand."
    db_session.add(correction)
    db_session.commit()


def _new_purchase(db_session, org) -> None:
    add_entries(db_session, org, 1, "held", prefix="later", buyer_name="Dana Buyer")


def _disconnected(db_session, org) -> None:
    row = db_session.get(Organisation, org.id)
    row.status = OrgStatus.NEEDS_RECONNECT
    db_session.add(row)
    db_session.commit()


def _store_needs_reconnecting(db_session, org) -> None:
    """Amazon refused the store's tokens (its row only changes)."""
    store = db_session.exec(
        select(AmazonConnection).where(AmazonConnection.organisation_id == org.id)
    ).first()
    store.status = ConnectionStatus.NEEDS_RECONNECT
    store.status_reason = "Amazon Business refused the connection."
    db_session.add(store)
    db_session.commit()


def _xero_document_recorded(db_session, org) -> None:
    """A lost answer looked up in Xero: the document id recorded, the state unchanged."""
    entry = _entries(db_session, org, "posted")[0]
    entry.xero_document_id = "00000000-0000-4000-8000-000000000999"
    db_session.add(entry)
    db_session.commit()


def _new_method_seen(db_session, org) -> None:
    db_session.add(
        PaymentMethod(
            organisation_id=org.id, key="Visa:7777", label="Visa ending 7777", acknowledged=False
        )
    )
    db_session.commit()


def _new_method_renamed(db_session, org) -> None:
    """A new payment method's name changes (its row only: no new method, none acknowledged)."""
    method = db_session.exec(select(PaymentMethod).where(PaymentMethod.key == "Visa:7777")).one()
    method.label = "Company Visa (Dana)"
    db_session.add(method)
    db_session.commit()


WRITES = {  # name: (done before the part is kept, the write, the parts that show it)
    "state change": (None, _state_change, ("page", "entries", "status")),
    "reason changed by a re-check": (None, _reason_recheck, ("page", "entries")),
    "Amazon's change and its correction": (None, _amazon_change_and_remap, ("page", "posted")),
    "a correction held": (_amazon_change_and_remap, _correction_held, ("posted",)),
    "a new purchase": (None, _new_purchase, ("page", "entries", "status")),
    "organisation needs reconnecting": (None, _disconnected, ("page", "entries", "status")),
    "Xero document recorded": (None, _xero_document_recorded, ("posted",)),
    "a store needs reconnecting": (None, _store_needs_reconnecting, ("page", "status")),
    "a new payment method renamed": (_new_method_seen, _new_method_renamed, ("page", "status")),
}


@pytest.mark.parametrize(
    ("write", "part"),
    [(write, part) for write, (_first, _do, parts) in WRITES.items() for part in parts],
    ids=lambda value: value.replace(" ", "-").replace("'", ""),
)
def test_a_kept_part_is_never_older_than_a_write(
    client, member, db_session, redis_client, write, part
):
    _user, org = member
    first, do, _parts = WRITES[write]
    if first is not None:
        first(db_session, org)
    before = warm(client, redis_client, org, part)
    do(db_session, org)
    served, fresh = served_and_fresh(client, redis_client, org, part)
    assert fresh != before, "the write changed nothing this part shows (a test that proves nothing)"
    assert served == fresh


def test_a_job_queued_shows_working_now_at_once(client, member, redis_client, app):
    _user, org = member
    before = warm(client, redis_client, org, "status")
    assert "working now" not in before
    get_queue("high", app).enqueue("jobs.sync.sync_connection", org.id, job_id=f"sync-{org.id}")
    served, fresh = served_and_fresh(client, redis_client, org, "status")
    assert "working now" in served
    assert served == fresh


def test_one_organisations_part_is_never_served_to_another(
    app, client, member, make_member, db_session, redis_client, sign_in
):
    user, org = member
    other_user, other = ready_org(
        make_member, db_session, xero_user_id="user-2", tenant_id="tenant-2", org_name="Other Ltd"
    )
    add_entries(db_session, other, 3, "held", reason="The other organisations own reason.")
    for name in ("page", "entries", "status"):
        warm(client, redis_client, org, name)
    # The same user as a member of both: each organisation's page is its own.
    db_session.add(Membership(user_id=user.id, organisation_id=other.id))
    db_session.commit()
    sign_in(client, db_session.get(User, user.id))
    for name in ("page", "entries", "status"):
        mine = _get(client, org, name)
        theirs = _get(client, other, name)
        assert mine != theirs
        assert f"/orgs/{other.id}/" in theirs
        assert f"/orgs/{org.id}/" not in theirs
    assert "The other organisations own reason." in _get(client, other, "entries")
    assert "The other organisations own reason." not in _get(client, org, "entries")
    keys = {key.decode().split(":")[1] for key in _kept_keys(redis_client)}
    assert keys == {str(org.id), str(other.id)}
    # Someone who is a member of only the other organisation gets 404, kept parts or not.
    stranger = app.test_client()
    sign_in(stranger, other_user)
    for name in ("page", "entries", "status"):
        path, headers = URLS[name]
        assert stranger.get(f"/orgs/{org.id}{path}", headers=headers).status_code == 404


def _csrf_raw(app, html: str) -> set[str]:
    """The raw tokens the page's signed CSRF tokens stand for (what the session must hold)."""
    signed = set(re.findall(r'name="csrf_token" value="([^"]+)"', html))
    signed |= set(re.findall(r'"X-CSRFToken": "([^"]+)"', html))
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token")
    return {serializer.loads(token) for token in signed}


def test_each_person_gets_their_own_csrf_token_from_a_kept_part(
    app, client, member, db_session, redis_client, sign_in
):
    _user, org = member
    warm(client, redis_client, org, "page")
    colleague = User(xero_user_id="user-3", email="b@example.com", name="Bo")
    db_session.add(colleague)
    db_session.commit()
    db_session.add(Membership(user_id=colleague.id, organisation_id=org.id))
    db_session.commit()
    other_client = app.test_client()
    sign_in(other_client, colleague)
    for name in ("page", "entries", "status"):
        mine = _get(client, org, name, tokens=True)
        theirs = _get(other_client, org, name, tokens=True)
        assert part_cache.CSRF_PLACEHOLDER not in mine + theirs
        with client.session_transaction() as session:
            assert _csrf_raw(app, mine) == {session["csrf_token"]}
        with other_client.session_transaction() as session:
            assert _csrf_raw(app, theirs) == {session["csrf_token"]}
        assert _csrf_raw(app, mine) != _csrf_raw(app, theirs)
    assert _kept_keys(redis_client, org.id)
    assert "Bo" in _get(other_client, org, "page")
    assert "Bo" not in _get(client, org, "page")


def test_data_that_looks_like_the_placeholder_stays_text(client, member, db_session, redis_client):
    _user, org = member
    add_entries(db_session, org, 1, "held", prefix="odd", reason=part_cache.CSRF_PLACEHOLDER)
    warm(client, redis_client, org, "entries")
    body = _get(client, org, "entries")
    assert "&lt;abx-csrf-token&gt;" in body


def test_without_redis_the_parts_are_rendered_live(client, member, monkeypatch, redis_client):
    _user, org = member
    expected = {name: _get(client, org, name) for name in ("entries", "status")}

    def down(_app):
        raise redis.ConnectionError("down")

    monkeypatch.setattr(part_cache, "get_redis", down)
    for key in _kept_keys(redis_client):
        redis_client.delete(key)
    for name, body in expected.items():
        assert _get(client, org, name) == body
    assert _get(client, org, "page")
    assert not _kept_keys(redis_client)


def test_a_status_whose_next_sync_follows_the_clock_is_still_kept(
    client, make_member, db_session, redis_client, sign_in
):
    """Never synced: the next sync is "now + the interval", a new instant at every request;
    the part is kept under the minute it shows, so polls reuse it."""
    user, org = ready_org(make_member, db_session)
    sign_in(client, user)
    for _ in range(5):
        _get(client, org, "status")
    assert 1 <= len([k for k in _kept_keys(redis_client, org.id) if b":status:" in k]) <= 2


@pytest.mark.parametrize("state", ["queued", "running"])
def test_the_page_is_rendered_live_while_an_import_is_under_way(
    client, member, db_session, redis_client, state
):
    """Its progress changes by the second: the page is never kept while an import is queued or
    running (its parts still are), and is kept again once it has ended."""
    _user, org = member
    run = ImportRun(
        organisation_id=org.id,
        trigger="manual",
        range_start=utcnow(),
        range_end=utcnow(),
        state=state,
    )
    db_session.add(run)
    db_session.commit()
    _get(client, org, "page")
    kept = {key.decode().split(":")[2] for key in _kept_keys(redis_client, org.id)}
    assert "page" not in kept, kept
    assert "status" in kept, kept
    run.state = "succeeded"
    db_session.add(run)
    db_session.commit()
    _get(client, org, "page")
    kept = {key.decode().split(":")[2] for key in _kept_keys(redis_client, org.id)}
    assert "page" in kept, kept
