"""Accounting API access rules and the settings endpoints: Organisation, Accounts, TaxRates,
Currencies."""

from __future__ import annotations

import pytest

from tests.sandbox.xero_support import HUDSON
from tests.sandbox.xero_support import PRACTICE
from tests.sandbox.xero_support import THAMES
from tests.sandbox.xero_support import connect_session
from tests.sandbox.xero_support import xero  # noqa: F401
from tests.sandbox.xero_support import xero_app  # noqa: F401


def test_missing_token_is_401(xero):  # noqa: F811
    answer = xero.client.get("/api.xro/2.0/Organisation", headers={"xero-tenant-id": xero.tenant})
    assert answer.status_code == 401
    assert answer.json["Title"] == "Unauthorized"
    assert answer.json["Status"] == 401
    assert answer.json["Type"] is None


def test_expired_token_is_401_token_expired(xero):  # noqa: F811
    xero.sandbox.clock.advance(1801)
    answer = xero.get("Organisation")
    assert answer.status_code == 401
    assert answer.json["Detail"].startswith("TokenExpired: token expired at ")


def test_forged_token_is_401(xero):  # noqa: F811
    token = xero.tokens["access_token"]
    xero.tokens["access_token"] = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert xero.get("Organisation").status_code == 401


def test_unknown_or_unconnected_tenant_is_403(xero_app):  # noqa: F811
    bob = connect_session(xero_app, "bob@example.com", (THAMES,))
    for tenant in ("", "00000000-0000-0000-0000-000000000000", bob.tenants[HUDSON]):
        headers = {**bob.headers(), "xero-tenant-id": tenant}
        answer = bob.client.get("/api.xro/2.0/Organisation", headers=headers)
        assert answer.status_code == 403
        assert answer.json["Detail"] == "AuthenticationUnsuccessful"
        assert answer.json["Title"] == "Forbidden"


def test_practice_tenant_has_no_accounting_api(xero_app):  # noqa: F811
    alice = connect_session(xero_app, tenants=(PRACTICE,))
    assert alice.get("Organisation").status_code == 403


def test_organisation(xero):  # noqa: F811
    answer = xero.get("Organisation")
    assert answer.status_code == 200
    body = answer.json
    assert body["Status"] == "OK"
    assert body["DateTimeUTC"].startswith("/Date(")
    org = body["Organisations"][0]
    assert org["OrganisationID"] == xero.tenant
    assert org["Name"] == THAMES
    assert (org["CountryCode"], org["BaseCurrency"], org["Version"]) == ("GB", "GBP", "UK")
    assert org["PeriodLockDate"] == "/Date(1769817600000+0000)/"  # 2026-01-31
    assert org["IsDemoCompany"] is False
    us = xero.get("Organisation", tenant=xero.tenants[HUDSON]).json["Organisations"][0]
    assert (us["CountryCode"], us["BaseCurrency"], us["Version"]) == ("US", "USD", "US")
    assert "PeriodLockDate" not in us


def test_organisation_is_read_only(xero):  # noqa: F811
    assert xero.post("Organisation", json={"Name": "x"}).status_code == 501


def test_organisation_actions(xero):  # noqa: F811
    actions = {a["Name"]: a["Status"] for a in xero.get("Organisation/Actions").json["Actions"]}
    assert actions["CreateApprovedBill"] == "ALLOWED"
    assert actions["UseMulticurrency"] == "ALLOWED"
    us = xero.get("Organisation/Actions", tenant=xero.tenants[HUDSON]).json["Actions"]
    assert {a["Name"]: a["Status"] for a in us}["UseMulticurrency"] == "NOT-ALLOWED"


def test_accounts_and_where_filters(xero):  # noqa: F811
    everything = xero.get("Accounts").json["Accounts"]
    assert {"090", "800", "801", "429", "459", "720", "820"} <= {a["Code"] for a in everything}
    active = xero.get("Accounts", query_string={"where": 'Status=="ACTIVE"'}).json["Accounts"]
    assert "459" not in {a["Code"] for a in active}
    cards = xero.get(
        "Accounts", query_string={"where": 'Type=="BANK" AND BankAccountType=="CREDITCARD"'}
    ).json["Accounts"]
    assert [(a["Code"], a["Name"]) for a in cards] == [
        ("800", "Company Visa"),
        ("801", "Company Amex"),
    ]
    expenses = xero.get(
        "Accounts", query_string={"where": 'Class=="EXPENSE" && Status=="ACTIVE"'}
    ).json["Accounts"]
    assert "461" in {a["Code"] for a in expenses}
    assert all(a["Class"] == "EXPENSE" for a in expenses)
    euro = xero.account("092")
    assert euro["CurrencyCode"] == "EUR"
    assert xero.get(f"Accounts/{euro['AccountID']}").json["Accounts"][0]["Code"] == "092"


def test_us_chart_has_its_own_codes(xero):  # noqa: F811
    us = xero.tenants[HUDSON]
    visa = xero.account("1090", tenant=us)
    assert (visa["Type"], visa["BankAccountType"], visa["CurrencyCode"]) == (
        "BANK",
        "CREDITCARD",
        "USD",
    )
    assert xero.account("6190", tenant=us)["Status"] == "ARCHIVED"


def test_bad_where_is_a_query_parse_error(xero):  # noqa: F811
    answer = xero.get("Accounts", query_string={"where": 'Status=="ACTIVE" AND'})
    assert answer.status_code == 400
    assert answer.json["Type"] == "QueryParseException"


def test_tax_rates(xero):  # noqa: F811
    rates = {t["TaxType"]: t for t in xero.get("TaxRates").json["TaxRates"]}
    assert rates["INPUT2"]["Name"] == "20% (VAT on Expenses)"
    assert rates["INPUT2"]["EffectiveRate"] == 20.0
    assert rates["INPUT2"]["CanApplyToExpenses"] is True
    assert rates["RRINPUT"]["EffectiveRate"] == 5.0
    assert rates["OUTPUT2"]["CanApplyToExpenses"] is False
    active = xero.get("TaxRates", query_string={"where": 'Status=="ACTIVE"'}).json["TaxRates"]
    assert "INPUT" not in {t["TaxType"] for t in active}
    us = {
        t["TaxType"]: t for t in xero.get("TaxRates", tenant=xero.tenants[HUDSON]).json["TaxRates"]
    }
    assert us["INPUT"]["EffectiveRate"] == 0.0
    assert us["NONE"]["Name"] == "Tax Exempt"
    assert us["TAX001"]["CanApplyToExpenses"] is False


def test_currencies(xero):  # noqa: F811
    codes = [c["Code"] for c in xero.get("Currencies").json["Currencies"]]
    assert codes == ["GBP", "EUR", "USD"]
    us = xero.get("Currencies", tenant=xero.tenants[HUDSON]).json["Currencies"]
    assert us == [{"Code": "USD", "Description": "United States Dollar"}]


@pytest.mark.parametrize("seed", [42, 7])
def test_ids_are_stable_for_a_seed(seed):
    from sandbox import create_sandbox_app
    from tests.sandbox.xero_support import tenant_ids

    first = tenant_ids(create_sandbox_app({"SANDBOX_SEED": seed}))
    app = create_sandbox_app({"SANDBOX_SEED": seed})
    app.test_client().post("/_sandbox/reset", json={})
    assert tenant_ids(app) == first
    other = tenant_ids(create_sandbox_app({"SANDBOX_SEED": seed + 1}))
    assert set(other.values()).isdisjoint(first.values())
