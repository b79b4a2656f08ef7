"""Fixtures for the Amazon Business side: configured app, a signed-in member, fake tokens, and a
client on the shared fake clock and ``http`` mock (no test ever sleeps or leaves localhost)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from plugin.amazon.client import AmazonBusinessClient
from plugin.amazon.regions import store_for
from plugin.amazon.reports import ReportPolling
from plugin.amazon.retry import RetryPolicy
from tests.common.amazon import APPLICATION_ID
from tests.common.amazon import CLIENT_ID
from tests.common.amazon import CLIENT_SECRET
from tests.common.amazon import EU_API
from tests.common.amazon import LWA_URL
from tests.common.fakes import FakeAmazonTokens
from tests.common.fakes import FakeClock


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
def member(app, client, make_member, sign_in):
    """A signed-in user and their organisation: ``(user, org)``."""
    user, org = make_member("alice", "tenant-thames", "Thames Stationery Ltd")
    sign_in(client, user)
    return user, org


@pytest.fixture
def fake_tokens() -> FakeAmazonTokens:
    """The token source of the clients ``make_client`` builds."""
    return FakeAmazonTokens()


@pytest.fixture
def make_client(fake_tokens: FakeAmazonTokens, clock: FakeClock):
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
