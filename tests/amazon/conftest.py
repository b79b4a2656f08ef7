"""Fixtures for the Amazon Business side: configured app, a signed-in member, fake tokens and a
fake clock, and a client wired to ``responses`` (no test ever sleeps or leaves localhost)."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import responses

from plugin.amazon.client import AmazonBusinessClient
from plugin.amazon.regions import store_for
from plugin.amazon.reports import ReportPolling
from plugin.amazon.retry import RetryPolicy

CLIENT_ID = "amzn1.application-oa2-client.test"
CLIENT_SECRET = "test-amazon-secret"
APPLICATION_ID = "amzn1.sp.solution.test-app"
LWA_URL = "https://api.amazon.com/auth/o2/token"
EU_API = "https://eu.business-api.amazon.com"
TX_URL = EU_API + "/reconciliation/2021-01-08/transactions"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """The shared test settings plus Amazon credentials (Amazon's real hosts: mocked)."""
    app_config.update(
        {
            "AMAZON_CLIENT_ID": CLIENT_ID,
            "AMAZON_CLIENT_SECRET": CLIENT_SECRET,
            "AMAZON_APPLICATION_ID": APPLICATION_ID,
            "AMAZON_LWA_TOKEN_URL": LWA_URL,
        }
    )
    return app_config


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    """Mocked HTTP: unregistered URLs fail, and every registered response must be used."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def member(app, client, make_member, sign_in):
    """A signed-in user and their organisation: ``(user, org)``."""
    user, org = make_member("alice", "tenant-thames", "Thames Stationery Ltd")
    sign_in(client, user)
    return user, org


def query_of(url: str) -> dict[str, str]:
    """A URL's query parameters (single values)."""
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def start_consent(client: Any, org_id: int, store: str = "UK") -> dict[str, str]:
    """POST the picker and return the consent redirect's query parameters."""
    response = client.post(f"/orgs/{org_id}/amazon", data={"store": store})
    assert response.status_code == 303, response.get_data(as_text=True)
    return query_of(response.headers["Location"])


def text_of(response: Any) -> str:
    """A response's HTML with whitespace collapsed and entities for quotes undone."""
    html = response.get_data(as_text=True).replace("&#39;", "'").replace("&#34;", '"')
    return re.sub(r"\s+", " ", html)


class FakeTokens:
    """A token source that counts refreshes and reconnect marks."""

    def __init__(self) -> None:
        self.current = "Atza|first"
        self.refreshes = 0
        self.reconnect_reasons: list[str] = []

    def access_token(self) -> str:
        return self.current

    def refresh(self) -> str:
        self.refreshes += 1
        self.current = f"Atza|refreshed-{self.refreshes}"
        return self.current

    def mark_needs_reconnect(self, why: str) -> str:
        self.reconnect_reasons.append(why)
        return f"Reconnect needed: {why}"


class FakeClock:
    """Monotonic seconds that advance only when someone sleeps."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_tokens() -> FakeTokens:
    return FakeTokens()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(fake_tokens: FakeTokens, clock: FakeClock):
    """Build an ``AmazonBusinessClient`` for the UK store with fake tokens and no real sleep."""
    created: list[AmazonBusinessClient] = []

    def make(**options: Any) -> AmazonBusinessClient:
        settings: dict[str, Any] = {
            "base_url": EU_API,
            "tokens": fake_tokens,
            "connection_id": 7,
            "store": store_for("UK"),
            "sleep": clock.sleep,
            "clock": clock,
            "rng": random.Random(1),
            "retry": RetryPolicy(max_attempts=4),
            "polling": ReportPolling(first_delay=2, max_delay=8, timeout=60, retry_after=90),
        }
        settings.update(options)
        made = AmazonBusinessClient(**settings)
        created.append(made)
        return made

    yield make
    for made in created:
        made.http.close()
