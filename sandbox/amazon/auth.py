"""Consents, authorization codes and LWA tokens: issue, exchange, refresh, verify, revoke.

Times are sandbox epoch seconds passed in by the caller; callers hold the sandbox lock.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from dataclasses import field

from sandbox.amazon.ids import ALNUM
from sandbox.amazon.ids import random_token

CODE_SECONDS = 300
TICKET_SECONDS = 600
ACCESS_TOKEN_SECONDS = 3600


class LwaError(Exception):
    """An OAuth error answer from the LWA token endpoint."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


@dataclass
class Ticket:
    """A signed-in user looking at the Allow/Cancel page (single use)."""

    ticket: str
    email: str
    account_key: str
    store: str
    redirect_uri: str
    state: str
    expires_at: float


@dataclass
class Code:
    """An authorization code waiting to be exchanged (single use, short-lived)."""

    code: str
    account_key: str
    store: str
    email: str
    redirect_uri: str
    expires_at: float
    used: bool = False


@dataclass
class Consent:
    """One grant: an account's store authorised the application; owns one refresh token."""

    consent_id: str
    account_key: str
    store: str
    email: str
    refresh_token: str
    created_at: float
    revoked: bool = False

    @property
    def party(self) -> str:
        """The throttling party: the application paired with this account's store."""
        return f"{self.account_key}:{self.store}"


@dataclass
class AccessToken:
    """An issued access token and the consent it acts for."""

    token: str
    consent_id: str
    expires_at: float


@dataclass
class AuthState:
    """All tickets, codes, consents and tokens of the sandbox."""

    rng: random.Random
    tickets: dict[str, Ticket] = field(default_factory=dict)
    codes: dict[str, Code] = field(default_factory=dict)
    consents: dict[str, Consent] = field(default_factory=dict)
    by_refresh_token: dict[str, Consent] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)

    def open_ticket(
        self, email: str, account_key: str, store: str, redirect_uri: str, state: str, now: float
    ) -> Ticket:
        """Remember a signed-in user's pending Allow/Cancel decision."""
        ticket = Ticket(
            random_token(self.rng, 24),
            email,
            account_key,
            store,
            redirect_uri,
            state,
            now + TICKET_SECONDS,
        )
        self.tickets[ticket.ticket] = ticket
        return ticket

    def take_ticket(self, ticket_id: str, store: str, now: float) -> Ticket | None:
        """The pending decision, removed; None when unknown, expired or for another store."""
        ticket = self.tickets.pop(ticket_id, None)
        if ticket is None or ticket.expires_at < now or ticket.store != store:
            return None
        return ticket

    def issue_code(self, ticket: Ticket, now: float) -> Code:
        """An authorization code for an allowed ticket."""
        code = Code(
            "AN" + random_token(self.rng, 18, ALNUM),
            ticket.account_key,
            ticket.store,
            ticket.email,
            ticket.redirect_uri,
            now + CODE_SECONDS,
        )
        self.codes[code.code] = code
        return code

    def exchange_code(
        self, code_text: str, redirect_uri: str, now: float
    ) -> tuple[Consent, AccessToken]:
        """Spend a code: a new consent (with its refresh token) and a first access token."""
        code = self.codes.get(code_text)
        if code is None or code.used or code.expires_at < now:
            raise LwaError("invalid_grant", "The request has an invalid grant parameter : code")
        if redirect_uri != code.redirect_uri:
            raise LwaError(
                "invalid_grant",
                "The redirect_uri does not match the one used in the authorization request",
            )
        code.used = True
        consent = Consent(
            consent_id=f"consent-{len(self.consents) + 1}",
            account_key=code.account_key,
            store=code.store,
            email=code.email,
            refresh_token="Atzr|" + random_token(self.rng, 80),
            created_at=now,
        )
        self.consents[consent.consent_id] = consent
        self.by_refresh_token[consent.refresh_token] = consent
        return consent, self.issue_access_token(consent, now)

    def refresh(self, refresh_token: str, now: float) -> tuple[Consent, AccessToken]:
        """A new access token for a live refresh token (the refresh token itself is reused)."""
        consent = self.by_refresh_token.get(refresh_token)
        if consent is None or consent.revoked:
            raise LwaError(
                "invalid_grant", "The request has an invalid grant parameter : refresh_token"
            )
        return consent, self.issue_access_token(consent, now)

    def issue_access_token(self, consent: Consent, now: float) -> AccessToken:
        """Mint an access token for a consent."""
        token = AccessToken(
            "Atza|" + random_token(self.rng, 80), consent.consent_id, now + ACCESS_TOKEN_SECONDS
        )
        self.access_tokens[token.token] = token
        return token

    def verify(self, token_text: str, now: float) -> Consent | str:
        """The consent an access token acts for, or why it is refused (Amazon's wording)."""
        token = self.access_tokens.get(token_text)
        if token is None:
            return "The access token you provided is revoked, malformed or invalid."
        consent = self.consents[token.consent_id]
        if consent.revoked:
            return "The access token you provided is revoked, malformed or invalid."
        if token.expires_at <= now:
            return "The access token you provided has expired."
        return consent

    def revoke(
        self,
        refresh_token: str | None = None,
        account_key: str | None = None,
        store: str | None = None,
    ) -> int:
        """Revoke the consent of a refresh token, or every consent of an account (and store)."""
        revoked = 0
        for consent in self.consents.values():
            if consent.revoked:
                continue
            if refresh_token is not None:
                hit = consent.refresh_token == refresh_token
            else:
                hit = consent.account_key == account_key and store in (None, consent.store)
            if hit:
                consent.revoked = True
                revoked += 1
        return revoked
