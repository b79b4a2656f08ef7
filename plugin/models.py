"""The tables (design §3); every schema change goes through an Alembic migration. Money is
``Numeric(18, 2)``/``Decimal``, never float; times UTC, timezone-aware; tokens ciphertext only."""

from __future__ import annotations

import enum
from datetime import UTC
from datetime import date
from datetime import datetime
from decimal import Decimal
from functools import partial
from secrets import token_urlsafe
from typing import Any
from typing import Generic
from typing import TypeVar

from sqlalchemy import JSON
from sqlalchemy import Column
from sqlalchemy import DateTime
from sqlalchemy import Index
from sqlalchemy import MetaData
from sqlalchemy import Numeric
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import TypeDecorator
from sqlalchemy import UniqueConstraint
from sqlmodel import Field
from sqlmodel import SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata

NEVER_REUSE_IDS: dict[str, Any] = {"sqlite_autoincrement": True}  # on SQLite too, every table


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC without a zone (portable) and returns timezone-aware UTC datetimes."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use timezone-aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


StateT = TypeVar("StateT", bound=enum.StrEnum)


class StateColumn(TypeDecorator[StateT], Generic[StateT]):
    """A state column: ``VARCHAR(length)`` in the database, its ``StrEnum`` in Python. Values
    are checked on the way in (an unknown state is refused) and come back as enum members."""

    impl = String
    cache_ok = True

    def __init__(self, states: type[StateT], length: int) -> None:
        super().__init__(length)
        self.states = states

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else self.states(value).value

    def process_result_value(self, value: str | None, dialect: Any) -> StateT | None:
        return None if value is None else self.states(value)


def _state(states: type[StateT], default: StateT | None, length: int, index: bool = False) -> Any:
    kwargs: dict[str, Any] = {"index": True} if index else {}
    if default is not None:
        kwargs["default"] = default
    return Field(sa_type=StateColumn(states, length), **kwargs)


