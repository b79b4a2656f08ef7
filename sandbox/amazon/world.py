"""The Amazon Business side's state: accounts, users, books of transactions, auth, reports.

Built from the seed at every sandbox reset (``build_world``) and kept in
``current_sandbox().worlds["amazon"]``. Every read or write holds ``current_sandbox().lock``.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any

from sandbox.amazon.auth import AuthState
from sandbox.amazon.book import Book
from sandbox.amazon.generator import generate_account
from sandbox.amazon.ids import account_id
from sandbox.amazon.ids import customer_id
from sandbox.amazon.profiles import PROFILES
from sandbox.amazon.profiles import SANDBOX_PASSWORD
from sandbox.amazon.profiles import AccountProfile
from sandbox.amazon.profiles import Instrument
from sandbox.amazon.reports import ReportState
from sandbox.amazon.stores import STORES
from sandbox.amazon.throttle import Throttle
from sandbox.core import current_sandbox

DEFAULT_PAGE_SIZE = 100


@dataclass
class Account:
    """A seeded Amazon Business account (one customer, several stores)."""

    key: str
    account_id: str
    profile: AccountProfile
    extra_instruments: list[Instrument] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The account's display name."""
        return self.profile.name

    @property
    def stores(self) -> list[str]:
        """The stores the account buys on."""
        return [store.store for store in self.profile.stores]


@dataclass(frozen=True)
class User:
    """Someone who can sign in on the consent page."""

    email: str
    name: str
    customer_id: str
    account_key: str
    password: str
    admin_of_all_entities: bool


@dataclass
class Stats:
    """What the plugin has asked of the Amazon side since the last reset."""

    token_calls: Counter[str] = field(default_factory=Counter)
    api_calls: Counter[str] = field(default_factory=Counter)
    throttled: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    downloads: int = 0

    def to_json(self) -> dict[str, Any]:
        """The ``GET /_sandbox/amazon/stats`` body."""
        return {
            "token_calls": dict(self.token_calls),
            "api_calls": dict(self.api_calls),
            "throttled": dict(self.throttled),
            "faults": dict(self.faults),
            "downloads": self.downloads,
        }


@dataclass
class PageCursor:
    """Server-side state behind an opaque ``nextPageToken``."""

    party: str
    start_ts: float
    end_ts: float
    after: tuple[float, str]


@dataclass
class AmazonWorld:
    """Everything the Amazon Business side remembers."""

    seed: int
    accounts: dict[str, Account]
    users: dict[str, User]
    books: dict[tuple[str, str], Book]
    auth: AuthState
    reports: ReportState
    throttle: Throttle
    rng: random.Random
    page_size: int = DEFAULT_PAGE_SIZE
    stats: Stats = field(default_factory=Stats)
    page_tokens: dict[str, PageCursor] = field(default_factory=dict)

    def book(self, account_key: str, store: str) -> Book:
        """The book of an account's store (created empty on first use)."""
        key = (account_key, store)
        if key not in self.books:
            self.books[key] = Book(account_key, store)
        return self.books[key]

    def find_account(self, ref: str) -> Account | None:
        """An account by key, id or name (case-insensitive)."""
        wanted = ref.strip().lower()
        for account in self.accounts.values():
            if wanted in (account.key, account.account_id.lower(), account.name.lower()):
                return account
        return None


def build_world(
    seed: int, end: datetime, days: int, volume: int, page_size: int = DEFAULT_PAGE_SIZE
) -> AmazonWorld:
    """Generate the seeded accounts, users and transactions, ending at ``end``."""
    accounts: dict[str, Account] = {}
    users: dict[str, User] = {}
    books: dict[tuple[str, str], Book] = {}
    for profile in PROFILES.values():
        accounts[profile.key] = Account(profile.key, account_id(seed, profile.key), profile)
        for person in profile.people:
            if person.login:
                users[person.email] = User(
                    email=person.email,
                    name=person.name,
                    customer_id=customer_id(seed, person.email),
                    account_key=profile.key,
                    password=SANDBOX_PASSWORD,
                    admin_of_all_entities=person.admin_of_all_entities,
                )
        transactions = generate_account(profile, seed=seed, end=end, days=days, count=volume)
        for store in profile.stores:
            book = books[(profile.key, store.store)] = Book(profile.key, store.store)
            marketplace = STORES[store.store].marketplace_id
            book.add_many([tx for tx in transactions if tx["marketplaceId"] == marketplace], end)
    return AmazonWorld(
        seed=seed,
        accounts=accounts,
        users=users,
        books=books,
        # Seeded on purpose: sandbox tokens and ids are reproducible, never secret.
        auth=AuthState(random.Random(f"amazon-auth:{seed}")),
        reports=ReportState(random.Random(f"amazon-reports:{seed}")),
        throttle=Throttle(),
        rng=random.Random(f"amazon-world:{seed}"),
        page_size=page_size,
    )


def get_world() -> AmazonWorld:
    """The Amazon world of the sandbox handling this request."""
    world: AmazonWorld = current_sandbox().worlds["amazon"]
    return world
