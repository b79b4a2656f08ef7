"""OAuth 2.0 / OpenID Connect logic: connections, codes, token sets, JWTs, bearer checks.

Functions take the world and the current sandbox time explicitly; callers hold the lock.
Access tokens live on the sandbox clock (the sandbox enforces them). id_tokens carry real
wall-clock times, because the relying party verifies them against its own clock.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import Any

import jwt

from sandbox.xero.keys import signing_key
from sandbox.xero.world import AuthCode
from sandbox.xero.world import AuthRequest
from sandbox.xero.world import Connection
from sandbox.xero.world import TokenSet
from sandbox.xero.world import XeroUser
from sandbox.xero.world import XeroWorld

ACCESS_TOKEN_SECONDS = 1800
ID_TOKEN_SECONDS = 300
CODE_SECONDS = 300
REFRESH_GRACE_SECONDS = 1800
REFRESH_IDLE_SECONDS = 60 * 86400

KNOWN_SCOPES = frozenset(
    {
        "openid",
        "profile",
        "email",
        "offline_access",
        "accounting.transactions",
        "accounting.transactions.read",
        "accounting.reports.read",
        "accounting.settings",
        "accounting.settings.read",
        "accounting.contacts",
        "accounting.contacts.read",
        "accounting.attachments",
        "accounting.attachments.read",
        "accounting.invoices",
        "accounting.invoices.read",
        "accounting.payments",
        "accounting.payments.read",
        "accounting.banktransactions",
        "accounting.banktransactions.read",
        "accounting.manualjournals",
        "accounting.manualjournals.read",
        "accounting.budgets.read",
        "accounting.journals.read",
    }
)


class OAuthError(Exception):
    """A token-endpoint error (``invalid_grant``, ``invalid_client``, ...)."""

    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class BearerCheck:
    """The outcome of checking an ``Authorization: Bearer`` access token."""

    claims: dict[str, Any] | None
    detail: str


def access_audience(issuer: str) -> str:
    """The ``aud`` of access tokens (Xero: ``https://identity.xero.com/resources``)."""
    return f"{issuer}/resources"


def unknown_scopes(scope: str) -> list[str]:
    """Scopes the sandbox does not know (Xero answers ``invalid_scope``)."""
    return [s for s in scope.split() if s not in KNOWN_SCOPES]


def connect_tenants(
    world: XeroWorld, request: AuthRequest, tenant_ids: list[str], now: datetime
) -> str:
    """Create or refresh the user's connections to ``tenant_ids``; return the auth event id."""
    assert request.user_id is not None
    auth_event_id = str(uuid.uuid4())
    for tenant_id in tenant_ids:
        existing = next(
            (
                c
                for c in world.user_connections(request.user_id, request.client_id)
                if c.tenant_id == tenant_id
            ),
            None,
        )
        if existing:
            existing.auth_event_id = auth_event_id
            existing.updated = now
            continue
        first = world.first_connected.setdefault((request.user_id, tenant_id), now)
        connection = Connection(
            connection_id=str(uuid.uuid4()),
            user_id=request.user_id,
            tenant_id=tenant_id,
            client_id=request.client_id,
            auth_event_id=auth_event_id,
            created=first,
            updated=now,
        )
        world.connections[connection.connection_id] = connection
    return auth_event_id


def create_code(world: XeroWorld, request: AuthRequest, auth_event_id: str, now: float) -> str:
    """A single-use authorization code for a completed consent."""
    assert request.user_id is not None
    code = secrets.token_urlsafe(32)
    world.codes[code] = AuthCode(
        code=code,
        client_id=request.client_id,
        redirect_uri=request.redirect_uri,
        user_id=request.user_id,
        scope=request.scope,
        nonce=request.nonce,
        code_challenge=request.code_challenge,
        code_challenge_method=request.code_challenge_method,
        auth_event_id=auth_event_id,
        expires_at=now + CODE_SECONDS,
    )
    return code


def redeem_code(
    world: XeroWorld,
    client_id: str,
    code: str,
    redirect_uri: str,
    code_verifier: str | None,
    now: float,
) -> TokenSet:
    """Exchange a code for a new token set (raises ``OAuthError("invalid_grant")``)."""
    grant = world.codes.get(code)
    if grant is None or grant.used or grant.expires_at <= now:
        raise OAuthError("invalid_grant")
    if grant.client_id != client_id or grant.redirect_uri != redirect_uri:
        raise OAuthError("invalid_grant")
    if grant.code_challenge and not _verifier_matches(grant, code_verifier):
        raise OAuthError("invalid_grant")
    grant.used = True
    token_set = TokenSet(
        token_set_id=str(uuid.uuid4()),
        client_id=client_id,
        user_id=grant.user_id,
        scope=grant.scope,
        auth_event_id=grant.auth_event_id,
        nonce=grant.nonce,
        refresh_token=secrets.token_hex(32),
        last_used=now,
        pkce=bool(grant.code_challenge),
    )
    world.token_sets[token_set.token_set_id] = token_set
    world.refresh_index[token_set.refresh_token] = token_set.token_set_id
    return token_set


def _verifier_matches(grant: AuthCode, verifier: str | None) -> bool:
    if not verifier:
        return False
    if (grant.code_challenge_method or "plain").upper() == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        computed = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        return computed == grant.code_challenge
    return verifier == grant.code_challenge


def token_set_for_refresh(world: XeroWorld, refresh_token: str) -> TokenSet | None:
    """The token set a refresh token belongs to, if any."""
    token_set_id = world.refresh_index.get(refresh_token)
    return world.token_sets.get(token_set_id) if token_set_id else None


def rotate(world: XeroWorld, client_id: str, refresh_token: str, now: float) -> TokenSet:
    """Spend a refresh token: the current one, or a superseded one within its 30-minute grace."""
    token_set = token_set_for_refresh(world, refresh_token)
    if token_set is None or token_set.revoked or token_set.client_id != client_id:
        raise OAuthError("invalid_grant")
    if refresh_token != token_set.refresh_token:
        superseded_at = token_set.superseded.get(refresh_token)
        if superseded_at is None or now - superseded_at > REFRESH_GRACE_SECONDS:
            raise OAuthError("invalid_grant")
    if now - token_set.last_used > REFRESH_IDLE_SECONDS:
        raise OAuthError("invalid_grant")
    token_set.superseded[token_set.refresh_token] = now
    token_set.refresh_token = secrets.token_hex(32)
    token_set.last_used = now
    world.refresh_index[token_set.refresh_token] = token_set.token_set_id
    return token_set


def revoke(world: XeroWorld, client_id: str, token: str) -> bool:
    """Revoke a token set by its refresh token and drop its user's connections to the app."""
    token_set = token_set_for_refresh(world, token)
    if token_set is None or token_set.client_id != client_id:
        return False
    token_set.revoked = True
    for connection in world.user_connections(token_set.user_id, client_id):
        del world.connections[connection.connection_id]
    return True


def token_response(
    world: XeroWorld, token_set: TokenSet, issuer: str, now: float
) -> dict[str, Any]:
    """The JSON the token endpoint returns for a token set."""
    user = world.users[token_set.user_id]
    scopes = token_set.scope.split()
    body: dict[str, Any] = {
        "access_token": access_token(user, token_set, issuer, now),
        "expires_in": ACCESS_TOKEN_SECONDS,
        "token_type": "Bearer",
        "scope": token_set.scope,
    }
    if "openid" in scopes:
        body["id_token"] = id_token(user, token_set, issuer)
    if "offline_access" in scopes:
        body["refresh_token"] = token_set.refresh_token
    return body


def subject(user: XeroUser) -> str:
    """The OIDC ``sub`` of a user (Xero's differs from ``xero_userid``)."""
    return uuid.uuid5(uuid.UUID(user.user_id), "sub").hex


def access_token(user: XeroUser, token_set: TokenSet, issuer: str, now: float) -> str:
    """An RS256 access token valid for 30 minutes of sandbox time."""
    issued = int(now)
    claims = {
        "nbf": issued,
        "exp": issued + ACCESS_TOKEN_SECONDS,
        "iss": issuer,
        "aud": access_audience(issuer),
        "client_id": token_set.client_id,
        "sub": subject(user),
        "auth_time": issued,
        "xero_userid": user.user_id,
        "global_session_id": token_set.token_set_id.replace("-", ""),
        "sid": token_set.token_set_id.replace("-", ""),
        "jti": uuid.uuid4().hex,
        "authentication_event_id": token_set.auth_event_id,
        "scope": token_set.scope.split(),
        "amr": ["pwd"],
    }
    return signing_key().sign(claims)


def id_token(user: XeroUser, token_set: TokenSet, issuer: str) -> str:
    """An RS256 id_token for the client (times on the real clock; see module docstring)."""
    issued = int(time.time())
    scopes = token_set.scope.split()
    claims: dict[str, Any] = {
        "nbf": issued,
        "exp": issued + ID_TOKEN_SECONDS,
        "iss": issuer,
        "aud": token_set.client_id,
        "iat": issued,
        "auth_time": issued,
        "sub": subject(user),
        "xero_userid": user.user_id,
        "global_session_id": token_set.token_set_id.replace("-", ""),
        "sid": token_set.token_set_id.replace("-", ""),
        "amr": ["pwd"],
    }
    if "email" in scopes:
        claims["email"] = user.email
    if "profile" in scopes:
        claims.update(
            {
                "given_name": user.given_name,
                "family_name": user.family_name,
                "name": user.name,
                "preferred_username": user.email,
            }
        )
    if token_set.nonce:
        claims["nonce"] = token_set.nonce
    return signing_key().sign(claims)


def check_bearer(authorization: str | None, issuer: str, now: float) -> BearerCheck:
    """Verify an ``Authorization`` header's access token against the sandbox clock."""
    if not authorization or not authorization.startswith("Bearer "):
        return BearerCheck(None, "AuthenticationUnsuccessful")
    token = authorization.removeprefix("Bearer ").strip()
    try:
        claims = signing_key().decode(token, audience=access_audience(issuer))
    except jwt.InvalidTokenError:
        return BearerCheck(None, "AuthenticationUnsuccessful")
    if claims.get("iss") != issuer:
        return BearerCheck(None, "AuthenticationUnsuccessful")
    expires = int(claims.get("exp", 0))
    if expires <= now:
        stamp = datetime.fromtimestamp(expires, tz=UTC).strftime("%m/%d/%Y %H:%M:%S")
        return BearerCheck(None, f"TokenExpired: token expired at {stamp}")
    if int(claims.get("nbf", 0)) > now + 300:
        return BearerCheck(None, "AuthenticationUnsuccessful")
    return BearerCheck(claims, "")
