"""Fixtures for the mapping layer: an organisation, Xero mocked over HTTP, the mapping commands."""

from __future__ import annotations

from typing import Any

import pytest
import responses

from plugin.infra.ratelimit import XeroRateLimiter
from plugin.xero.client import XeroClient
from tests.unit.charts import uk_chart

XERO_URL = "https://api.xero.test"
API = f"{XERO_URL}/api.xro/2.0"


class FakeTokens:
    """Hands out a fixed access token; the chart code never refreshes."""

    def access_token(self, force_refresh: bool = False) -> str:
        return "access-1"

    def mark_needs_reconnect(self, reason: str) -> None:
        raise AssertionError(f"unexpected reconnect: {reason}")


@pytest.fixture
def org(make_member):
    """A UK organisation with its Amazon Business contact."""
    _, organisation = make_member(
        "alice", "tenant-uk", "Acme Widgets Ltd", base_currency="GBP", amazon_contact_id="c-uk"
    )
    return organisation


@pytest.fixture
def xero(redis_client) -> XeroClient:
    """An Accounting API client on the mocked Xero."""
    return XeroClient("tenant-uk", FakeTokens(), XeroRateLimiter(redis_client), XERO_URL)


@pytest.fixture
def http():
    """Every HTTP call must be mocked; unmatched calls fail."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def mock_chart(http: responses.RequestsMock, chart: dict[str, Any] | None = None) -> None:
    """Answer the four chart calls with a CHART.json-shaped org (Xero's own wrappers)."""
    chart = chart or uk_chart()
    organisation = {
        **chart["Organisation"],
        "OrganisationID": "org-1",
        "Addresses": [{"AddressLine1": "1 High Street"}],
        "Phones": [{"PhoneNumber": "020 7946 0000"}],
    }
    http.get(f"{API}/Organisation", json={"Organisations": [organisation]})
    http.get(f"{API}/Accounts", json={"Accounts": chart["Accounts"]})
    http.get(f"{API}/TaxRates", json={"TaxRates": chart["TaxRates"]})
    http.get(f"{API}/Currencies", json={"Currencies": chart.get("Currencies", [])})
