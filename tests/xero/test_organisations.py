"""Disconnect and account deletion: Xero told, jobs stopped, the ledger kept, members only."""

from __future__ import annotations

import time

import pytest
import responses

from plugin.auth.token_store import save_xero_token
from plugin.db import session_scope
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.models import OrgStatus
from plugin.models import User

IDENTITY = "https://identity.xero.test"
API = "https://api.xero.test"


@pytest.fixture
def xapp(app_config, make_app):
    app_config.update(
        XERO_IDENTITY_URL=IDENTITY, XERO_API_URL=API, XERO_CLIENT_ID="cid", XERO_CLIENT_SECRET="s"
    )
    return make_app(app_config)


@pytest.fixture
def connected(xapp, make_member, db_session):
    user, org = make_member("alice", "tenant-1", xero_connection_id="conn-1", sync_enabled=True)
    save_xero_token(
        xapp.extensions["token_cipher"],
        org,
        {"access_token": "acc", "refresh_token": "ref", "expires_at": time.time() + 900},
    )
    db_session.add(org)
    db_session.add(LedgerEntry(organisation_id=org.id, amazon_transaction_id="T-1", state="posted"))
    db_session.commit()
    return user, org


def test_disconnect_deletes_the_connection_and_keeps_the_ledger(xapp, connected, sign_in):
    user, org = connected
    client = sign_in(xapp.test_client(), user)
    with responses.RequestsMock() as mock:
        mock.delete(f"{API}/connections/conn-1", status=204)
        response = client.post(f"/xero/orgs/{org.id}/disconnect")
        assert response.status_code == 302
        assert mock.calls[0].request.headers["Authorization"] == "Bearer acc"
    with session_scope(xapp) as db:
        stored = db.get(Organisation, org.id)
        assert stored.status == OrgStatus.DISCONNECTED
        assert stored.sync_enabled is False
        assert stored.xero_token_encrypted is None
        assert db.get(LedgerEntry, 1).amazon_transaction_id == "T-1"
    assert "Disconnected" in client.get("/").get_data(as_text=True)


def test_only_members_can_disconnect(xapp, connected, make_member, sign_in):
    _, org = connected
    mallory, _ = make_member("mallory", "tenant-2", "Other Org")
    client = sign_in(xapp.test_client(), mallory)
    with responses.RequestsMock():
        assert client.post(f"/xero/orgs/{org.id}/disconnect").status_code == 404
    with session_scope(xapp) as db:
        assert db.get(Organisation, org.id).status == OrgStatus.ACTIVE


def test_delete_account_revokes_the_refresh_token(xapp, connected, sign_in):
    user, org = connected
    client = sign_in(xapp.test_client(), user)
    with responses.RequestsMock() as mock:
        mock.post(f"{IDENTITY}/connect/revocation", status=200)
        assert client.post("/xero/account/delete").status_code == 302
        assert "token=ref" in mock.calls[0].request.body
    with session_scope(xapp) as db:
        assert db.get(User, user.id) is None
        assert db.get(Organisation, org.id).status == OrgStatus.DISCONNECTED
    assert "Sign out" not in client.get("/").get_data(as_text=True)
