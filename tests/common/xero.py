"""The mocked Xero Accounting API: its address, the test tenant, and the chart's five answers."""

from __future__ import annotations

from typing import Any

import responses

from tests.common.charts import uk_chart

XERO_URL = "https://api.xero.test"
API = f"{XERO_URL}/api.xro/2.0"
TENANT = "tenant-uk"


def mock_chart(http: responses.RequestsMock, chart: dict[str, Any] | None = None) -> None:
    """Answer the five chart calls with a CHART.json-shaped org (Xero's own wrappers)."""
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
    http.get(
        f"{API}/TrackingCategories",
        json={"TrackingCategories": chart.get("TrackingCategories", [])},
    )
