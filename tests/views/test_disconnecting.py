"""Disconnecting (issue 15 point 7): one Amazon Business store (its tokens deleted, its
purchases kept, connecting it again never duplicates anything), and an organisation
disconnected from Xero shown as such, its actions (Import, Retry, Save) off and refused by the
server with a clear message."""

from __future__ import annotations

import pytest
from sqlmodel import select

from plugin.amazon.consent import save_connection
from plugin.amazon.lwa import TokenGrant
from plugin.amazon.regions import store_for
from plugin.infra.queues import get_queue
from plugin.models import AmazonConnection
from plugin.models import AuditEvent
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.models import utcnow
from plugin.security import token_cipher
from tests.common.manage import HTMX
from tests.common.manage import add_entries
from tests.common.manage import ready_org
from tests.common.onboarding import record
from tests.common.onboarding import uk_transactions


@pytest.fixture
def member(app, client, make_member, db_session, sign_in):
    user, org = ready_org(make_member, db_session)
    store = db_session.exec(
        select(AmazonConnection).where(AmazonConnection.organisation_id == org.id)
    ).one()
    store.refresh_token_encrypted = token_cipher(app).encrypt("Atzr|refresh")
    store.access_token_encrypted = token_cipher(app).encrypt("Atza|access")
    store.access_token_expires_at = utcnow()
    db_session.add(store)
    db_session.commit()
    sign_in(client, user)
    return user, org, store


def _entries(db_session, org_id):
    return db_session.exec(select(LedgerEntry).where(LedgerEntry.organisation_id == org_id)).all()


def test_a_store_is_disconnected_with_its_tokens_deleted_and_its_ledger_kept(
    app, client, member, db_session
):
    _user, org, store = member
    record(app, org.id, uk_transactions())
    before = len(_entries(db_session, org.id))
    assert before == 5
    manage = client.get(f"/orgs/{org.id}/manage").get_data(as_text=True)
    confirm_url = f"/orgs/{org.id}/amazon/{store.id}/disconnect"
    assert f'href="{confirm_url}"' in manage
    confirm = client.get(confirm_url).get_data(as_text=True)
    assert "Disconnect Amazon Business UK?" in confirm
    assert "Its purchases already imported are kept" in confirm

    response = client.post(confirm_url)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/orgs/{org.id}/manage#amazon")
    db_session.refresh(store)
    assert store.status == "disconnected"
    assert store.refresh_token_encrypted is None
    assert store.access_token_encrypted is None
    assert len(_entries(db_session, org.id)) == before
    events = db_session.exec(
        select(AuditEvent).where(AuditEvent.action == "amazon_disconnected")
    ).all()
    assert [e.detail["store"] for e in events] == ["UK"]

    page = client.get(f"/orgs/{org.id}/manage").get_data(as_text=True)
    assert "Amazon Business UK is disconnected: nothing more is imported from it." in page
    assert 'badge badge-bad">Disconnected' in page
    assert "Connect Amazon Business UK again" in page
    assert "UK needs reconnecting" not in page  # the user did it: not a problem to fix
    assert f'href="{confirm_url}"' not in page
    # Nothing imports from it any more.
    refused = client.post(
        f"/orgs/{org.id}/manage/import",
        data={"start": utcnow().date().isoformat(), "end": utcnow().date().isoformat()},
        headers=HTMX,
    )
    assert refused.status_code == 400
    assert "Connect an Amazon Business store before importing." in refused.get_data(as_text=True)


def test_connecting_the_store_again_never_duplicates(app, client, member, db_session):
    _user, org, store = member
    record(app, org.id, uk_transactions())
    ids = sorted(e.id for e in _entries(db_session, org.id))
    client.post(f"/orgs/{org.id}/amazon/{store.id}/disconnect")
    org_row = db_session.get(Organisation, org.id)
    result = save_connection(
        db_session,
        token_cipher(app),
        org_row,
        store_for("UK"),
        TokenGrant(access_token="Atza|new", refresh_token="Atzr|new", expires_in=3600),
        actor="test",
    )
    assert result.reconnected
    stores = db_session.exec(
        select(AmazonConnection).where(AmazonConnection.organisation_id == org.id)
    ).all()
    assert [(s.id, s.status) for s in stores] == [(store.id, "active")]
    record(app, org.id, uk_transactions())  # the same purchases imported again
    db_session.expire_all()
    assert sorted(e.id for e in _entries(db_session, org.id)) == ids


def test_another_organisations_member_cannot_disconnect_a_store(
    app, make_member, db_session, member, sign_in
):
    _user, org, store = member
    stranger, _other = ready_org(
        make_member, db_session, xero_user_id="user-eve", tenant_id="tenant-eve"
    )
    other = sign_in(app.test_client(), stranger)
    assert other.get(f"/orgs/{org.id}/amazon/{store.id}/disconnect").status_code == 404
    assert other.post(f"/orgs/{org.id}/amazon/{store.id}/disconnect").status_code == 404
    db_session.refresh(store)
    assert store.status == "active"


def _disconnect_xero(db_session, org):
    org.status = "disconnected"
    org.status_reason = "Disconnected from Xero in Manage Integrations."
    org.sync_enabled = False
    db_session.add(org)
    db_session.commit()


def test_a_disconnected_org_shows_its_actions_off(app, client, member, db_session):
    _user, org, _store = member
    add_entries(db_session, org, 2)
    _disconnect_xero(db_session, org)
    home = client.get("/").get_data(as_text=True)
    assert "Stopped: disconnected from Xero" in home
    assert "Running" not in home
    page = client.get(f"/orgs/{org.id}/manage").get_data(as_text=True)
    assert "Xero is disconnected: reconnect to Xero before importing." in page
    assert 'class="primary" disabled aria-describedby="import-off">Import<' in page
    assert "Xero is disconnected: reconnect to Xero before retrying." in page
    assert page.count('class="small" disabled') >= 3  # "Retry all" and each row's Retry
    mapping = client.get(f"/orgs/{org.id}/mapping?from=manage").get_data(as_text=True)
    assert "reconnect to Xero before changing the mapping" in mapping
    assert "Save payment methods" not in mapping


def test_a_disconnected_orgs_actions_are_refused_by_the_server(app, client, member, db_session):
    _user, org, _store = member
    held = add_entries(db_session, org, 1)[0]
    _disconnect_xero(db_session, org)
    retry = client.post(
        f"/orgs/{org.id}/manage/entries/retry", data={"entry_id": held.id}, headers=HTMX
    )
    assert retry.status_code == 409
    assert retry.get_data(as_text=True) == (
        "Xero is disconnected: reconnect to Xero before retrying."
    )
    db_session.refresh(held)
    assert held.state == "held"
    assert get_queue("high", app).count == 0
    today = utcnow().date().isoformat()
    imported = client.post(
        f"/orgs/{org.id}/manage/import", data={"start": today, "end": today}, headers=HTMX
    )
    assert imported.status_code == 400
    assert "Xero is disconnected: reconnect to Xero before importing." in imported.get_data(
        as_text=True
    )
    saved = client.post(
        f"/orgs/{org.id}/mapping/expenses", data={"expense_default": "429"}, headers=HTMX
    )
    assert saved.status_code == 503
    body = saved.get_data(as_text=True)
    assert "Xero is disconnected: reconnect to Xero before changing the mapping." in body
    assert not db_session.exec(
        select(AuditEvent).where(AuditEvent.action.like("mapping%"))  # type: ignore[attr-defined]
    ).all()