def _ts(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def _created() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


def _money() -> Any:
    return Field(default=Decimal("0.00"), sa_column=Column(Numeric(18, 2), nullable=False))


def _json(default: Any = None) -> Any:
    factory = (lambda: None) if default is None else default
    return Field(default_factory=factory, sa_column=Column(JSON, nullable=True))


def _text(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(Text, nullable=nullable))


class OrgStatus(enum.StrEnum):
    ACTIVE = "active"
    NEEDS_RECONNECT = "needs_reconnect"
    DISCONNECTED = "disconnected"


class ConnectionStatus(enum.StrEnum):
    ACTIVE = "active"
    NEEDS_RECONNECT = "needs_reconnect"
    DISCONNECTED = "disconnected"


class OnboardingStep(enum.StrEnum):
    CONNECT_AMAZON = "connect_amazon"
    IMPORT_HISTORY = "import_history"
    MAP_ACCOUNTS = "map_accounts"
    REVIEW = "review"
    DONE = "done"


class EntryState(enum.StrEnum):
    FETCHED = "fetched"
    HELD = "held"
    REVIEW = "review"  # review mode: waits for the bookkeeper's approval (plugin.ledger.review)
    READY = "ready"
    POSTING = "posting"
    POSTED = "posted"
    FAILED = "failed"
    BY_HAND = "by_hand"  # posted in Xero by the user: final unless they take the mark back
    CANCELLED = "cancelled"  # Amazon cancelled it after posting: its document voided/deleted


class BatchState(enum.StrEnum):
    PENDING = "pending"  # committed, not yet sent
    SENT = "sent"  # request on the wire: outcome unknown until recorded
    RECORDED = "recorded"  # every member's outcome stored
    ABANDONED = "abandoned"  # recovery found and recorded everything another way


class ImportTrigger(enum.StrEnum):
    HISTORICAL = "historical"
    SCHEDULED = "scheduled"
    MANUAL = "manual"


class RunState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PAUSED = "paused"  # e.g. waiting for a rate limit or a reconnect


class User(SQLModel, table=True):
    """Someone who signed in with Xero."""

    __tablename__ = "user_account"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: int | None = Field(default=None, primary_key=True)
    xero_user_id: str = Field(max_length=64, unique=True, index=True)
    email: str = Field(default="", max_length=320)
    name: str = Field(default="", max_length=200)
    # The session cookie's id (never the row id); a new one ends every session: auth.login.
    session_token: str = Field(
        default_factory=partial(token_urlsafe, 32), max_length=64, unique=True
    )
    created_at: datetime = _created()
    last_login_at: datetime | None = _ts()


class Organisation(SQLModel, table=True):
    """A Xero organisation (tenant) connected to the app."""

    __table_args__ = (NEVER_REUSE_IDS,)

    id: int | None = Field(default=None, primary_key=True)
    xero_tenant_id: str = Field(max_length=64, unique=True, index=True)
    xero_connection_id: str | None = Field(default=None, max_length=64)
    name: str = Field(default="", max_length=255)
    country: str = Field(default="", max_length=8)
    base_currency: str = Field(default="", max_length=3)
    timezone: str = Field(default="", max_length=64)
    period_lock_date: date | None = None
    end_of_year_lock_date: date | None = None
    xero_token_encrypted: str | None = _text()
    xero_token_expires_at: datetime | None = _ts()
    # Orgs of one consent share one token set: same group (its authentication_event_id).
    xero_token_group: str | None = Field(default=None, max_length=64, index=True)
    xero_scopes: str = Field(default="", max_length=1000)
    status: OrgStatus = _state(OrgStatus, OrgStatus.ACTIVE, 32, index=True)
    status_reason: str | None = _text()
    amazon_contact_id: str | None = Field(default=None, max_length=64)
    sync_enabled: bool = Field(default=False, index=True)
    onboarding_step: OnboardingStep = _state(OnboardingStep, OnboardingStep.CONNECT_AMAZON, 32)
    settings: dict[str, Any] | None = _json(dict)
    last_synced_at: datetime | None = _ts()
    next_sync_at: datetime | None = _ts()
    created_at: datetime = _created()
    updated_at: datetime = _created()


class Membership(SQLModel, table=True):
    """A user's access to an organisation; ``verified_at``: when Xero's /connections granted it."""

    __table_args__ = (UniqueConstraint("user_id", "organisation_id"), NEVER_REUSE_IDS)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    role: str = Field(default="admin", max_length=32)
    notify: bool = True
    created_at: datetime = _created()
    verified_at: datetime | None = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AmazonConnection(SQLModel, table=True):
    """One Amazon Business store (country) connected to an organisation; tokens per store."""

    __tablename__ = "amazon_connection"
    __table_args__ = (UniqueConstraint("organisation_id", "store"), NEVER_REUSE_IDS)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    name: str = Field(default="", max_length=120)
    store: str = Field(max_length=4)
    region: str = Field(max_length=4)
    # What identifies the Amazon Business account (see plugin.amazon): stable key + details.
    account_key: str | None = Field(default=None, max_length=255, index=True)
    account_identity: dict[str, Any] | None = _json(dict)
    refresh_token_encrypted: str | None = _text()
    access_token_encrypted: str | None = _text()
    access_token_expires_at: datetime | None = _ts()
    status: ConnectionStatus = _state(ConnectionStatus, ConnectionStatus.ACTIVE, 32)
    status_reason: str | None = _text()
    last_synced_at: datetime | None = _ts()
    created_at: datetime = _created()
    updated_at: datetime = _created()


class PaymentMethod(SQLModel, table=True):
    """A payment instrument seen in the Amazon data, and what it maps to in Xero."""

    __tablename__ = "payment_method"
    __table_args__ = (UniqueConstraint("organisation_id", "key"), NEVER_REUSE_IDS)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    key: str = Field(max_length=255)
    instrument_type: str = Field(default="", max_length=120)
    last4: str | None = Field(default=None, max_length=8)
    label: str = Field(default="", max_length=255)
    treatment: str | None = Field(default=None, max_length=32)  # spend_money | bill
    account_code: str | None = Field(default=None, max_length=32)
    payment_account_code: str | None = Field(default=None, max_length=32)
    first_seen_at: datetime = _created()
    acknowledged: bool = False  # False = newly seen, flagged in Manage Integrations


class Mapping(SQLModel, table=True):
    """One mapping choice: (kind, key) → Xero account code or tax type."""

    __table_args__ = (UniqueConstraint("organisation_id", "kind", "key"), NEVER_REUSE_IDS)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=32)
    key: str = Field(default="", max_length=255)
    value: str = Field(default="", max_length=255)
    position: int = 0  # order of expense rules (first match wins)
    updated_at: datetime = _created()


