"""CSRF on posts, cookie flags, tokens encrypted at rest; and the hardening of issue 18, point 7:
HSTS, signed-in pages never cached, production refusing a short SECRET_KEY, authorisation codes
kept out of the request logs (the dev server's and gunicorn's), ``/outbox`` only in development.
"""

from __future__ import annotations

import logging
import re
import runpy
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
import requests
from sqlalchemy import text
from werkzeug.serving import make_server

from plugin.auth.token_store import read_amazon_refresh_token
from plugin.auth.token_store import read_xero_token
from plugin.auth.token_store import save_amazon_tokens
from plugin.auth.token_store import save_xero_token
from plugin.models import AmazonConnection
from plugin.models import Organisation
from plugin.security import ConfigurationError
from plugin.security import TokenDecryptionError
from plugin.security import redact_query_secrets
from tests.common.processes import ROOT

CALLBACK = "/xero/callback?code=SECRET-CODE&state=SECRET-STATE"


def test_csrf_rejects_a_post_without_a_token(app_config, make_app):
    app_config["WTF_CSRF_ENABLED"] = True
    app = make_app(app_config)
    client = app.test_client()
    response = client.post("/logout")
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_csrf_accepts_the_token_from_the_page_and_the_htmx_header(app_config, make_app):
    app_config["WTF_CSRF_ENABLED"] = True
    app = make_app(app_config)
    client = app.test_client()

    def token_from_page() -> str:
        page = client.get("/").get_data(as_text=True)
        return re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)

    assert client.post("/logout", headers={"X-CSRFToken": token_from_page()}).status_code == 302
    assert client.post("/logout", data={"csrf_token": token_from_page()}).status_code == 302


def test_session_cookie_flags(app_config, make_app):
    app_config["PUBLIC_URL"] = "https://app.example.com"
    app = make_app(app_config)
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_tokens_round_trip_and_are_not_stored_in_plain_text(app, db_session):
    cipher = app.extensions["token_cipher"]
    token = {
        "access_token": "xero-access-SECRET-123",
        "refresh_token": "xero-refresh-SECRET-456",
        "expires_in": 1800,
        "scope": ["openid", "accounting.invoices"],
    }
    org = Organisation(xero_tenant_id="t-1", name="Org")
    save_xero_token(cipher, org, token)
    db_session.add(org)
    db_session.commit()
    connection = AmazonConnection(organisation_id=org.id, store="UK", region="EU")
    save_amazon_tokens(cipher, connection, refresh_token="Atzr|amazon-SECRET-789")
    db_session.add(connection)
    db_session.commit()

    assert read_xero_token(cipher, org)["refresh_token"] == "xero-refresh-SECRET-456"
    assert read_amazon_refresh_token(cipher, connection) == "Atzr|amazon-SECRET-789"
    assert org.xero_token_expires_at is not None

    raw = db_session.execute(
        text(
            "SELECT o.xero_token_encrypted, a.refresh_token_encrypted FROM organisation o "
            "JOIN amazon_connection a ON a.organisation_id = o.id"
        )
    ).one()
    stored = " ".join(raw)
    for secret in ("SECRET-123", "SECRET-456", "SECRET-789"):
        assert secret not in stored


def test_a_token_encrypted_with_another_key_is_reported(app):
    from cryptography.fernet import Fernet

    from plugin.security import TokenCipher

    other = TokenCipher(Fernet.generate_key())
    ciphertext = other.encrypt("secret")
    with pytest.raises(TokenDecryptionError, match="TOKEN_ENCRYPTION_KEY"):
        app.extensions["token_cipher"].decrypt(ciphertext)


# --- Hardening (issue 18, point 7) ---------------------------------------------------------------


