"""The org's chart from Xero: CHART.json shape, Redis cache (real Redis), mocked Xero."""

from __future__ import annotations

import json

import redis
import simplejson
from redis.backoff import NoBackoff
from redis.retry import Retry

from plugin.infra.keys import chart_cache_key
from plugin.mapping.chart import cached_chart
from plugin.mapping.chart import cached_chart_document
from plugin.mapping.chart import chart_document
from plugin.mapping.chart import fetch_chart
from plugin.mapping.chart import forget_chart
from plugin.mapping.chart import payments_enabled_codes
from plugin.mapping.chart_file import load_chart
from tests.common.charts import account
from tests.common.charts import bank
from tests.common.charts import chart_of
from tests.common.charts import uk_chart
from tests.common.processes import free_port
from tests.common.xero import mock_chart


def test_the_chart_is_xeros_org_as_posting_sees_it(xero, http, org) -> None:
    mock_chart(http)
    assert fetch_chart(xero, org) == chart_of(uk_chart(Contact={"ContactID": "c-uk"}))
    assert [c.request.headers["xero-tenant-id"] for c in http.calls] == ["tenant-uk"] * 5


def test_the_document_is_chart_json_without_private_details(xero, http, org) -> None:
    accounts = [*uk_chart()["Accounts"], bank("091", "Savings", "BANK", BankAccountNumber="123")]
    mock_chart(http, uk_chart(Accounts=accounts))
    document = chart_document(xero, org)
    assert list(document) == [
        "Organisation",
        "Accounts",
        "TaxRates",
        "Currencies",
        "TrackingCategories",
        "Contact",
    ]
    assert document["Contact"] == {"ContactID": "c-uk"}
    assert document["Organisation"]["OrganisationID"] == "org-1"
    assert "Addresses" not in document["Organisation"]
    assert "Phones" not in document["Organisation"]
    assert all("BankAccountNumber" not in a for a in document["Accounts"])
    # archived accounts and deleted tax rates are kept, so a mapping to them is named as such
    assert {"999": "ARCHIVED"}.items() <= {
        a["Code"]: a["Status"] for a in document["Accounts"]
    }.items()
    assert "DELETED" in {t["Status"] for t in document["TaxRates"]}
    # it can be written as CHART.json and read back by the preview command's reader
    # (rates are Decimal, written as exact JSON numbers)
    text = simplejson.dumps(document, use_decimal=True)
    assert load_chart(json.loads(text), "CHART.json") == fetch_chart(xero, org)


def test_no_contact_yet_means_no_contact_in_the_document(xero, http, org) -> None:
    org.amazon_contact_id = None
    mock_chart(http)
    assert "Contact" not in chart_document(xero, org)


def test_a_second_read_within_five_minutes_makes_no_http_call(
    xero, http, org, redis_client
) -> None:
    mock_chart(http)
    first = cached_chart(redis_client, xero, org)
    assert len(http.calls) == 5
    second = cached_chart(redis_client, xero, org)
    assert len(http.calls) == 5
    assert second == first
    assert 290 < redis_client.ttl(chart_cache_key(org.id)) <= 300


def test_forgetting_the_chart_fetches_it_again(xero, http, org, redis_client) -> None:
    mock_chart(http)
    cached_chart(redis_client, xero, org)
    forget_chart(redis_client, org.id)
    assert redis_client.exists(chart_cache_key(org.id)) == 0
    cached_chart(redis_client, xero, org)
    assert len(http.calls) == 10


def test_the_cache_is_per_organisation(xero, http, org, redis_client, make_member) -> None:
    _, other = make_member("bob", "tenant-2", "Other Ltd")
    mock_chart(http)
    cached_chart(redis_client, xero, org)
    cached_chart(redis_client, xero, other)
    assert len(http.calls) == 10


def test_the_contact_is_read_from_the_org_not_the_cache(xero, http, org, redis_client) -> None:
    mock_chart(http)
    assert cached_chart(redis_client, xero, org).contact_id == "c-uk"
    org.amazon_contact_id = "c-repaired"
    assert cached_chart(redis_client, xero, org).contact_id == "c-repaired"
    assert len(http.calls) == 5


def test_max_age_zero_never_caches(xero, http, org, redis_client) -> None:
    mock_chart(http)
    cached_chart(redis_client, xero, org, max_age=0)
    cached_chart(redis_client, xero, org, max_age=0)
    assert len(http.calls) == 10
    assert redis_client.exists(chart_cache_key(org.id)) == 0


def test_an_unreadable_cache_entry_is_fetched_again(xero, http, org, redis_client) -> None:
    mock_chart(http)
    redis_client.set(chart_cache_key(org.id), b"{not json")
    assert cached_chart_document(redis_client, xero, org)["Accounts"]
    assert len(http.calls) == 5
    assert json.loads(redis_client.get(chart_cache_key(org.id)))["Organisation"]["Name"]


def test_redis_down_still_gives_the_chart(xero, http, org) -> None:
    down = redis.Redis(port=free_port(), socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    mock_chart(http)
    assert cached_chart(down, xero, org).base_currency == "GBP"
    forget_chart(down, org.id)  # logged, not raised


def test_accounts_with_payments_enabled() -> None:
    document = uk_chart(
        Accounts=[
            *uk_chart()["Accounts"],
            account("835", "Directors' Loan Account", "CURRLIAB", EnablePaymentsToAccount=True),
        ]
    )
    assert payments_enabled_codes(document) == {"835"}
    assert payments_enabled_codes({}) == frozenset()


def test_tracking_categories_are_read_with_archived_options(xero, http, org) -> None:
    from tests.common.tracking import tracking_categories

    mock_chart(http, uk_chart(TrackingCategories=tracking_categories()))
    chart = fetch_chart(xero, org)
    department = chart.tracking_category("department")
    assert department is not None
    assert [(o.name, o.status) for o in department.options] == [
        ("Facilities", "ACTIVE"),
        ("Office", "ACTIVE"),
        ("IT", "ARCHIVED"),
    ]
    assert chart.tracking_category("Region").status == "ARCHIVED"
    tracking_call = next(c for c in http.calls if "TrackingCategories" in c.request.url)
    assert "includeArchived=true" in tracking_call.request.url
