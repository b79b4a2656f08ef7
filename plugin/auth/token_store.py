"""Reading and writing OAuth token sets, always encrypted at rest.

Xero token sets live on the Organisation, Amazon Business ones on each AmazonConnection. Only
ciphertext reaches the database; the expiry is kept in clear so jobs can decide to refresh
without decrypting.
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

from plugin.models import AmazonConnection
from plugin.models import Organisation
from plugin.models import utcnow
from plugin.security import TokenCipher


def expiry_from(token: dict[str, Any], now: datetime | None = None) -> datetime | None:
    """When a token set's access token expires (``expires_at`` epoch or ``expires_in`` seconds)."""
    if token.get("expires_at") is not None:
        return datetime.fromtimestamp(float(token["expires_at"]), tz=UTC)
    if token.get("expires_in") is not None:
        return (now or utcnow()) + timedelta(seconds=float(token["expires_in"]))
    return None


def save_xero_token(cipher: TokenCipher, org: Organisation, token: dict[str, Any]) -> None:
    """Store a Xero token set on the organisation (encrypted); the caller commits."""
    org.xero_token_encrypted = cipher.encrypt_json(token)
    org.xero_token_expires_at = expiry_from(token)
    org.xero_scopes = (
        " ".join(token.get("scope") or [])
        if isinstance(token.get("scope"), list)
        else str(token.get("scope") or org.xero_scopes)
    )
    org.updated_at = utcnow()


def read_xero_token(cipher: TokenCipher, org: Organisation) -> dict[str, Any] | None:
    """The organisation's Xero token set, or None when it has none."""
    if not org.xero_token_encrypted:
        return None
    return cipher.decrypt_json(org.xero_token_encrypted)


def save_amazon_tokens(
    cipher: TokenCipher,
    connection: AmazonConnection,
    refresh_token: str | None = None,
    access_token: str | None = None,
    expires_at: datetime | None = None,
) -> None:
    """Store an Amazon Business connection's tokens (encrypted); the caller commits."""
    if refresh_token is not None:
        connection.refresh_token_encrypted = cipher.encrypt(refresh_token)
    if access_token is not None:
        connection.access_token_encrypted = cipher.encrypt(access_token)
        connection.access_token_expires_at = expires_at
    connection.updated_at = utcnow()


def read_amazon_refresh_token(cipher: TokenCipher, connection: AmazonConnection) -> str | None:
    """The connection's LWA refresh token, or None."""
    if not connection.refresh_token_encrypted:
        return None
    return cipher.decrypt(connection.refresh_token_encrypted)


def read_amazon_access_token(cipher: TokenCipher, connection: AmazonConnection) -> str | None:
    """The cached LWA access token, or None."""
    if not connection.access_token_encrypted:
        return None
    return cipher.decrypt(connection.access_token_encrypted)
