"""/healthz: 200 when the database and Redis answer, 503 when either does not."""

from __future__ import annotations

import pytest

from plugin.infra.redis_server import start_private_redis
from tests.common.processes import free_port


def test_healthz_ok_when_both_are_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["redis"]["ok"] is True
    assert set(body["queues"]) == {"high", "default", "low"}


def test_healthz_503_when_redis_stops(app_config, tmp_path, make_app):
    server = start_private_redis(tmp_path / "redis")
    app_config["REDIS_URL"] = server.url
    app = make_app(app_config)
    client = app.test_client()
    try:
        assert client.get("/healthz").status_code == 200
    finally:
        server.stop()
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["redis"]["ok"] is False
    assert body["database"]["ok"] is True
    assert body["status"] == "unavailable"


def test_healthz_503_when_the_database_is_unreachable(app_config, make_app):
    app_config["DATABASE_URL"] = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none"
    app_config["REQUIRE_CURRENT_SCHEMA"] = False
    app = make_app(app_config)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"]["ok"] is False
    assert response.get_json()["redis"]["ok"] is True


def test_pages_show_a_friendly_503_when_the_database_is_down(app_config, make_app):
    app_config["DATABASE_URL"] = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none"
    app_config["REQUIRE_CURRENT_SCHEMA"] = False
    app = make_app(app_config)

    @app.get("/_test/needs-database")
    def needs_database():
        from sqlalchemy import text

        from plugin.db import get_session

        get_session().execute(text("SELECT 1"))
        return "unreachable"

    response = app.test_client().get("/_test/needs-database")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "right back" in page
    assert "Traceback" not in page
    assert "Reference:" in page


@pytest.mark.parametrize("path", ["/healthz", "/"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
