"""Manage Integrations when Redis or the database is down: calm pages, never a traceback."""

from __future__ import annotations

from datetime import timedelta

import pytest

from plugin.infra import background
from plugin.models import utcnow
from tests.common.manage import HTMX
from tests.common.manage import ready_org
from tests.common.processes import free_port

BANNER = "Background work is paused."


@pytest.fixture(autouse=True)
def _fresh_background_cache():
    background.forget()
    yield
    background.forget()


@pytest.fixture
def redis_down(app_config, make_app, make_member, db_session, sign_in):
    """An app whose Redis is a closed port, and a signed-in member of a set-up org."""
    app_config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    app = make_app(app_config)
    user, org = ready_org(make_member, db_session)
    client = app.test_client()
    sign_in(client, user)
    return app, client, org


def test_pages_keep_answering_with_a_banner_while_redis_is_down(redis_down):
    _app, client, org = redis_down
    response = client.get(f"/orgs/{org.id}/manage")
    assert response.status_code == 200
    assert BANNER in response.get_data(as_text=True)
    for path in ("status", "entries", "import", "history"):
        assert client.get(f"/orgs/{org.id}/manage/{path}", headers=HTMX).status_code == 200
    assert client.get("/healthz").status_code == 503


def test_no_banner_while_redis_answers(client, make_member, db_session, sign_in):
    user, org = ready_org(make_member, db_session)
    sign_in(client, user)
    assert BANNER not in client.get(f"/orgs/{org.id}/manage").get_data(as_text=True)


def test_actions_needing_redis_explain_instead_of_failing(redis_down):
    _app, client, org = redis_down
    sync = client.post(f"/orgs/{org.id}/manage/sync", headers=HTMX)
    assert sync.status_code == 200
    assert "Background work is paused, so the sync cannot start now." in sync.get_data(as_text=True)
    today = utcnow().date()
    start = (today - timedelta(days=3)).isoformat()
    imported = client.post(
        f"/orgs/{org.id}/manage/import",
        data={"start": start, "end": today.isoformat()},
        headers=HTMX,
    )
    assert imported.status_code == 400
    assert "Background work is paused right now" in imported.get_data(as_text=True)


def test_the_banner_check_is_cached(redis_down, monkeypatch):
    app, _client, _org = redis_down
    calls = []

    def counting(client):
        calls.append(client)
        return False, "ConnectionError"

    monkeypatch.setattr("plugin.infra.background.redis_ok", counting)
    assert background.background_available(app, now=100.0) is False
    assert background.background_available(app, now=102.0) is False
    assert len(calls) == 1
    assert background.background_available(app, now=100.0 + background.CACHE_SECONDS) is False
    assert len(calls) == 2


def test_database_down_gives_the_friendly_503(app_config, make_app, sign_in):
    app_config["DATABASE_URL"] = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none"
    app_config["REQUIRE_CURRENT_SCHEMA"] = False
    app = make_app(app_config)
    client = app.test_client()

    class Someone:
        id = 1
        session_token = "the-session-token-of-someone"

    sign_in(client, Someone())
    for headers in ({}, HTMX):
        response = client.get("/orgs/1/manage", headers=headers)
        assert response.status_code == 503
        body = response.get_data(as_text=True)
        assert "We&#39;ll be right back" in body or "We'll be right back" in body
        assert "Traceback" not in body
        assert "psycopg" not in body
