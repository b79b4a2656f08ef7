"""Seed data for the Xero sandbox: users, organisations, charts of accounts, tax rates, contacts.

Plain data only. ``world.build_world`` turns it into state, deriving every id with ``uuid5``
from the seed and the ``key`` fields below, so ids are stable across resets with the same seed.
Account codes follow Xero's UK and US default charts, except where the sandbox needs a
specific shape (card accounts 800/801 in the UK, so Accounts Payable moves to 810).
"""

from __future__ import annotations

from typing import Any

PASSWORD = "sandbox"  # noqa: S105 - every sandbox user's documented password
PROVIDER_NAME = "Amazon Business for Xero"

USERS: list[dict[str, Any]] = [
    {
        "key": "alice",
        "email": "alice@example.com",
        "given_name": "Alice",
        "family_name": "Accountant",
        "tenants": ["thames", "hudson", "alice-practice"],
    },
    {
        "key": "bob",
        "email": "bob@example.com",
        "given_name": "Bob",
        "family_name": "Bookkeeper",
        "tenants": ["thames"],
    },
    {
        "key": "carol",
        "email": "carol@example.com",
        "given_name": "Carol",
        "family_name": "Controller",
        "tenants": ["hudson"],
    },
    {
        "key": "fiona",
        "email": "fiona@example.com",
        "given_name": "Fiona",
        "family_name": "Finance",
        "tenants": ["thames-scotland"],
    },
    {
        "key": "greta",
        "email": "greta@example.com",
        "given_name": "Greta",
        "family_name": "Buchhalterin",
        "tenants": ["beispiel"],
    },
]

CURRENCY_NAMES: dict[str, str] = {
    "GBP": "British Pound",
    "EUR": "Euro",
    "USD": "United States Dollar",
}

ACTIONS = [
    "CreateApprovedInvoice",
    "CreateDraftPurchaseOrder",
    "CreateApprovedBill",
    "AttachFilesIntoInvoice",
    "UseMulticurrency",
    "CreateDraftInvoice",
    "CreateRepeatingInvoice",
    "CreateRepeatingBill",
    "CreateSentQuote",
    "CreateInvoicePayment",
    "CreateApprovedPurchaseOrder",
    "CreateDraftQuote",
    "CreateDraftBill",
]

# (code, name, type, tax type, extra fields)
UK_ACCOUNTS: list[tuple[str, str, str, str, dict[str, Any]]] = [
    ("090", "Business Bank Account", "BANK", "NONE", {"BankAccountType": "BANK"}),
    ("091", "Business Savings Account", "BANK", "NONE", {"BankAccountType": "BANK"}),
    ("092", "Euro Account", "BANK", "NONE", {"BankAccountType": "BANK", "CurrencyCode": "EUR"}),
    ("800", "Company Visa", "BANK", "NONE", {"BankAccountType": "CREDITCARD"}),
    ("801", "Company Amex", "BANK", "NONE", {"BankAccountType": "CREDITCARD"}),
    ("200", "Sales", "SALES", "OUTPUT2", {}),
    ("260", "Other Revenue", "REVENUE", "OUTPUT2", {}),
    ("270", "Interest Income", "OTHERINCOME", "EXEMPTOUTPUT", {}),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "INPUT2", {}),
    ("400", "Advertising", "OVERHEADS", "INPUT2", {}),
    ("401", "Audit & Accountancy fees", "OVERHEADS", "INPUT2", {}),
    ("404", "Bank Fees", "OVERHEADS", "EXEMPTINPUT", {}),
    ("408", "Cleaning", "OVERHEADS", "INPUT2", {}),
    ("412", "Consulting", "OVERHEADS", "INPUT2", {}),
    ("425", "Postage, Freight & Courier", "OVERHEADS", "INPUT2", {}),
    ("429", "General Expenses", "OVERHEADS", "INPUT2", {}),
    ("433", "Insurance", "OVERHEADS", "EXEMPTINPUT", {}),
    ("445", "Light, Power, Heating", "OVERHEADS", "RRINPUT", {}),
    ("459", "Old Expenses", "OVERHEADS", "INPUT2", {"Status": "ARCHIVED"}),
    ("461", "Printing & Stationery", "OVERHEADS", "INPUT2", {}),
    ("463", "IT Software and Consumables", "OVERHEADS", "INPUT2", {}),
    ("469", "Rent", "OVERHEADS", "EXEMPTINPUT", {}),
    ("473", "Repairs & Maintenance", "OVERHEADS", "INPUT2", {}),
    ("489", "Telephone & Internet", "OVERHEADS", "INPUT2", {}),
    ("493", "Travel - National", "OVERHEADS", "INPUT2", {}),
    ("610", "Accounts Receivable", "CURRENT", "NONE", {"SystemAccount": "DEBTORS"}),
    ("710", "Office Equipment", "FIXED", "INPUT2", {}),
    ("720", "Computer Equipment", "FIXED", "INPUT2", {}),
    ("810", "Accounts Payable", "CURRLIAB", "NONE", {"SystemAccount": "CREDITORS"}),
    ("820", "VAT", "CURRLIAB", "NONE", {"SystemAccount": "GST"}),
    ("835", "Directors' Loan Account", "CURRLIAB", "NONE", {"EnablePaymentsToAccount": True}),
    ("860", "Rounding", "CURRLIAB", "NONE", {"SystemAccount": "ROUNDING"}),
    ("960", "Retained Earnings", "EQUITY", "NONE", {"SystemAccount": "RETAINEDEARNINGS"}),
]

