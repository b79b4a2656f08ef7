"""Xero OAuth 2.0 and OpenID Connect: the authorize URL, code exchange, id_token verification,
refresh, revocation, and the identity-level ``/connections`` endpoints.

Uses requests-oauthlib for the OAuth exchanges (client authentication by HTTP Basic, as Xero
documents) and PyJWT to verify the RS256 id_token against the JWKS named in Xero's discovery
document (cached per process, fetched again when an unknown key id appears).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from oauthlib.oauth2 import OAuth2Error
from requests_oauthlib import OAuth2Session

from plugin.xero.errors import IdTokenError
from plugin.xero.errors import XeroConnectionRevoked
from plugin.xero.errors import XeroError
from plugin.xero.errors import XeroNeedsReconnect
from plugin.xero.errors import XeroTokenError

log = logging.getLogger(__name__)

TIMEOUT = (5, 30)
DISCOVERY_TTL_SECONDS = 3600


@dataclass(frozen=True)
class XeroAppSettings:
    """The app's Xero credentials and endpoints (plain values: no Flask needed)."""

    client_id: str
    client_secret: str
    redirect_uri: str
    scopes: tuple[str, ...]
    login_url: str = "https://login.xero.com"
    identity_url: str = "https://identity.xero.com"
    api_url: str = "https://api.xero.com"

    @classmethod
    def from_config(cls, config: Any) -> XeroAppSettings:
        """Build from the app's settings."""
        return cls(
            client_id=config["XERO_CLIENT_ID"],
            client_secret=config["XERO_CLIENT_SECRET"],
            redirect_uri=str(config["PUBLIC_URL"]).rstrip("/") + "/xero/callback",
            scopes=tuple(str(config["XERO_SCOPES"]).split()),
            login_url=str(config["XERO_LOGIN_URL"]).rstrip("/"),
            identity_url=str(config["XERO_IDENTITY_URL"]).rstrip("/"),
            api_url=str(config["XERO_API_URL"]).rstrip("/"),
        )

    @property
    def authorize_endpoint(self) -> str:
        return f"{self.login_url}/identity/connect/authorize"

    @property
    def token_endpoint(self) -> str:
        return f"{self.identity_url}/connect/token"

    @property
    def revocation_endpoint(self) -> str:
        return f"{self.identity_url}/connect/revocation"

    @property
    def discovery_url(self) -> str:
        return f"{self.identity_url}/.well-known/openid-configuration"


@dataclass(frozen=True)
class SignIn:
    """What a successful consent gives us."""

    token: dict[str, Any]
    xero_user_id: str
    email: str
    name: str
    authentication_event_id: str


_discovery_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_jwks_cache: dict[str, jwt.PyJWKSet] = {}
_cache_lock = threading.Lock()


def _fetch_json(http: requests.Session, url: str) -> dict[str, Any]:
    response = http.get(url, timeout=TIMEOUT)
    if response.status_code != 200:
        raise IdTokenError(f"Could not read {url} (HTTP {response.status_code}).")
    body = response.json()
    if not isinstance(body, dict):
        raise IdTokenError(f"{url} did not return a JSON object.")
    return body


