"""Mocked Amazon Business: our test credentials, Amazon's hosts, the consent picker."""

from __future__ import annotations

import re
from typing import Any

from tests.common.web import query_of

CLIENT_ID = "amzn1.application-oa2-client.test"
CLIENT_SECRET = "test-amazon-secret"
APPLICATION_ID = "amzn1.sp.solution.test-app"
LWA_URL = "https://api.amazon.com/auth/o2/token"
EU_API = "https://eu.business-api.amazon.com"
TX_URL = EU_API + "/reconciliation/2021-01-08/transactions"


def start_consent(client: Any, org_id: int, store: str = "UK") -> dict[str, str]:
    """POST the picker and return the consent redirect's query parameters."""
    response = client.post(f"/orgs/{org_id}/amazon", data={"store": store})
    assert response.status_code == 303, response.get_data(as_text=True)
    return query_of(response.headers["Location"])


def text_of(response: Any) -> str:
    """A response's HTML with whitespace collapsed and entities for quotes undone."""
    html = response.get_data(as_text=True).replace("&#39;", "'").replace("&#34;", '"')
    return re.sub(r"\s+", " ", html)