US_ACCOUNTS: list[tuple[str, str, str, str, dict[str, Any]]] = [
    ("1000", "Checking", "BANK", "NONE", {"BankAccountType": "BANK"}),
    ("1010", "Savings", "BANK", "NONE", {"BankAccountType": "BANK"}),
    ("1090", "Company Visa", "BANK", "NONE", {"BankAccountType": "CREDITCARD"}),
    ("1091", "Company Amex", "BANK", "NONE", {"BankAccountType": "CREDITCARD"}),
    ("1200", "Accounts Receivable", "CURRENT", "NONE", {"SystemAccount": "DEBTORS"}),
    ("1500", "Computer Equipment", "FIXED", "NONE", {}),
    ("1510", "Office Equipment", "FIXED", "NONE", {}),
    ("2000", "Accounts Payable", "CURRLIAB", "NONE", {"SystemAccount": "CREDITORS"}),
    ("2100", "Sales Tax Payable", "CURRLIAB", "NONE", {"SystemAccount": "GST"}),
    ("2200", "Owner Loan", "CURRLIAB", "NONE", {"EnablePaymentsToAccount": True}),
    ("3900", "Retained Earnings", "EQUITY", "NONE", {"SystemAccount": "RETAINEDEARNINGS"}),
    ("4000", "Sales", "REVENUE", "OUTPUT", {}),
    ("4900", "Interest Income", "OTHERINCOME", "NONE", {}),
    ("5000", "Cost of Goods Sold", "DIRECTCOSTS", "NONE", {}),
    ("6000", "Advertising & Marketing", "EXPENSE", "NONE", {}),
    ("6010", "Bank Service Charges", "EXPENSE", "NONE", {}),
    ("6020", "Computer Software", "EXPENSE", "NONE", {}),
    ("6030", "Dues & Subscriptions", "EXPENSE", "NONE", {}),
    ("6040", "Freight & Shipping", "EXPENSE", "NONE", {}),
    ("6050", "Office Supplies", "EXPENSE", "NONE", {}),
    ("6060", "Postage & Delivery", "EXPENSE", "NONE", {}),
    ("6070", "Printing & Reproduction", "EXPENSE", "NONE", {}),
    ("6080", "Repairs & Maintenance", "EXPENSE", "NONE", {}),
    ("6090", "General Expenses", "EXPENSE", "NONE", {}),
    ("6100", "Meals & Entertainment", "EXPENSE", "NONE", {}),
    ("6110", "Travel", "EXPENSE", "NONE", {}),
    ("6190", "Old Expenses", "EXPENSE", "NONE", {"Status": "ARCHIVED"}),
    ("8000", "Rounding", "CURRLIAB", "NONE", {"SystemAccount": "ROUNDING"}),
]

# (tax type, name, rate, report tax type, applies to: expenses, revenue, assets, liabilities,
#  equity, status)
UK_TAX_RATES: list[tuple[str, str, float, str, tuple[bool, bool, bool, bool, bool], str]] = [
    ("INPUT2", "20% (VAT on Expenses)", 20.0, "INPUT", (True, False, True, True, False), "ACTIVE"),
    ("RRINPUT", "5% (VAT on Expenses)", 5.0, "INPUT", (True, False, True, True, False), "ACTIVE"),
    (
        "ZERORATEDINPUT",
        "Zero Rated Expenses",
        0.0,
        "INPUT",
        (True, False, True, True, False),
        "ACTIVE",
    ),
    (
        "EXEMPTINPUT",
        "Exempt Expenses",
        0.0,
        "EXEMPTINPUT",
        (True, False, True, True, True),
        "ACTIVE",
    ),
    (
        "ECZRINPUT",
        "Zero Rated EC Expenses",
        0.0,
        "ECINPUT",
        (True, False, True, False, False),
        "ACTIVE",
    ),
    ("NONE", "No VAT", 0.0, "NONE", (True, True, True, True, True), "ACTIVE"),
    ("OUTPUT2", "20% (VAT on Income)", 20.0, "OUTPUT", (False, True, True, True, False), "ACTIVE"),
    ("RROUTPUT", "5% (VAT on Income)", 5.0, "OUTPUT", (False, True, True, True, False), "ACTIVE"),
    (
        "ZERORATEDOUTPUT",
        "Zero Rated Income",
        0.0,
        "OUTPUT",
        (False, True, True, True, False),
        "ACTIVE",
    ),
    (
        "EXEMPTOUTPUT",
        "Exempt Income",
        0.0,
        "EXEMPTOUTPUT",
        (False, True, True, True, True),
        "ACTIVE",
    ),
    (
        "GSTONIMPORTS",
        "VAT on Imports",
        0.0,
        "GSTONIMPORTS",
        (False, False, False, True, False),
        "ACTIVE",
    ),
    (
        "INPUT",
        "17.5% (VAT on Expenses)",
        17.5,
        "INPUT",
        (True, False, True, True, False),
        "DELETED",
    ),
]