class XeroIdentity:
    """Talks to Xero's identity service for one app (authorize, tokens, id_token, connections)."""

    def __init__(self, settings: XeroAppSettings, http: requests.Session | None = None) -> None:
        self.settings = settings
        self.http = http or requests.Session()

    # Consent -------------------------------------------------------------------------------
    def authorization_url(self, state: str, nonce: str) -> str:
        """Where to send the browser to sign in and consent."""
        oauth = OAuth2Session(
            self.settings.client_id,
            redirect_uri=self.settings.redirect_uri,
            scope=list(self.settings.scopes),
        )
        url, _ = oauth.authorization_url(self.settings.authorize_endpoint, state=state, nonce=nonce)
        return str(url)

    def exchange_code(self, code: str) -> dict[str, Any]:
        """Trade the callback's code for a token set (access, refresh, id token)."""
        oauth = OAuth2Session(
            self.settings.client_id,
            redirect_uri=self.settings.redirect_uri,
            scope=list(self.settings.scopes),
        )
        try:
            token = oauth.fetch_token(
                self.settings.token_endpoint,
                code=code,
                client_secret=self.settings.client_secret,
                timeout=TIMEOUT,
            )
        except OAuth2Error as exc:
            raise XeroTokenError(f"Xero refused the sign-in code ({exc.error}).", 400) from exc
        except Warning as changed:  # oauthlib: the granted scopes differ from those requested
            token = getattr(changed, "token", None)
            if token is None:
                raise
            log.warning(
                "Xero granted scopes %s (asked for %s)", token.get("scope"), self.settings.scopes
            )
        return dict(token)

    def sign_in(self, code: str, nonce: str) -> SignIn:
        """Exchange the code and verify who signed in."""
        token = self.exchange_code(code)
        if "id_token" not in token:
            raise IdTokenError("Xero did not return an id_token (is the openid scope requested?).")
        claims = self.verify_id_token(token["id_token"], nonce)
        access_claims = unverified_claims(token.get("access_token", ""))
        name = claims.get("name") or " ".join(
            part for part in (claims.get("given_name"), claims.get("family_name")) if part
        )
        return SignIn(
            token=token,
            xero_user_id=str(claims.get("xero_userid") or claims.get("sub")),
            email=str(claims.get("email") or ""),
            name=str(name or ""),
            authentication_event_id=str(access_claims.get("authentication_event_id") or ""),
        )

    # id_token --------------------------------------------------------------------------------
    def discovery(self) -> dict[str, Any]:
        """Xero's OpenID configuration, cached for an hour."""
        url = self.settings.discovery_url
        with _cache_lock:
            cached = _discovery_cache.get(url)
            if cached and time.monotonic() - cached[0] < DISCOVERY_TTL_SECONDS:
                return cached[1]
        document = _fetch_json(self.http, url)
        with _cache_lock:
            _discovery_cache[url] = (time.monotonic(), document)
        return document

    def _signing_key(self, kid: str | None) -> Any:
        jwks_uri = self.discovery().get("jwks_uri")
        if not jwks_uri:
            raise IdTokenError("Xero's discovery document names no jwks_uri.")
        for attempt in range(2):
            with _cache_lock:
                key_set = _jwks_cache.get(jwks_uri)
            if key_set is None or attempt == 1:
                key_set = jwt.PyJWKSet.from_dict(_fetch_json(self.http, jwks_uri))
                with _cache_lock:
                    _jwks_cache[jwks_uri] = key_set
            for key in key_set.keys:
                if kid is None or key.key_id == kid:
                    return key.key
        raise IdTokenError("The id_token was signed with a key Xero does not publish.")

    def verify_id_token(self, id_token: str, nonce: str | None) -> dict[str, Any]:
        """Verify signature (RS256, Xero's JWKS), issuer, audience, expiry and nonce."""
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError as exc:
            raise IdTokenError("The id_token is not a valid JWT.") from exc
        if header.get("alg") != "RS256":
            raise IdTokenError("The id_token is not signed with RS256.")
        issuer = self.discovery().get("issuer")
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key=self._signing_key(header.get("kid")),
                algorithms=["RS256"],
                audience=self.settings.client_id,
                issuer=issuer,
                options={"require": ["exp", "iss", "aud"]},
                leeway=60,
            )
        except jwt.ExpiredSignatureError as exc:
            raise IdTokenError("The id_token has expired.") from exc
        except jwt.InvalidAudienceError as exc:
            raise IdTokenError("The id_token was issued to another application.") from exc
        except jwt.InvalidIssuerError as exc:
            raise IdTokenError("The id_token was not issued by Xero.") from exc
        except jwt.PyJWTError as exc:
            raise IdTokenError(f"The id_token failed verification ({exc}).") from exc
        if nonce is not None and claims.get("nonce") != nonce:
            raise IdTokenError("The id_token does not belong to this sign-in (nonce mismatch).")
        return claims

    # Refresh and revoke ----------------------------------------------------------------------
    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """A new token set; Xero rotates the refresh token every time."""
        response = self.http.post(
            self.settings.token_endpoint,
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            auth=(self.settings.client_id, self.settings.client_secret),
            headers={"Accept": "application/json"},
            timeout=TIMEOUT,
        )
        body = _json_or_empty(response)
        if response.status_code == 200 and "access_token" in body:
            token = dict(body)
            token["expires_at"] = time.time() + float(token.get("expires_in", 1800))
            return token
        error = str(body.get("error") or f"HTTP {response.status_code}")
        if error == "invalid_grant":
            raise XeroNeedsReconnect(
                "Xero no longer accepts this connection's refresh token (it was revoked, expired "
                "after 60 days unused, or replaced). Reconnect to Xero.",
                response.status_code,
            )
        raise XeroTokenError(f"Xero's token endpoint refused the refresh ({error}).")

    def revoke(self, refresh_token: str) -> None:
        """Revoke a refresh token (removes all of that user's connections to the app)."""
        response = self.http.post(
            self.settings.revocation_endpoint,
            data={"token": refresh_token},
            auth=(self.settings.client_id, self.settings.client_secret),
            timeout=TIMEOUT,
        )
        if response.status_code not in (200, 204):
            raise XeroTokenError(f"Xero refused to revoke the token (HTTP {response.status_code}).")

    # Connections -----------------------------------------------------------------------------
    def connections(self, access_token: str, auth_event_id: str | None = None) -> list[dict]:
        """The tenants this token may access (optionally only those of one consent)."""
        params = {"authEventId": auth_event_id} if auth_event_id else None
        response = self.http.get(
            f"{self.settings.api_url}/connections",
            params=params,
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            timeout=TIMEOUT,
        )
        if response.status_code == 401:
            raise XeroNeedsReconnect("Xero did not accept the access token.", 401)
        if response.status_code != 200:
            raise XeroError(f"Could not list Xero connections (HTTP {response.status_code}).")
        body = response.json()
        return body if isinstance(body, list) else []

    def delete_connection(self, access_token: str, connection_id: str) -> None:
        """Disconnect one tenant from the app (404 means it was already gone)."""
        response = self.http.delete(
            f"{self.settings.api_url}/connections/{connection_id}",
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=TIMEOUT,
        )
        if response.status_code in (200, 204, 404):
            return
        if response.status_code in (401, 403):
            raise XeroConnectionRevoked("Xero refused to remove the connection.", 403)
        raise XeroError(f"Could not remove the Xero connection (HTTP {response.status_code}).")


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT we received directly from Xero's token endpoint (over TLS)."""
    try:
        return dict(jwt.decode(token, options={"verify_signature": False}))
    except jwt.PyJWTError:
        return {}


def _json_or_empty(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
