"""The Xero sandbox's state: users, tenants and their books, connections, codes, token sets.

Everything lives in one ``XeroWorld`` kept in ``current_sandbox().worlds["xero"]`` and rebuilt
from the seed on reset (``sandbox.xero.build``). Callers mutate it only while holding
``current_sandbox().lock``.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from typing import Any

from sandbox.core import current_sandbox
from sandbox.xero.limits import LimitState

DOCUMENT_ENDPOINTS = ("BankTransactions", "Invoices", "CreditNotes", "Payments")


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
    tracking_categories: list[dict[str, Any]] = field(default_factory=list)
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
    concurrent_same_key: int = 0  # a key arriving again while its first request is in flight
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
            "concurrent_same_key": self.concurrent_same_key,
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
    # How long an answer is remembered for its key (Xero is quoted as 6 minutes; a test may make
    # it forget sooner), and what a second request with a key still in flight gets: processed
    # again ("process": nothing is stored for the key yet) or refused ("conflict", 409).
    idempotency_seconds: float = 360.0
    concurrent_same_key: str = "process"
    keys_in_flight: set[tuple[str, str]] = field(default_factory=set)
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
