"""Realistic Xero orgs (CHART.json shape) and their mappings (export format v1).

A US org (USD; sales tax is not reclaimable, so Amazon's rates map to 0% tax types) and a UK org
(GBP; VAT 20/5/0 mapped to INPUT2 / RRINPUT / ZERORATEDINPUT; EUR optionally enabled with a EUR
card). Plain functions returning dicts; keyword arguments override top-level keys.
"""

from __future__ import annotations

import uuid
from typing import Any

from plugin.mapping.chart_file import load_chart
from plugin.mapping.files import load_mapping
from plugin.posting import Chart
from plugin.posting import Mapping

US_CONTACT_ID = "6c7a4c9b-3f0e-4b59-9c2e-0d6a1a2f3b01"
UK_CONTACT_ID = "2f9d1e4a-8b7c-4d3e-a1f0-5e6d7c8b9a02"


def account_id(code: str) -> str:
    """A stable AccountID per code, shaped like Xero's."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"xero-account:{code}"))


def account(
    code: str, name: str, type_: str = "EXPENSE", status: str = "ACTIVE", **extra: Any
) -> dict[str, Any]:
    """A Xero ``Account`` as ``GET /Accounts`` returns it."""
    body = {
        "AccountID": account_id(code),
        "Code": code,
        "Name": name,
        "Type": type_,
        "Status": status,
        "TaxType": "NONE",
        "Class": "EXPENSE" if type_ in ("EXPENSE", "OVERHEADS", "DIRECTCOSTS") else "ASSET",
        "EnablePaymentsToAccount": False,
        "UpdatedDateUTC": "/Date(1769817600000+0000)/",
    }
    body.update(extra)
    return body


def bank(code: str, name: str, kind: str = "CREDITCARD", **extra: Any) -> dict[str, Any]:
    """A bank or credit-card account (``Type`` BANK)."""
    return account(code, name, "BANK", BankAccountType=kind, Class="ASSET", **extra)


def tax_rate(
    tax_type: str, name: str, rate: str | float, status: str = "ACTIVE", expenses: bool = True
) -> dict[str, Any]:
    """A Xero ``TaxRate``; ``EffectiveRate`` is a percentage number, as Xero sends it."""
    return {
        "Name": name,
        "TaxType": tax_type,
        "Status": status,
        "ReportTaxType": "INPUT" if expenses else "OUTPUT",
        "CanApplyToAssets": True,
        "CanApplyToEquity": True,
        "CanApplyToExpenses": expenses,
        "CanApplyToLiabilities": True,
        "CanApplyToRevenue": not expenses,
        "DisplayTaxRate": float(rate),
        "EffectiveRate": float(rate),
        "TaxComponents": [{"Name": name, "Rate": float(rate), "IsCompound": False}],
    }


def us_chart(**overrides: Any) -> dict[str, Any]:
    """A US org: Visa and Amex cards, 6000s expenses, NONE / INPUT (0%) tax types."""
    chart: dict[str, Any] = {
        "Organisation": {
            "Name": "Acme Widgets Inc",
            "BaseCurrency": "USD",
            "CountryCode": "US",
            "Version": "US",
            "PeriodLockDate": "2025-12-31T00:00:00",
            "EndOfYearLockDate": "/Date(1735603200000+0000)/",
        },
        "Accounts": [
            bank("1000", "Business Checking", "BANK"),
            bank("1090", "Corporate Visa 4242"),
            bank("1095", "Amex Business Platinum 1005"),
            bank("1097", "Old Visa 9911", status="ARCHIVED"),
            account("1400", "Office Equipment", "FIXED"),
            account("2000", "Accounts Payable", "CURRLIAB", SystemAccount="CREDITORS"),
            account("4000", "Sales", "REVENUE"),
            account("6000", "Office Supplies"),
            account("6010", "Computer Equipment"),
            account("6020", "Shipping & Delivery"),
            account("6030", "Packaging"),
            account("6040", "Fees & Charges"),
            account("6050", "Sales Tax Paid"),
            account("6100", "Janitorial Supplies"),
            account("6200", "Software & IT"),
            account("6300", "Marketing Supplies"),
            account("6900", "Old Supplies (do not use)", status="ARCHIVED"),
        ],
        "TaxRates": [
            tax_rate("NONE", "Tax Exempt", "0.0000"),
            tax_rate("INPUT", "Tax on Purchases", "0.0000"),
            tax_rate("OUTPUT", "Tax on Sales", "0.0000", expenses=False),
            tax_rate("TAX001", "Old County Tax", "0.0000", status="ARCHIVED"),
        ],
        "Currencies": [{"Code": "USD", "Description": "United States Dollar"}],
        "Contact": {"ContactID": US_CONTACT_ID},
    }
    chart.update(overrides)
    return chart


def us_mapping(**overrides: Any) -> dict[str, Any]:
    """The US org's mapping: cards to spend money, Pay by Invoice to bills, sales tax to INPUT."""
    mapping: dict[str, Any] = {
        "version": 1,
        "payment_methods": [
            {"type": "Visa", "last4": "4242", "treatment": "spend_money", "account_code": "1090"},
            {
                "type": "American Express",
                "last4": "1005",
                "treatment": "spend_money",
                "account_code": "1095",
            },
            {
                "type": "Pay by Invoice",
                "last4": None,
                "treatment": "bill",
                "payment_account_code": "1000",
            },
        ],
        "expense_default_account_code": "6000",
        "expense_rules": [
            {
                "field": "business_order_info",
                "key": "GL code",
                "value": "6200-it",
                "account_code": "6200",
            },
            {"field": "unspsc_prefix", "value": "4712", "account_code": "6100"},
            {"field": "legal_entity", "value": "Acme Marketing LLC", "account_code": "6300"},
            {"field": "customer_group", "value": "IT Department", "account_code": "6010"},
        ],
        "tax_rates": [
            {"rate": "0.00", "tax_type": "NONE"},
            {"rate": "0.0725", "tax_type": "INPUT"},
            {"rate": "0.08875", "tax_type": "INPUT"},
            {"rate": "0.0625", "tax_type": "INPUT"},
        ],
        "unreclaimable_tax": "separate_line",
        "line_types": {
            "shipping": "6020",
            "gift_wrap": "6030",
            "regulatory_fee": "6040",
            "discount": "same_as_item",
            "tax": "6050",
        },
    }
    mapping.update(overrides)
    return mapping


