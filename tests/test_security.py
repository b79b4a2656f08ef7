"""CSRF on posts, cookie flags, and tokens encrypted at rest."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from plugin.auth.token_store import read_amazon_refresh_token
from plugin.auth.token_store import read_xero_token
from plugin.auth.token_store import save_amazon_tokens
from plugin.auth.token_store import save_xero_token
from plugin.models import AmazonConnection
from plugin.models import Organisation
from plugin.security import TokenDecryptionError


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