def test_hsts_when_the_public_url_is_https(app_config, make_app, client):
    assert "Strict-Transport-Security" not in client.get("/").headers  # http://localhost
    app_config["PUBLIC_URL"] = "https://app.example.com"
    https_app = make_app(app_config)
    headers = https_app.test_client().get("/").headers
    assert headers["Strict-Transport-Security"] == "max-age=31536000"


def test_signed_in_pages_are_never_stored(client, make_member, sign_in):
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")  # signed out
    user, org = make_member()
    sign_in(client, user)
    for url in ("/", f"/orgs/{org.id}/manage", f"/orgs/{org.id}/manage/status", "/outbox"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
    static = client.get("/static/css/app.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")
    static.close()


def test_production_refuses_a_secret_key_shorter_than_32_bytes(app_config, make_app):
    app_config["APP_ENV"] = "production"
    app_config["SECRET_KEY"] = "x" * 31
    with pytest.raises(ConfigurationError, match="SECRET_KEY must be at least 32 bytes"):
        make_app(app_config)
    app_config["SECRET_KEY"] = "x" * 32
    assert make_app(app_config).config["SECRET_KEY"] == "x" * 32


@pytest.mark.parametrize(
    ("line", "redacted"),
    [
        (
            "GET /xero/callback?code=abc-123&state=xyz HTTP/1.1",
            "GET /xero/callback?code=[redacted]&state=[redacted] HTTP/1.1",
        ),
        ("code=abc&scope=openid", "code=[redacted]&scope=openid"),
        (
            '"https://h/amazon/callback?State=s;code=c"',
            '"https://h/amazon/callback?State=[redacted];code=[redacted]"',
        ),
        (
            "GET /orgs/1/manage/entries?page=2 HTTP/1.1",
            "GET /orgs/1/manage/entries?page=2 HTTP/1.1",
        ),
        ("GET /postcode=1 HTTP/1.1", "GET /postcode=1 HTTP/1.1"),
    ],
)
def test_query_secrets_are_redacted(line, redacted):
    assert redact_query_secrets(line) == redacted


def test_the_dev_server_logs_no_authorisation_code(app, caplog):
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            response = requests.get(f"http://127.0.0.1:{server.server_port}{CALLBACK}", timeout=10)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
    assert response.status_code == 400  # an unknown state
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/xero/callback?code=[redacted]&state=[redacted]" in logged
    assert "SECRET-CODE" not in logged
    assert "SECRET-STATE" not in logged


def test_gunicorn_logs_no_authorisation_code(capsys):
    from gunicorn.config import Config

    assert "--config gunicorn.conf.py" in (ROOT / "Procfile").read_text()
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    config = Config()
    config.set("logger_class", settings["logger_class"])
    config.set("accesslog", settings["accesslog"])
    config.set("access_log_format", '%(h)s "%(r)s" %(s)s q=%(q)s "%(f)s" %({referer}i)s')
    logger = config.logger_class(config)
    referer = "http://localhost/amazon/callback?state=SECRET-STATE&code=SECRET-CODE"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": CALLBACK,
        "PATH_INFO": "/xero/callback",
        "QUERY_STRING": CALLBACK.split("?", 1)[1],
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": referer,
    }
    response = SimpleNamespace(status="302 FOUND", sent=0, headers=[])
    request = SimpleNamespace(headers=[("REFERER", referer)])
    logger.access(response, request, environ, timedelta(milliseconds=3))
    logged = capsys.readouterr().out
    assert '"GET /xero/callback?code=[redacted]&state=[redacted] HTTP/1.1" 302' in logged
    assert "q=code=[redacted]&state=[redacted]" in logged
    assert "SECRET" not in logged


def test_the_outbox_is_served_only_in_development(app, client, make_member, sign_in):
    user, _org = make_member()
    sign_in(client, user)
    assert client.get("/outbox").status_code == 200
    app.config["APP_ENV"] = "production"
    assert client.get("/outbox").status_code == 404
    app.config["APP_ENV"] = "staging"
    assert client.get("/outbox").status_code == 404
