"""Building the Xero sandbox's world from ``seed.py``: users, tenants and their books.

Every id derives from the seed (``stable_id``), so a reset gives the same ids every time.
``new_contact`` is Xero's contact shape, also used for contacts created through the API.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC
from datetime import date
from datetime import datetime
from typing import Any

from sandbox.xero import seed
from sandbox.xero.tracking_seed import TRACKING
from sandbox.xero.world import Tenant
from sandbox.xero.world import XeroUser
from sandbox.xero.world import XeroWorld
from sandbox.xero.xerojson import ms_date
from sandbox.xero.xerojson import ms_datetime

SANDBOX_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://sandbox.local/xero")

ACCOUNT_CLASSES = {
    "BANK": "ASSET",
    "CURRENT": "ASSET",
    "FIXED": "ASSET",
    "INVENTORY": "ASSET",
    "NONCURRENT": "ASSET",
    "PREPAYMENT": "ASSET",
    "CURRLIAB": "LIABILITY",
    "LIABILITY": "LIABILITY",
    "TERMLIAB": "LIABILITY",
    "PAYG": "LIABILITY",
    "EQUITY": "EQUITY",
    "DEPRECIATN": "EXPENSE",
    "DIRECTCOSTS": "EXPENSE",
    "EXPENSE": "EXPENSE",
    "OVERHEADS": "EXPENSE",
    "OTHERINCOME": "REVENUE",
    "REVENUE": "REVENUE",
    "SALES": "REVENUE",
}


def stable_id(seed_value: int, kind: str, key: str) -> str:
    """A UUID that depends only on the seed, the kind of thing and its key."""
    return str(uuid.uuid5(SANDBOX_NAMESPACE, f"{seed_value}/{kind}/{key}"))


def build_world(seed_value: int) -> XeroWorld:
    """Build users and tenants from ``seed.py``; every id derives from ``seed_value``."""
    tenant_ids = {t["key"]: stable_id(seed_value, "tenant", t["key"]) for t in seed.TENANTS}
    tenants = {tenant_ids[spec["key"]]: build_tenant(seed_value, spec) for spec in seed.TENANTS}
    users = {}
    for spec in seed.USERS:
        user = XeroUser(
            user_id=stable_id(seed_value, "user", spec["key"]),
            email=spec["email"],
            given_name=spec["given_name"],
            family_name=spec["family_name"],
            password=seed.PASSWORD,
            tenant_ids=[tenant_ids[key] for key in spec["tenants"]],
        )
        users[user.user_id] = user
    return XeroWorld(seed=seed_value, users=users, tenants=tenants, rng=random.Random(seed_value))


def build_tenant(seed_value: int, spec: dict[str, Any]) -> Tenant:
    """One tenant of ``seed.TENANTS`` with its books (organisation, accounts, tax, contacts)."""
    tenant_id = stable_id(seed_value, "tenant", spec["key"])
    tenant = Tenant(tenant_id=tenant_id, name=spec["name"], tenant_type=spec["tenant_type"])
    if spec["organisation"] is None:
        return tenant
    created = datetime.fromisoformat(spec["created"]).replace(hour=9, tzinfo=UTC)
    stamp = ms_datetime(created)
    lock = date.fromisoformat(spec["period_lock_date"]) if spec["period_lock_date"] else None
    year_end_lock = (
        date.fromisoformat(spec["end_of_year_lock_date"]) if spec["end_of_year_lock_date"] else None
    )
    organisation = {"OrganisationID": tenant_id, **spec["organisation"]}
    if lock:
        organisation["PeriodLockDate"] = ms_date(lock)
    if year_end_lock:
        organisation["EndOfYearLockDate"] = ms_date(year_end_lock)
    organisation.update(
        {
            "CreatedDateUTC": stamp,
            "Addresses": [],
            "Phones": [],
            "ExternalLinks": [],
            "PaymentTerms": {},
        }
    )
    tenant.organisation = organisation
    tenant.period_lock_date = lock
    tenant.end_of_year_lock_date = year_end_lock
    base = organisation["BaseCurrency"]
    tenant.accounts = [
        _account(seed_value, spec["key"], row, base, stamp) for row in spec["accounts"]
    ]
    tenant.tax_rates = [_tax_rate(row) for row in spec["tax_rates"]]
    tenant.currencies = [
        {"Code": code, "Description": seed.CURRENCY_NAMES[code]} for code in spec["currencies"]
    ]
    tenant.actions = [
        {
            "Name": name,
            "Status": "NOT-ALLOWED" if name in spec["not_allowed_actions"] else "ALLOWED",
        }
        for name in seed.ACTIONS
    ]
    tenant.tracking_categories = tracking_categories(seed_value, spec["key"])
    for key, name, status, extra in spec["contacts"]:
        contact_id = stable_id(seed_value, f"contact/{spec['key']}", key)
        tenant.contacts[contact_id] = new_contact(contact_id, name, status, stamp, extra)
    return tenant


def tracking_categories(seed_value: int, tenant_key: str) -> list[dict[str, Any]]:
    """The tenant's seeded tracking categories in Xero's shape (``tracking_seed``)."""
    categories = []
    for name, status, options in TRACKING.get(tenant_key, ()):
        category_id = stable_id(seed_value, f"tracking/{tenant_key}", name)
        categories.append(
            {
                "TrackingCategoryID": category_id,
                "Name": name,
                "Status": status,
                "Options": [
                    {
                        "TrackingOptionID": stable_id(seed_value, f"option/{category_id}", option),
                        "Name": option,
                        "Status": option_status,
                        "IsDeleted": False,
                        "IsArchived": option_status == "ARCHIVED",
                        "IsActive": option_status == "ACTIVE",
                    }
                    for option, option_status in options
                ],
            }
        )
    return categories


def new_contact(
    contact_id: str, name: str, status: str, stamp: str, extra: dict[str, Any]
) -> dict[str, Any]:
    """A contact in Xero's shape."""
    return {
        "ContactID": contact_id,
        "ContactStatus": status,
        "Name": name,
        **extra,
        "Addresses": [],
        "Phones": [],
        "UpdatedDateUTC": stamp,
        "ContactGroups": [],
        "IsSupplier": True,
        "IsCustomer": False,
        "ContactPersons": [],
        "HasAttachments": False,
        "HasValidationErrors": False,
    }


