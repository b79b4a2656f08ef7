"""Walking the sandbox's sign-in and consent pages like a browser would (for end-to-end tests)."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urljoin
from urllib.parse import urlsplit

import requests

TIMEOUT = 10

SANDBOX_DEFAULTS = {
    "XERO_CLIENT_ID": "sandbox-xero-client-id",
    "XERO_CLIENT_SECRET": "sandbox-xero-client-secret",
    "XERO_WEBHOOK_KEY": "sandbox-xero-webhook-key",
    "AMAZON_CLIENT_ID": "amzn1.application-oa2-client.sandbox",
    "AMAZON_CLIENT_SECRET": "sandbox-amazon-client-secret",
    "AMAZON_APPLICATION_ID": "amzn1.sp.solution.sandbox",
}


def sandbox_settings(sandbox_url: str) -> dict[str, Any]:
    """Plugin settings pointing every external URL at a live sandbox."""
    return {
        **SANDBOX_DEFAULTS,
        "XERO_LOGIN_URL": sandbox_url,
        "XERO_IDENTITY_URL": sandbox_url,
        "XERO_API_URL": sandbox_url,
        "AMAZON_LWA_TOKEN_URL": f"{sandbox_url}/auth/o2/token",
        "AMAZON_CONSENT_URL_TEMPLATE": f"{sandbox_url}/amazon/{{store}}",
        "AMAZON_API_URL_TEMPLATE": f"{sandbox_url}/amazon-api/{{region}}",
    }


def _form(html: str, action_contains: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the first form whose action contains the text."""
    for match in re.finditer(r"<form[^>]*action=\"([^\"]+)\"[^>]*>(.*?)</form>", html, re.S):
        action, inner = match.group(1), match.group(2)
        if action_contains in action:
            hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', inner))
            return action.replace("&amp;", "&"), hidden
    raise AssertionError(f"no form posting to {action_contains!r} in the page")


def xero_consent(
    authorize_url: str, email: str, tenant_ids: list[str] | None = None, allow: bool = True
) -> str:
    """Sign in at the sandbox's Xero and consent; returns the redirect back to the plugin."""
    with requests.Session() as browser:
        page = browser.get(authorize_url, timeout=10)
        assert page.status_code == 200, page.text
        action, fields = _form(page.text, "sign-in")
        page = browser.post(
            urljoin(page.url, action),
            data={**fields, "email": email, "password": "sandbox"},
            timeout=10,
        )
        assert page.status_code == 200, page.text
        action, fields = _form(page.text, "consent")
        if tenant_ids is None:
            tenant_ids = re.findall(r'name="tenant" value="([^"]+)"', page.text)[:1]
        response = browser.post(
            urljoin(page.url, action),
            data={**fields, "tenant": tenant_ids, "action": "allow" if allow else "cancel"},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code in (302, 303), response.text
        return str(response.headers["Location"])


def path_and_query(url: str) -> str:
    """``/path?query`` of a URL (to replay a redirect on the Flask test client)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def tenant_ids_by_name(sandbox_url: str) -> dict[str, str]:
    """The sandbox's Xero organisations, name → tenant id."""
    body = requests.get(f"{sandbox_url}/_sandbox/xero/orgs", timeout=10).json()
    orgs = body["orgs"] if isinstance(body, dict) else body
    return {org["tenantName"]: org["tenantId"] for org in orgs}


def form_of(page: str) -> tuple[str, dict[str, str]]:
    """The first form's action and hidden fields (the sandbox's pages are simple)."""
    action = re.search(r'<form[^>]*action="([^"]+)"', page)
    assert action, page
    fields = {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)
    }
    return html.unescape(action.group(1)), fields


def sign_in_on_amazon(consent_url: str, email: str, allow: bool = True) -> str:
    """Walk the sandbox consent page like a browser; the redirect back to our callback."""
    with requests.Session() as amazon:
        page = amazon.get(consent_url, timeout=TIMEOUT)
        assert page.status_code == 200, page.text
        action, fields = form_of(page.text)
        fields.update({"email": email, "password": "sandbox"})
        answer = amazon.post(
            urljoin(page.url, action), data=fields, timeout=TIMEOUT, allow_redirects=False
        )
        if answer.status_code == 302:  # refused straight away (e.g. not an administrator)
            return answer.headers["Location"]
        assert answer.status_code == 200, answer.text
        action, fields = form_of(answer.text)
        fields["decision"] = "allow" if allow else "cancel"
        decision = amazon.post(
            urljoin(answer.url, action), data=fields, timeout=TIMEOUT, allow_redirects=False
        )
        assert decision.status_code == 302, decision.text
        return decision.headers["Location"]


def xero_install(app: Any, sandbox_url: str, email: str, tenant_names: list[str]) -> Any:
    """Sign up through the sandbox's Xero with our app; returns our signed-in test client."""
    client = app.test_client()
    authorize = client.get("/xero/connect").headers["Location"]
    ids = tenant_ids_by_name(sandbox_url)
    back = xero_consent(authorize, email, [ids[name] for name in tenant_names])
    response = client.get(path_and_query(back))
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def amazon_connect(client: Any, org_id: int, store: str, email: str) -> Any:
    """Connect an Amazon Business store through the sandbox's consent page."""
    location = client.post(f"/orgs/{org_id}/amazon", data={"store": store}).headers["Location"]
    back = sign_in_on_amazon(location, email)
    return client.get(path_and_query(back))