def uk_chart(*, eur_enabled: bool = True, **overrides: Any) -> dict[str, Any]:
    """A UK org: Visa (GBP) and a EUR card, VAT rates, optionally EUR enabled."""
    currencies = [{"Code": "GBP", "Description": "British Pound"}]
    if eur_enabled:
        currencies.append({"Code": "EUR", "Description": "Euro"})
    chart: dict[str, Any] = {
        "Organisation": {
            "Name": "Acme Widgets Ltd",
            "BaseCurrency": "GBP",
            "CountryCode": "GB",
            "Version": "UK",
            "PeriodLockDate": "/Date(1738281600000+0000)/",
        },
        "Accounts": [
            bank("090", "Business Bank Account", "BANK"),
            bank("800", "Barclaycard Visa 4242"),
            bank("810", "Revolut EUR card 7777", CurrencyCode="EUR"),
            account("200", "Sales", "REVENUE"),
            account("425", "Postage, Freight & Courier", "OVERHEADS"),
            account("429", "General Expenses", "OVERHEADS"),
            account("461", "Printing & Stationery", "OVERHEADS"),
            account("463", "IT Software and Consumables", "OVERHEADS"),
            account("999", "Old Stationery", "OVERHEADS", status="ARCHIVED"),
        ],
        "TaxRates": [
            tax_rate("INPUT2", "20% (VAT on Expenses)", "20.0000"),
            tax_rate("RRINPUT", "5% (VAT on Expenses)", "5.0000"),
            tax_rate("ZERORATEDINPUT", "Zero Rated Expenses", "0.0000"),
            tax_rate("EXEMPTINPUT", "Exempt Expenses", "0.0000"),
            tax_rate("NONE", "No VAT", "0.0000"),
            tax_rate("OUTPUT2", "20% (VAT on Income)", "20.0000", expenses=False),
            tax_rate("INPUT", "17.5% (VAT on Expenses)", "17.5000", status="DELETED"),
        ],
        "Currencies": currencies,
        "Contact": {"ContactID": UK_CONTACT_ID},
    }
    chart.update(overrides)
    return chart


def uk_mapping(**overrides: Any) -> dict[str, Any]:
    """The UK org's mapping: VAT rates to INPUT2 / RRINPUT / ZERORATEDINPUT."""
    mapping: dict[str, Any] = {
        "version": 1,
        "payment_methods": [
            {"type": "Visa", "last4": "4242", "treatment": "spend_money", "account_code": "800"},
            {
                "type": "Mastercard",
                "last4": "7777",
                "treatment": "spend_money",
                "account_code": "810",
            },
            {
                "type": "Pay by Invoice",
                "last4": None,
                "treatment": "bill",
                "payment_account_code": "090",
            },
        ],
        "expense_default_account_code": "429",
        "expense_rules": [
            {
                "field": "business_order_info",
                "key": "GL code",
                "value": "6100-office",
                "account_code": "461",
            },
            {"field": "unspsc_prefix", "value": "43", "account_code": "463"},
        ],
        "tax_rates": [
            {"rate": "0.20", "tax_type": "INPUT2"},
            {"rate": "0.05", "tax_type": "RRINPUT"},
            {"rate": "0.00", "tax_type": "ZERORATEDINPUT"},
            {"rate": "0.19", "tax_type": "NONE"},
        ],
        "unreclaimable_tax": "separate_line",
        "line_types": {
            "shipping": "425",
            "gift_wrap": "429",
            "regulatory_fee": "429",
            "discount": "same_as_item",
            "tax": "429",
        },
    }
    mapping.update(overrides)
    return mapping


def chart_of(data: dict[str, Any]) -> Chart:
    """Load a CHART.json dict."""
    return load_chart(data, "CHART.json")


def mapping_of(data: dict[str, Any]) -> Mapping:
    """Load a mapping dict."""
    return load_mapping(data, "MAP.json")
