"""The Xero sandbox's state: users, tenants and their books, connections, codes, token sets.

Everything lives in one ``XeroWorld`` kept in ``current_sandbox().worlds["xero"]`` and rebuilt
from the seed on reset. Callers mutate it only while holding ``current_sandbox().lock``.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import date
from datetime import datetime
from typing import Any

from sandbox.core import current_sandbox
from sandbox.xero import seed
from sandbox.xero.limits import LimitState
from sandbox.xero.xerojson import ms_date
from sandbox.xero.xerojson import ms_datetime

SANDBOX_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://sandbox.local/xero")
DOCUMENT_ENDPOINTS = ("BankTransactions", "Invoices", "CreditNotes", "Payments")

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


@dataclass
class XeroUser:
    """A person who can sign in at the authorize page."""

    user_id: str
    email: str
    given_name: str
    family_name: str
    password: str
    tenant_ids: list[str]

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"


@dataclass
class Attachment:
    """A file attached to a document."""

    attachment_id: str
    file_name: str
    mime_type: str
    content: bytes
    include_online: bool = False


@dataclass
class Tenant:
    """A Xero organisation (or practice) with its books."""

    tenant_id: str
    name: str
    tenant_type: str
    organisation: dict[str, Any] | None = None
    period_lock_date: date | None = None
    end_of_year_lock_date: date | None = None
    accounts: list[dict[str, Any]] = field(default_factory=list)
    tax_rates: list[dict[str, Any]] = field(default_factory=list)
    currencies: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    documents: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {name: {} for name in DOCUMENT_ENDPOINTS}
    )
    attachments: dict[str, list[Attachment]] = field(default_factory=dict)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def base_currency(self) -> str:
        return str((self.organisation or {}).get("BaseCurrency", ""))

    def account_by_code(self, code: str) -> dict[str, Any] | None:
        return next((a for a in self.accounts if a["Code"] == code), None)

    def account_by_id(self, account_id: str) -> dict[str, Any] | None:
        wanted = account_id.lower()
        return next((a for a in self.accounts if a["AccountID"] == wanted), None)

    def tax_rate(self, tax_type: str) -> dict[str, Any] | None:
        return next((t for t in self.tax_rates if t["TaxType"] == tax_type), None)

    def currency_codes(self) -> set[str]:
        return {c["Code"] for c in self.currencies}

    def document(self, endpoint: str, document_id: str) -> dict[str, Any] | None:
        return self.documents.get(endpoint, {}).get(document_id.lower())


@dataclass
class Connection:
    """One user's authorisation of one tenant for the app."""

    connection_id: str
    user_id: str
    tenant_id: str
    client_id: str
    auth_event_id: str
    created: datetime
    updated: datetime


@dataclass
class AuthRequest:
    """An authorize request in progress (between the sign-in and consent pages)."""

    request_id: str
    client_id: str
    redirect_uri: str
    scope: str
    state: str | None
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    user_id: str | None = None


@dataclass
class AuthCode:
    """A one-time authorization code."""

    code: str
    client_id: str
    redirect_uri: str
    user_id: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_event_id: str
    expires_at: float
    used: bool = False


@dataclass
class TokenSet:
    """The tokens of one consent, with its rotating refresh token."""

    token_set_id: str
    client_id: str
    user_id: str
    scope: str
    auth_event_id: str
    nonce: str | None
    refresh_token: str
    last_used: float
    pkce: bool = False
    superseded: dict[str, float] = field(default_factory=dict)
    revoked: bool = False


@dataclass
class IdempotentResponse:
    """A response remembered for an ``Idempotency-Key``."""

    fingerprint: str
    status: int
    body: bytes
    content_type: str
    stored_at: float


@dataclass
class Stats:
    """Counters that tests read from ``GET /_sandbox/xero/stats``."""

    token_requests: Counter[str] = field(default_factory=Counter)
    token_errors: Counter[str] = field(default_factory=Counter)
    revocations: int = 0
    api_calls: Counter[str] = field(default_factory=Counter)
    api_calls_by_endpoint: Counter[str] = field(default_factory=Counter)
    rate_limited: Counter[str] = field(default_factory=Counter)
    rate_limited_by_tenant: Counter[str] = field(default_factory=Counter)
    idempotent_replays: int = 0
    connections_deleted: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "token_requests": dict(self.token_requests),
            "token_refreshes": self.token_requests.get("refresh_token", 0),
            "token_errors": dict(self.token_errors),
            "revocations": self.revocations,
            "api_calls": dict(self.api_calls),
            "api_calls_total": sum(self.api_calls.values()),
            "api_calls_by_endpoint": dict(self.api_calls_by_endpoint),
            "rate_limited": {
                "total": sum(self.rate_limited.values()),
                "by_problem": dict(self.rate_limited),
                "by_tenant": dict(self.rate_limited_by_tenant),
            },
            "idempotent_replays": self.idempotent_replays,
            "connections_deleted": self.connections_deleted,
        }


@dataclass
class XeroWorld:
    """All of the Xero sandbox's state."""

    seed: int
    users: dict[str, XeroUser]
    tenants: dict[str, Tenant]
    connections: dict[str, Connection] = field(default_factory=dict)
    first_connected: dict[tuple[str, str], datetime] = field(default_factory=dict)
    pending: dict[str, AuthRequest] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    token_sets: dict[str, TokenSet] = field(default_factory=dict)
    refresh_index: dict[str, str] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], IdempotentResponse] = field(default_factory=dict)
    limits: LimitState = field(default_factory=LimitState)
    stats: Stats = field(default_factory=Stats)
    rng: random.Random = field(default_factory=random.Random)

    def new_id(self) -> str:
        """A fresh document id (reproducible for a given seed and sequence of calls)."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def user_by_email(self, email: str) -> XeroUser | None:
        wanted = email.strip().lower()
        return next((u for u in self.users.values() if u.email == wanted), None)

    def user_connections(self, user_id: str, client_id: str) -> list[Connection]:
        return [
            c
            for c in self.connections.values()
            if c.user_id == user_id and c.client_id == client_id
        ]

    def tenant_for_contact(self, contact_id: str) -> Tenant | None:
        wanted = contact_id.lower()
        return next((t for t in self.tenants.values() if wanted in t.contacts), None)


def xero_world() -> XeroWorld:
    """The Xero world of the sandbox handling this request."""
    return current_sandbox().worlds["xero"]  # type: ignore[no-any-return]


def build_world(seed_value: int) -> XeroWorld:
    """Build users and tenants from ``seed.py``; every id derives from ``seed_value``."""
    tenant_ids = {t["key"]: stable_id(seed_value, "tenant", t["key"]) for t in seed.TENANTS}
    tenants = {tenant_ids[spec["key"]]: _build_tenant(seed_value, spec) for spec in seed.TENANTS}
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


def _build_tenant(seed_value: int, spec: dict[str, Any]) -> Tenant:
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
    for key, name, status, extra in spec["contacts"]:
        contact_id = stable_id(seed_value, f"contact/{spec['key']}", key)
        tenant.contacts[contact_id] = new_contact(contact_id, name, status, stamp, extra)
    return tenant


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