US_TAX_RATES: list[tuple[str, str, float, str, tuple[bool, bool, bool, bool, bool], str]] = [
    ("NONE", "Tax Exempt", 0.0, "NONE", (True, True, True, True, True), "ACTIVE"),
    ("INPUT", "Tax on Purchases", 0.0, "INPUT", (True, False, True, True, False), "ACTIVE"),
    ("OUTPUT", "Tax on Sales", 0.0, "OUTPUT", (False, True, True, True, False), "ACTIVE"),
    ("TAX001", "New York Sales Tax", 8.875, "OUTPUT", (False, True, True, True, False), "ACTIVE"),
    (
        "GSTONIMPORTS",
        "Sales Tax on Imports",
        0.0,
        "GSTONIMPORTS",
        (False, False, False, True, False),
        "ACTIVE",
    ),
]

# Supplier contacts per tenant: (key, name, status, extra fields)
# A euro-zone org (Xero's global edition, as a German company uses it): 19 % and 7 % Vorsteuer.
DE_TAX_RATES: list[tuple[str, str, float, str, tuple[bool, bool, bool, bool, bool], str]] = [
    ("TAX001", "19% Vorsteuer", 19.0, "INPUT", (True, False, True, True, False), "ACTIVE"),
    ("TAX002", "7% Vorsteuer", 7.0, "INPUT", (True, False, True, True, False), "ACTIVE"),
    ("NONE", "Keine Steuer", 0.0, "NONE", (True, True, True, True, True), "ACTIVE"),
    ("OUTPUT", "19% Umsatzsteuer", 19.0, "OUTPUT", (False, True, True, True, False), "ACTIVE"),
]
_DE_TAX_OF = {"INPUT2": "TAX001", "RRINPUT": "TAX002", "OUTPUT2": "OUTPUT"}
# The UK chart's codes (cards 800/801, bank 090), in euros, with the German tax types.
DE_ACCOUNTS: list[tuple[str, str, str, str, dict[str, Any]]] = [
    (code, name, kind, _DE_TAX_OF.get(tax, "NONE"), extra)
    for code, name, kind, tax, extra in UK_ACCOUNTS
    if "CurrencyCode" not in extra
]

UK_CONTACTS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("amazon", "Amazon Business", "ACTIVE", {"EmailAddress": "ab-invoices@amazon.co.uk"}),
    ("viking", "Viking Direct", "ACTIVE", {"EmailAddress": "accounts@viking-direct.co.uk"}),
    ("royalmail", "Royal Mail", "ACTIVE", {}),
    ("bt", "British Telecom", "ACTIVE", {"EmailAddress": "billing@bt.example"}),
    ("oldsupplier", "Old Supplier Ltd", "ARCHIVED", {}),
]

US_CONTACTS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("staples", "Staples", "ACTIVE", {"EmailAddress": "ar@staples.example"}),
    ("fedex", "FedEx", "ACTIVE", {}),
    ("officedepot", "Office Depot", "ACTIVE", {}),
    ("legacy", "Legacy Vendor Inc", "ARCHIVED", {}),
]