def _account(
    seed_value: int,
    tenant_key: str,
    row: tuple[str, str, str, str, dict[str, Any]],
    base_currency: str,
    stamp: str,
) -> dict[str, Any]:
    code, name, account_type, tax_type, extra = row
    account: dict[str, Any] = {
        "AccountID": stable_id(seed_value, f"account/{tenant_key}", code),
        "Code": code,
        "Name": name,
        "Status": extra.get("Status", "ACTIVE"),
        "Type": account_type,
        "TaxType": tax_type,
        "Class": ACCOUNT_CLASSES[account_type],
        "EnablePaymentsToAccount": extra.get("EnablePaymentsToAccount", False),
        "ShowInExpenseClaims": ACCOUNT_CLASSES[account_type] == "EXPENSE",
        "BankAccountType": "",
        "ReportingCode": "",
        "HasAttachments": False,
        "UpdatedDateUTC": stamp,
        "AddToWatchlist": False,
    }
    if account_type == "BANK":
        account["BankAccountType"] = extra.get("BankAccountType", "BANK")
        account["BankAccountNumber"] = f"20-00-{code.zfill(4)}-{len(name):04d}"
        account["CurrencyCode"] = extra.get("CurrencyCode", base_currency)
    if "SystemAccount" in extra:
        account["SystemAccount"] = extra["SystemAccount"]
    return account


def _tax_rate(
    row: tuple[str, str, float, str, tuple[bool, bool, bool, bool, bool], str],
) -> dict[str, Any]:
    tax_type, name, rate, report_type, applies, status = row
    expenses, revenue, assets, liabilities, equity = applies
    return {
        "Name": name,
        "TaxType": tax_type,
        "ReportTaxType": report_type,
        "CanApplyToAssets": assets,
        "CanApplyToEquity": equity,
        "CanApplyToExpenses": expenses,
        "CanApplyToLiabilities": liabilities,
        "CanApplyToRevenue": revenue,
        "DisplayTaxRate": rate,
        "EffectiveRate": rate,
        "Status": status,
        "TaxComponents": [
            {"Name": "Tax", "Rate": rate, "IsCompound": False, "IsNonRecoverable": False}
        ],
    }
