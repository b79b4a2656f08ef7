"""Helpers for the Amazon sandbox tests: walk the consent flow, get tokens, call the API."""

from __future__ import annotations

import re
from typing import Any

from tests.common.web import query_of

APP_ID = "amzn1.sp.solution.sandbox"
CLIENT_ID = "amzn1.application-oa2-client.sandbox"
CLIENT_SECRET = "sandbox-amazon-client-secret"
REDIRECT = "http://127.0.0.1:5000/amazon/callback"
ADMIN_UK = "buyer-admin-uk@example.com"
ADMIN_US = "buyer-admin-us@example.com"
USER_UK = "buyer-user-uk@example.com"
TX_PATH = "/reconciliation/2021-01-08/transactions"
ALL_TIME = {"feedStartDate": "2000-01-01T00:00:00Z", "feedEndDate": "2100-01-01T00:00:00Z"}
REGION_OF = {"UK": "eu", "DE": "eu", "US": "na"}


def consent_params(state: str = "state-1", redirect_uri: str = REDIRECT) -> dict[str, str]:
    """The query parameters the plugin sends to the consent page."""
    return {"applicationId": APP_ID, "state": state, "redirect_uri": redirect_uri}


def sign_in(client: Any, store: str, email: str, password: str = "sandbox", **params: str) -> Any:
    """Post the sign-in form of a store's consent page."""
    form = {**consent_params(**params), "email": email, "password": password}
    return client.post(f"/amazon/{store}/b2b/abws/oauth", data=form)


def ticket_of(page: Any) -> str:
    """The Allow/Cancel ticket on a consent page (a test-client response or the HTML)."""
    html = page if isinstance(page, str) else page.get_data(as_text=True)
    match = re.search(r'name="ticket" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def authorize(client: Any, store: str = "UK", email: str = ADMIN_UK, **params: str) -> str:
    """Sign in and press Allow; the authorization code."""
    page = sign_in(client, store, email, **params)
    response = client.post(
        f"/amazon/{store}/b2b/abws/oauth/decision",
        data={"ticket": ticket_of(page), "decision": "allow"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return query_of(response.headers["Location"])["code"]


def token_request(client: Any, **form: str) -> Any:
    """POST the LWA token endpoint with the sandbox's client credentials unless overridden."""
    data = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **form}
    return client.post("/auth/o2/token", data=data)


def connect(client: Any, store: str = "UK", email: str = ADMIN_UK) -> dict[str, Any]:
    """The whole consent flow plus the code exchange; the token response."""
    code = authorize(client, store, email)
    response = token_request(
        client, grant_type="authorization_code", code=code, redirect_uri=REDIRECT
    )
    assert response.status_code == 200, response.json
    return response.json


def api(client: Any, method: str, store: str, path: str, token: str, **kwargs: Any) -> Any:
    """Call the Amazon API of the store's region with an access token."""
    headers = {"x-amz-access-token": token, **kwargs.pop("headers", {})}
    url = f"/amazon-api/{REGION_OF[store]}{path}"
    return client.open(url, method=method, headers=headers, **kwargs)


def all_transactions(client: Any, store: str, token: str) -> list[dict[str, Any]]:
    """Every transaction visible to the token, following nextPageToken."""
    response = api(client, "GET", store, TX_PATH, token, query_string=ALL_TIME)
    found = list(response.json["transactions"])
    while "nextPageToken" in response.json:
        query = {"nextPageToken": response.json["nextPageToken"]}
        response = api(client, "GET", store, TX_PATH, token, query_string=query)
        assert response.status_code == 200, response.json
        found.extend(response.json["transactions"])
    return found


def error_code(response: Any) -> str:
    """The first error code of an Amazon error body (checking its documented shape)."""
    body = response.json
    assert set(body) == {"errors"}
    assert {"code", "message", "details"} <= set(body["errors"][0])
    return str(body["errors"][0]["code"])
