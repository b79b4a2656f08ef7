"""The store table and the URLs built from it, with and without the sandbox overrides."""

from __future__ import annotations

import pytest

from plugin.amazon.regions import STORES
from plugin.amazon.regions import UnknownStore
from plugin.amazon.regions import api_base_url
from plugin.amazon.regions import consent_origins
from plugin.amazon.regions import consent_url
from plugin.amazon.regions import lwa_token_url
from plugin.amazon.regions import picker_stores
from plugin.amazon.regions import store_for
from plugin.amazon.regions import store_for_marketplace
from tests.common.web import query_of

# Spec §1.2 and §2, copied by hand so a typo in the table fails here.
EXPECTED = {
    "US": ("https://www.amazon.com", "https://na.business-api.amazon.com", "ATVPDKIKX0DER"),
    "CA": ("https://www.amazon.ca", "https://na.business-api.amazon.com", "A2EUQ1WTGCTBG2"),
    "MX": ("https://www.amazon.com.mx", "https://na.business-api.amazon.com", "A1AM78C64UM0Y8"),
    "UK": ("https://www.amazon.co.uk", "https://eu.business-api.amazon.com", "A1F83G8C2ARO7P"),
    "DE": ("https://www.amazon.de", "https://eu.business-api.amazon.com", "A1PA6795UKMFR9"),
    "FR": ("https://www.amazon.fr", "https://eu.business-api.amazon.com", "A13V1IB3VIYZZH"),
    "IT": ("https://www.amazon.it", "https://eu.business-api.amazon.com", "APJ6JRA9NG5V4"),
    "ES": ("https://www.amazon.es", "https://eu.business-api.amazon.com", "A1RKKUPIHCS9HS"),
    "IN": ("https://www.amazon.in", "https://eu.business-api.amazon.com", "A21TJRUUN4KGV"),
    "JP": ("https://www.amazon.co.jp", "https://jp.business-api.amazon.com", "A1VC38T7YXB528"),
    "AU": ("https://www.amazon.com.au", "https://jp.business-api.amazon.com", "A39IBJ37TRP1C6"),
}


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_consent_url_per_store(code):
    base, api, marketplace = EXPECTED[code]
    store = store_for(code)
    url = consent_url(
        store,
        application_id="amzn1.sp.solution.x",
        state="s t&ate",
        redirect_uri="https://app.example/amazon/callback",
    )
    assert url.startswith(f"{base}/b2b/abws/oauth?")
    assert query_of(url) == {
        "applicationId": "amzn1.sp.solution.x",
        "state": "s t&ate",
        "redirect_uri": "https://app.example/amazon/callback",
    }
    assert api_base_url(store) == api
    assert store.marketplace_id == marketplace
    assert store.display_name == f"Amazon Business {code}"
    assert store_for_marketplace(marketplace) is store


def test_table_has_exactly_the_served_stores_us_and_uk_first():
    assert {s.code for s in STORES} == set(EXPECTED)
    assert [s.code for s in picker_stores()][:2] == ["US", "UK"]
    assert len(picker_stores()) == len(EXPECTED)
    assert store_for("uk").currency == "GBP"
    assert store_for("JP").region == "FE"
    assert store_for("AU").region_path == "jp"


def test_overrides_fill_store_and_lower_case_region():
    store = store_for("DE")
    url = consent_url(
        store,
        application_id="a",
        state="s",
        redirect_uri="http://localhost/amazon/callback",
        template="http://localhost:5001/amazon/{store}",
    )
    assert url.startswith("http://localhost:5001/amazon/DE/b2b/abws/oauth?")
    assert api_base_url(store, "http://localhost:5001/amazon-api/{region}/") == (
        "http://localhost:5001/amazon-api/eu"
    )
    assert api_base_url(store_for("JP"), "http://h/{region}") == "http://h/jp"
    assert api_base_url(store_for("MX"), "http://h/{region}") == "http://h/na"
    assert consent_origins("http://localhost:5001/amazon/{store}") == ["http://localhost:5001"]
    assert "https://www.amazon.co.uk" in consent_origins()


def test_lwa_token_url_default_and_override():
    assert lwa_token_url("") == "https://api.amazon.com/auth/o2/token"
    assert lwa_token_url("https://api.amazon.co.uk/auth/o2/token").endswith("co.uk/auth/o2/token")


@pytest.mark.parametrize("code", ["GB", "", "XX", "amazon"])
def test_unknown_store_is_refused_with_a_message(code):
    with pytest.raises(UnknownStore, match="not an Amazon Business store"):
        store_for(code)