class PostingBatch(SQLModel, table=True):
    """One Xero write call: its members and Idempotency-Key, committed before it is sent."""

    __tablename__ = "posting_batch"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    idempotency_key: str = Field(max_length=64, unique=True)
    endpoint: str = Field(max_length=32)
    state: BatchState = _state(BatchState, BatchState.PENDING, 16, index=True)
    member_entry_ids: list[int] | None = _json(list)
    attempts: int = 0
    request_summary: dict[str, Any] | None = _json(dict)
    response_summary: dict[str, Any] | None = _json(dict)
    created_at: datetime = _created()
    sent_at: datetime | None = _ts()
    recorded_at: datetime | None = _ts()


class LedgerEntry(SQLModel, table=True):
    """One Amazon Business transaction and its way into Xero (posted at most once, ever)."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        UniqueConstraint("organisation_id", "amazon_transaction_id"),
        Index("ix_ledger_entry_state_date", "organisation_id", "state", "transaction_date", "id"),
        Index("ix_ledger_entry_org_date", "organisation_id", "transaction_date"),
        Index("ix_ledger_entry_org_order", "organisation_id", "order_id"),
        Index("ix_ledger_entry_org_invoice", "organisation_id", "invoice_number"),
        NEVER_REUSE_IDS,
    )

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE")
    amazon_connection_id: int | None = Field(
        default=None, foreign_key="amazon_connection.id", ondelete="SET NULL"
    )
    amazon_transaction_id: str = Field(max_length=128)
    transaction_type: str = Field(default="", max_length=32)
    transaction_date: datetime | None = _ts()
    feed_date: datetime | None = _ts()
    amount: Decimal = _money()
    currency: str = Field(default="", max_length=3)
    payment_method_key: str | None = Field(default=None, max_length=255)
    order_id: str | None = Field(default=None, max_length=255)  # the first line item's order
    purchase_orders: str | None = Field(default=None, max_length=255)  # buyer's PO numbers
    buyer_name: str | None = Field(default=None, max_length=255)  # Amazon's buyer.name
    invoice_number: str | None = Field(default=None, max_length=255)  # Amazon's invoice number
    charge_identifier: str | None = Field(default=None, max_length=255)  # card statement line
    raw_payload: dict[str, Any] | None = _json(dict)
    payload_hash: str = Field(default="", max_length=64)
    state: EntryState = _state(EntryState, EntryState.FETCHED, 16)
    reason_code: str | None = Field(default=None, max_length=64, index=True)
    reason: str | None = _text()
    needs_review: bool = False  # payload changed after it was posted
    xero_document_type: str | None = Field(default=None, max_length=32)
    xero_document_id: str | None = Field(default=None, max_length=64)
    xero_reference: str | None = Field(default=None, max_length=255)
    batch_id: int | None = Field(default=None, foreign_key="posting_batch.id", ondelete="SET NULL")
    bill_due_date: date | None = None  # from Amazon's payment details, for Pay by Invoice bills
    settlement_state: str | None = Field(default=None, max_length=16)
    xero_payment_id: str | None = Field(default=None, max_length=64)
    attachment_state: str | None = Field(default=None, max_length=16)
    attachment_note: str | None = _text()  # why not attached, or what was attached instead
    duplicate_of: str | None = Field(default=None, max_length=64)  # posting.bank_feed's match
    duplicate_cleared: bool = False  # "a different purchase": the bank-feed guard lets it post
    attempts: int = 0
    posted_at: datetime | None = _ts()
    created_at: datetime = _created()
    updated_at: datetime = _created()


class ImportRun(SQLModel, table=True):
    """One import (historical, scheduled or manual) with its progress counts."""

    __tablename__ = "import_run"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    trigger: ImportTrigger = _state(ImportTrigger, None, 16)
    range_start: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    range_end: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    state: RunState = _state(RunState, RunState.QUEUED, 16)
    fetched: int = 0
    new: int = 0
    already_known: int = 0
    posted: int = 0
    held: int = 0
    failed: int = 0
    rq_job_id: str | None = Field(default=None, max_length=128)
    error: str | None = _text()
    created_at: datetime = _created()
    started_at: datetime | None = _ts()
    finished_at: datetime | None = _ts()


class AuditEvent(SQLModel, table=True):
    """Something that happened to an organisation, by whom (a user or a job)."""

    __tablename__ = "audit_event"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = Field(
        default=None, foreign_key="organisation.id", index=True, ondelete="CASCADE"
    )
    at: datetime = _created()
    actor: str = Field(default="", max_length=255)
    action: str = Field(max_length=64)
    detail: dict[str, Any] | None = _json(dict)


from plugin.work import tables as _registers_other_tables  # noqa: E402, F401
