"""Helpers for the Xero sandbox tests: run the consent flow, call the API, read the stats."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest

from sandbox import create_sandbox_app

CLIENT_ID = "sandbox-xero-client-id"
CLIENT_SECRET = "sandbox-xero-client-secret"
REDIRECT_URI = "http://localhost:5000/xero/callback"
SCOPES = (
    "openid profile email offline_access accounting.settings.read accounting.contacts "
    "accounting.banktransactions accounting.invoices accounting.payments accounting.attachments"
)
THAMES = "Thames Stationery Ltd"
HUDSON = "Hudson Design LLC"
PRACTICE = "Alice & Co Practice"


def basic_auth(client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> dict[str, str]:
    token = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def authorize_params(**overrides: Any) -> dict[str, Any]:
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": SCOPES,
        "state": "state-123",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def request_id_of(html: str) -> str:
    match = re.search(r'name="request_id" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def tenant_checkboxes(html: str) -> dict[str, str]:
    """Tenant name -> tenant id, from the consent page's checkboxes and labels."""
    ids = dict(re.findall(r'id="(tenant-\d+)" name="tenant" value="([^"]+)"', html))
    labels = re.findall(r'<label for="(tenant-\d+)">([^<]+)</label>', html)
    return {name.replace("&amp;", "&"): ids[box] for box, name in labels}


def sign_in(client: Any, email: str = "alice@example.com", **params: Any) -> tuple[str, str]:
    """Open the authorize page and sign in; return (request id, consent page html)."""
    page = client.get("/identity/connect/authorize", query_string=authorize_params(**params))
    assert page.status_code == 200, page.text
    request_id = request_id_of(page.text)
    answer = client.post(
        "/identity/connect/authorize/sign-in",
        data={"request_id": request_id, "email": email, "password": "sandbox"},
    )
    assert answer.status_code == 303, answer.text
    consent = client.get(answer.headers["Location"])
    assert consent.status_code == 200
    return request_id, consent.text


def consent(
    client: Any,
    email: str = "alice@example.com",
    tenants: tuple[str, ...] = (THAMES,),
    **params: Any,
) -> dict[str, str]:
    """Run sign-in and consent; return the query of the redirect back to the app."""
    request_id, html = sign_in(client, email, **params)
    boxes = tenant_checkboxes(html)
    answer = client.post(
        "/identity/connect/authorize/consent",
        data={"request_id": request_id, "action": "allow", "tenant": [boxes[t] for t in tenants]},
    )
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    return {k: v[0] for k, v in query.items()}


def exchange(client: Any, code: str, **form: Any) -> Any:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    data.update(form)
    return client.post("/connect/token", data=data, headers=basic_auth())


def refresh(client: Any, refresh_token: str) -> Any:
    return client.post(
        "/connect/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        headers=basic_auth(),
    )


def tenant_ids(app: Any) -> dict[str, str]:
    client = app.test_client()
    return {o["tenantName"]: o["tenantId"] for o in client.get("/_sandbox/xero/orgs").json["orgs"]}


@dataclass
class XeroSession:
    """A signed-in app: its tokens and tenants, and shortcuts for Accounting API calls."""

    client: Any
    app: Any
    tokens: dict[str, Any]
    tenants: dict[str, str] = field(default_factory=dict)
    tenant: str = ""

    @property
    def sandbox(self) -> Any:
        return self.app.extensions["sandbox"]

    def headers(self, tenant: str | None = None, **extra: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.tokens['access_token']}",
            "xero-tenant-id": tenant or self.tenant,
            "Accept": "application/json",
            **extra,
        }

    def get(self, path: str, tenant: str | None = None, **kwargs: Any) -> Any:
        return self.client.get(f"/api.xro/2.0/{path}", headers=self.headers(tenant), **kwargs)

    def put(
        self,
        path: str,
        json: Any = None,
        tenant: str | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        return self.client.put(
            f"/api.xro/2.0/{path}",
            json=json,
            headers={**self.headers(tenant), **(headers or {})},
            **kwargs,
        )

    def post(self, path: str, json: Any = None, tenant: str | None = None, **kwargs: Any) -> Any:
        return self.client.post(
            f"/api.xro/2.0/{path}", json=json, headers=self.headers(tenant), **kwargs
        )

    def stats(self) -> dict[str, Any]:
        return self.client.get("/_sandbox/xero/stats").json

    def account(self, code: str, tenant: str | None = None) -> dict[str, Any]:
        found = self.get(f'Accounts?where=Code=="{code}"', tenant=tenant).json["Accounts"]
        assert len(found) == 1
        return found[0]

    def contact_id(self, name: str, tenant: str | None = None) -> str:
        found = self.get(
            "Contacts",
            query_string={"where": f'Name=="{name}"', "includeArchived": "true"},
            tenant=tenant,
        ).json["Contacts"]
        assert found, name
        return str(found[0]["ContactID"])


def connect_session(
    app: Any, email: str = "alice@example.com", tenants: tuple[str, ...] = (THAMES, HUDSON)
) -> XeroSession:
    client = app.test_client()
    redirect = consent(client, email, tenants)
    tokens = exchange(client, redirect["code"]).json
    ids = tenant_ids(app)
    return XeroSession(client=client, app=app, tokens=tokens, tenants=ids, tenant=ids[tenants[0]])


@pytest.fixture
def xero_app() -> Any:
    """A sandbox app with generous limits (tests that need small ones make their own)."""
    return create_sandbox_app({"SANDBOX_AMAZON_TRANSACTIONS": 5})


@pytest.fixture
def xero(xero_app: Any) -> XeroSession:
    """Alice, connected to Thames Stationery (current tenant) and Hudson Design."""
    return connect_session(xero_app)


def live_session(
    live: Any, email: str = "alice@example.com", tenants: tuple[str, ...] = (THAMES,)
) -> XeroSession:
    """Tokens for a live sandbox (the consent flow runs through its app's test client)."""
    return connect_session(live.app, email, tenants)