TENANTS: list[dict[str, Any]] = [
    {
        "key": "thames",
        "name": "Thames Stationery Ltd",
        "tenant_type": "ORGANISATION",
        "organisation": {
            "Name": "Thames Stationery Ltd",
            "LegalName": "Thames Stationery Limited",
            "PaysTax": True,
            "Version": "UK",
            "OrganisationType": "COMPANY",
            "OrganisationEntityType": "COMPANY",
            "BaseCurrency": "GBP",
            "CountryCode": "GB",
            "IsDemoCompany": False,
            "OrganisationStatus": "ACTIVE",
            "TaxNumber": "GB123456789",
            "FinancialYearEndDay": 31,
            "FinancialYearEndMonth": 12,
            "SalesTaxBasis": "ACCRUALS",
            "SalesTaxPeriod": "QUARTERLY1",
            "DefaultSalesTax": "Tax Exclusive",
            "DefaultPurchasesTax": "Tax Exclusive",
            "Timezone": "GMTSTANDARDTIME",
            "ShortCode": "!tHm5S",
            "Edition": "BUSINESS",
            "Class": "STANDARD",
        },
        "period_lock_date": "2026-01-31",
        "end_of_year_lock_date": "2025-12-31",
        "created": "2021-04-06",
        "currencies": ["GBP", "EUR", "USD"],
        "accounts": UK_ACCOUNTS,
        "tax_rates": UK_TAX_RATES,
        "contacts": UK_CONTACTS,
        "not_allowed_actions": [],
    },
    {
        "key": "hudson",
        "name": "Hudson Design LLC",
        "tenant_type": "ORGANISATION",
        "organisation": {
            "Name": "Hudson Design LLC",
            "LegalName": "Hudson Design LLC",
            "PaysTax": True,
            "Version": "US",
            "OrganisationType": "LLC",
            "OrganisationEntityType": "LLC",
            "BaseCurrency": "USD",
            "CountryCode": "US",
            "IsDemoCompany": False,
            "OrganisationStatus": "ACTIVE",
            "FinancialYearEndDay": 31,
            "FinancialYearEndMonth": 12,
            "SalesTaxBasis": "ACCRUAL",
            "SalesTaxPeriod": "QUARTERLY",
            "DefaultSalesTax": "Tax Exclusive",
            "DefaultPurchasesTax": "Tax Exclusive",
            "Timezone": "EASTERNSTANDARDTIME",
            "ShortCode": "!hUd7N",
            "Edition": "BUSINESS",
            "Class": "STANDARD",
        },
        "period_lock_date": None,
        "end_of_year_lock_date": None,
        "created": "2022-09-12",
        "currencies": ["USD"],
        "accounts": US_ACCOUNTS,
        "tax_rates": US_TAX_RATES,
        "contacts": US_CONTACTS,
        "not_allowed_actions": ["UseMulticurrency"],
    },
    {
        "key": "beispiel",
        "name": "Beispiel GmbH",
        "tenant_type": "ORGANISATION",
        "organisation": {
            "Name": "Beispiel GmbH",
            "LegalName": "Beispiel GmbH",
            "PaysTax": True,
            "Version": "GLOBAL",
            "OrganisationType": "COMPANY",
            "OrganisationEntityType": "COMPANY",
            "BaseCurrency": "EUR",
            "CountryCode": "DE",
            "IsDemoCompany": False,
            "OrganisationStatus": "ACTIVE",
            "TaxNumber": "DE123456789",
            "FinancialYearEndDay": 31,
            "FinancialYearEndMonth": 12,
            "SalesTaxBasis": "ACCRUALS",
            "SalesTaxPeriod": "MONTHLY",
            "DefaultSalesTax": "Tax Exclusive",
            "DefaultPurchasesTax": "Tax Exclusive",
            "Timezone": "W.EUROPESTANDARDTIME",
            "ShortCode": "!bSp3L",
            "Edition": "BUSINESS",
            "Class": "STANDARD",
        },
        "period_lock_date": None,
        "end_of_year_lock_date": None,
        "created": "2023-02-01",
        "currencies": ["EUR"],
        "accounts": DE_ACCOUNTS,
        "tax_rates": DE_TAX_RATES,
        "contacts": [
            ("amazon", "Amazon Business", "ACTIVE", {"EmailAddress": "ab-rechnungen@amazon.de"}),
        ],
        "not_allowed_actions": ["UseMulticurrency"],
    },
    {
        "key": "alice-practice",
        "name": "Alice & Co Practice",
        "tenant_type": "PRACTICE",
        "organisation": None,
    },
]

# Thames Stationery's second legal entity, its own Xero organisation (issue 16 point 3): the same
# Amazon Business account buys for both; only Fiona keeps its books. Thames's books, renamed.
_THAMES = TENANTS[0]
TENANTS.insert(
    len(TENANTS) - 1,  # before the practice
    {
        **_THAMES,
        "key": "thames-scotland",
        "name": "Thames Stationery (Scotland) Ltd",
        "organisation": {
            **_THAMES["organisation"],
            "Name": "Thames Stationery (Scotland) Ltd",
            "LegalName": "Thames Stationery (Scotland) Limited",
            "TaxNumber": "GB987654321",
            "ShortCode": "!sCt7T",
        },
        "period_lock_date": None,
        "end_of_year_lock_date": None,
    },
)
