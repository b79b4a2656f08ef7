"""Token refresh: early, locked, rotated, committed before release; invalid_grant pauses the org."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import responses

from plugin.auth.token_store import read_xero_token
from plugin.auth.token_store import save_xero_token
from plugin.db import session_scope
from plugin.models import Organisation
from plugin.models import OrgStatus
from plugin.models import utcnow
from plugin.xero.errors import XeroNeedsReconnect
from plugin.xero.wiring import xero_tokens

IDENTITY = "https://identity.xero.test"


@pytest.fixture
def token_app(app_config, make_app):
    app_config.update(XERO_IDENTITY_URL=IDENTITY, XERO_CLIENT_ID="cid", XERO_CLIENT_SECRET="cs")
    return make_app(app_config)


def make_org(app, expires_in: float, group: str | None = None, tenant: str = "t-1") -> int:
    cipher = app.extensions["token_cipher"]
    with session_scope(app) as db:
        org = Organisation(xero_tenant_id=tenant, name=tenant, xero_token_group=group)
        save_xero_token(
            cipher,
            org,
            {
                "access_token": "old-access",
                "refresh_token": "old-refresh",
                "expires_at": time.time() + expires_in,
            },
        )
        db.add(org)
        db.commit()
        return org.id


def stored_token(app, org_id):
    with session_scope(app) as db:
        return read_xero_token(app.extensions["token_cipher"], db.get(Organisation, org_id))


def test_fresh_token_is_used_without_calling_xero(token_app):
    org_id = make_org(token_app, expires_in=600)
    with responses.RequestsMock() as mock:
        assert xero_tokens(org_id, token_app).access_token() == "old-access"
        assert len(mock.calls) == 0


def test_eight_workers_at_expiry_cause_exactly_one_refresh(token_app):
    org_id = make_org(token_app, expires_in=30)  # inside the 60 s margin
    with responses.RequestsMock() as mock:
        mock.post(
            f"{IDENTITY}/connect/token",
            json={"access_token": "new-access", "refresh_token": "new-refresh", "expires_in": 1800},
        )
        results: list[str] = []
        errors: list[BaseException] = []
        barrier = threading.Barrier(8)

        def worker():
            try:
                barrier.wait()
                results.append(xero_tokens(org_id, token_app).access_token())
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert results == ["new-access"] * 8
        assert len(mock.calls) == 1
        assert "refresh_token=old-refresh" in mock.calls[0].request.body
    assert stored_token(token_app, org_id)["refresh_token"] == "new-refresh"


def test_orgs_of_one_consent_share_the_rotated_token(token_app):
    first = make_org(token_app, expires_in=10, group="consent-1", tenant="t-a")
    second = make_org(token_app, expires_in=10, group="consent-1", tenant="t-b")
    with responses.RequestsMock() as mock:
        mock.post(
            f"{IDENTITY}/connect/token",
            json={"access_token": "new-access", "refresh_token": "new-refresh", "expires_in": 1800},
        )
        xero_tokens(first, token_app).access_token()
        assert xero_tokens(second, token_app).access_token() == "new-access"
        assert len(mock.calls) == 1
    assert stored_token(token_app, second)["refresh_token"] == "new-refresh"


def test_forced_refresh_after_401_reuses_a_token_another_worker_just_got(token_app):
    org_id = make_org(token_app, expires_in=600)
    with session_scope(token_app) as db:
        org = db.get(Organisation, org_id)
        save_xero_token(
            token_app.extensions["token_cipher"],
            org,
            {"access_token": "newer", "refresh_token": "r2", "expires_at": time.time() + 1800},
        )
        db.add(org)
        db.commit()
    manager = xero_tokens(org_id, token_app)
    with responses.RequestsMock() as mock:
        # We were holding "old-access" when Xero said 401: someone already refreshed.
        assert manager._refresh("old-access") == "newer"
        assert len(mock.calls) == 0


def test_invalid_grant_marks_needs_reconnect_without_a_retry_storm(token_app):
    org_id = make_org(token_app, expires_in=5)
    with responses.RequestsMock() as mock:
        mock.post(f"{IDENTITY}/connect/token", status=400, json={"error": "invalid_grant"})
        with pytest.raises(XeroNeedsReconnect):
            xero_tokens(org_id, token_app).access_token()
        for _ in range(5):
            with pytest.raises(XeroNeedsReconnect):
                xero_tokens(org_id, token_app).access_token()
        assert len(mock.calls) == 1
    with session_scope(token_app) as db:
        org = db.get(Organisation, org_id)
        assert org.status == OrgStatus.NEEDS_RECONNECT
        assert "Reconnect" in org.status_reason
        assert org.xero_token_expires_at < utcnow() + timedelta(seconds=10)
