"""Xero identity endpoints: token, revocation, discovery, JWKS, userinfo and connections."""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request

from sandbox.core import current_sandbox
from sandbox.xero import oauth
from sandbox.xero.oauth import OAuthError
from sandbox.xero.world import Connection
from sandbox.xero.world import xero_world
from sandbox.xero.xerojson import problem

bp = Blueprint("xero_identity", __name__)

GRANT_TYPES = ("authorization_code", "refresh_token")


def issuer() -> str:
    """The sandbox's issuer URL (``SANDBOX_BASE_URL``)."""
    return str(current_sandbox().config["SANDBOX_BASE_URL"])


def _oauth_error(error: str, status: int = 400) -> tuple[Response, int]:
    return jsonify({"error": error}), status


def _client_credentials() -> tuple[str | None, str | None]:
    auth = request.authorization
    if auth is not None and auth.type == "basic":
        return auth.username, auth.password
    return request.form.get("client_id"), request.form.get("client_secret")


def _authenticated_client(allow_public: bool) -> str:
    """The client id, after checking its secret (PKCE clients may omit it)."""
    config = current_sandbox().config
    client_id, secret = _client_credentials()
    if client_id != config["SANDBOX_XERO_CLIENT_ID"]:
        raise OAuthError("invalid_client")
    if secret is None and allow_public:
        return client_id
    if not hmac.compare_digest(secret or "", str(config["SANDBOX_XERO_CLIENT_SECRET"])):
        raise OAuthError("invalid_client")
    return client_id


@bp.post("/connect/token")
def token() -> Any:
    """Exchange an authorization code or a refresh token for a token set."""
    sandbox = current_sandbox()
    grant_type = request.form.get("grant_type", "")
    with sandbox.lock:
        world = xero_world()
        world.stats.token_requests[grant_type or "(none)"] += 1
        now = sandbox.clock.time()
        try:
            if grant_type == "authorization_code":
                code = world.codes.get(request.form.get("code", ""))
                client_id = _authenticated_client(allow_public=bool(code and code.code_challenge))
                token_set = oauth.redeem_code(
                    world,
                    client_id,
                    request.form.get("code", ""),
                    request.form.get("redirect_uri", ""),
                    request.form.get("code_verifier"),
                    now,
                )
            elif grant_type == "refresh_token":
                refresh_token = request.form.get("refresh_token", "")
                known = oauth.token_set_for_refresh(world, refresh_token)
                client_id = _authenticated_client(allow_public=bool(known and known.pkce))
                token_set = oauth.rotate(world, client_id, refresh_token, now)
            else:
                _authenticated_client(allow_public=True)
                raise OAuthError("unsupported_grant_type")
        except OAuthError as exc:
            world.stats.token_errors[f"{grant_type or '(none)'}:{exc.error}"] += 1
            return _oauth_error(exc.error)
        body = oauth.token_response(world, token_set, issuer(), now)
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/connect/revocation")
def revocation() -> Any:
    """Revoke a refresh token; the user's connections to the app go with it."""
    sandbox = current_sandbox()
    with sandbox.lock:
        world = xero_world()
        try:
            client_id = _authenticated_client(allow_public=False)
        except OAuthError as exc:
            return _oauth_error(exc.error)
        token_value = request.form.get("token", "")
        if not token_value:
            return _oauth_error("invalid_request")
        if oauth.revoke(world, client_id, token_value):
            world.stats.revocations += 1
    return Response(status=200)


@bp.get("/.well-known/openid-configuration")
def discovery() -> Any:
    """The OpenID Connect discovery document."""
    base = issuer()
    return jsonify(
        {
            "issuer": base,
            "authorization_endpoint": f"{base}/identity/connect/authorize",
            "token_endpoint": f"{base}/connect/token",
            "userinfo_endpoint": f"{base}/connect/userinfo",
            "revocation_endpoint": f"{base}/connect/revocation",
            "jwks_uri": f"{base}/.well-known/openid-configuration/jwks",
            "scopes_supported": sorted(oauth.KNOWN_SCOPES),
            "claims_supported": [
                "sub",
                "xero_userid",
                "email",
                "given_name",
                "family_name",
                "name",
                "preferred_username",
                "nonce",
                "global_session_id",
            ],
            "grant_types_supported": list(GRANT_TYPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }
    )


@bp.get("/.well-known/openid-configuration/jwks")
def jwks() -> Any:
    """The public key that signs id_tokens and access tokens."""
    return jsonify(oauth.signing_key().jwks())


def _bearer_user() -> tuple[dict[str, Any] | None, Any]:
    """The access token's claims, or a 401 response."""
    sandbox = current_sandbox()
    check = oauth.check_bearer(request.headers.get("Authorization"), issuer(), sandbox.clock.time())
    if check.claims is None:
        return None, (jsonify(problem(401, "Unauthorized", check.detail)), 401)
    return check.claims, None


@bp.get("/connect/userinfo")
def userinfo() -> Any:
    """The signed-in user's claims."""
    claims, error = _bearer_user()
    if claims is None:
        return error
    with current_sandbox().lock:
        user = xero_world().users.get(claims["xero_userid"])
    if user is None:
        return jsonify(problem(401, "Unauthorized", "AuthenticationUnsuccessful")), 401
    return jsonify(
        {
            "sub": claims["sub"],
            "xero_userid": user.user_id,
            "email": user.email,
            "given_name": user.given_name,
            "family_name": user.family_name,
            "name": user.name,
            "preferred_username": user.email,
        }
    )


def _connection_json(connection: Connection, tenant_name: str, tenant_type: str) -> dict[str, Any]:
    return {
        "id": connection.connection_id,
        "authEventId": connection.auth_event_id,
        "tenantId": connection.tenant_id,
        "tenantType": tenant_type,
        "tenantName": tenant_name,
        "createdDateUtc": _connection_time(connection.created),
        "updatedDateUtc": _connection_time(connection.updated),
    }


def _connection_time(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


@bp.get("/connections")
@bp.get("/Connections")
def list_connections() -> Any:
    """The token user's connections to this app, optionally for one auth event."""
    claims, error = _bearer_user()
    if claims is None:
        return error
    wanted_event = request.args.get("authEventId", "").lower()
    with current_sandbox().lock:
        world = xero_world()
        connections = sorted(
            world.user_connections(claims["xero_userid"], claims["client_id"]),
            key=lambda c: (c.created, c.connection_id),
        )
        body = [
            _connection_json(
                c, world.tenants[c.tenant_id].name, world.tenants[c.tenant_id].tenant_type
            )
            for c in connections
            if not wanted_event or c.auth_event_id == wanted_event
        ]
    return jsonify(body)


@bp.delete("/connections/<connection_id>")
@bp.delete("/Connections/<connection_id>")
def delete_connection(connection_id: str) -> Any:
    """Disconnect one tenant (by connection id, not tenant id)."""
    claims, error = _bearer_user()
    if claims is None:
        return error
    with current_sandbox().lock:
        world = xero_world()
        connection = world.connections.get(connection_id.lower())
        if (
            connection is None
            or connection.user_id != claims["xero_userid"]
            or connection.client_id != claims["client_id"]
        ):
            return Response(status=404)
        del world.connections[connection.connection_id]
        world.stats.connections_deleted += 1
    return Response(status=204)
