"""A valid Xero access token for an organisation, whatever number of workers ask at once.

Organisations authorised in one consent share one token set (``xero_token_group``): they are
locked, refreshed and updated together, since refreshing spends the refresh token they share.

A refresh happens when the access token expires within 60 s. It takes a per-organisation lock in
Redis, re-reads the token after acquiring it (another worker may have refreshed already), and
commits the rotated refresh token before releasing the lock — so two workers never spend the same
refresh token. ``invalid_grant`` marks the organisation ``needs_reconnect`` and raises
``XeroNeedsReconnect`` so its jobs pause.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import redis
from sqlmodel import Session
from sqlmodel import select

from plugin.auth.token_store import read_xero_token
from plugin.auth.token_store import save_xero_token
from plugin.infra.keys import xero_token_lock_key
from plugin.models import Organisation
from plugin.models import OrgStatus
from plugin.models import utcnow
from plugin.security import TokenCipher
from plugin.xero.auth import XeroIdentity
from plugin.xero.errors import XeroNeedsReconnect

log = logging.getLogger(__name__)

REFRESH_MARGIN = timedelta(seconds=60)
LOCK_TIMEOUT_SECONDS = 60


class XeroTokenManager:
    """Hands out access tokens for one organisation, refreshing them safely."""

    def __init__(
        self,
        org_id: int,
        session_factory: Callable[[], AbstractContextManager[Session]],
        cipher: TokenCipher,
        identity: XeroIdentity,
        redis_client: redis.Redis,
    ) -> None:
        self.org_id = org_id
        self.session_factory = session_factory
        self.cipher = cipher
        self.identity = identity
        self.redis = redis_client

    def _load(self, session: Session) -> tuple[Organisation, dict[str, Any]]:
        org = session.get(Organisation, self.org_id)
        if org is None:
            raise XeroNeedsReconnect("The organisation no longer exists.")
        if org.status != OrgStatus.ACTIVE:
            raise XeroNeedsReconnect(
                org.status_reason or "This organisation must be reconnected to Xero."
            )
        token = read_xero_token(self.cipher, org)
        if not token or not token.get("refresh_token"):
            raise XeroNeedsReconnect("No Xero tokens are stored for this organisation.")
        return org, token

    @staticmethod
    def _token_group(session: Session, org: Organisation) -> list[Organisation]:
        """The organisations sharing ``org``'s token set (at least ``org`` itself)."""
        if not org.xero_token_group:
            return [org]
        statement = select(Organisation).where(
            Organisation.xero_token_group == org.xero_token_group
        )
        return list(session.exec(statement)) or [org]

    @staticmethod
    def _fresh_enough(org: Organisation) -> bool:
        expires = org.xero_token_expires_at
        return expires is not None and expires - utcnow() > REFRESH_MARGIN

    def mark_needs_reconnect(self, reason: str) -> None:
        """Record that Xero no longer accepts this organisation's tokens (jobs pause on it)."""
        with self.session_factory() as session:
            org = session.get(Organisation, self.org_id)
            if org is None:
                return
            for sharing in self._token_group(session, org):
                if sharing.status == OrgStatus.ACTIVE:
                    sharing.status = OrgStatus.NEEDS_RECONNECT
                    sharing.status_reason = reason
                    sharing.updated_at = utcnow()
                    session.add(sharing)
            session.commit()

    def access_token(self, force_refresh: bool = False) -> str:
        """A usable access token; ``force_refresh`` after Xero answered 401 to the current one."""
        with self.session_factory() as session:
            org, token = self._load(session)
            if not force_refresh and self._fresh_enough(org):
                return str(token["access_token"])
            stale_access_token = token.get("access_token")
        return self._refresh(stale_access_token if force_refresh else None)

    def _lock_name(self) -> str:
        with self.session_factory() as session:
            org = session.get(Organisation, self.org_id)
            group = org.xero_token_group if org is not None else None
        return xero_token_lock_key(group, self.org_id)

    def _refresh(self, stale_access_token: str | None) -> str:
        lock = self.redis.lock(
            self._lock_name(),
            timeout=LOCK_TIMEOUT_SECONDS,
            blocking_timeout=LOCK_TIMEOUT_SECONDS,
        )
        if not lock.acquire():
            raise TimeoutError("Timed out waiting for another worker to refresh the Xero token.")
        try:
            with self.session_factory() as session:
                org, token = self._load(session)
                # Someone else refreshed while we waited for the lock: use theirs.
                refreshed_elsewhere = (
                    stale_access_token is not None
                    and token.get("access_token") != stale_access_token
                )
                if refreshed_elsewhere or (stale_access_token is None and self._fresh_enough(org)):
                    return str(token["access_token"])
                try:
                    new_token = self.identity.refresh(str(token["refresh_token"]))
                except XeroNeedsReconnect as exc:
                    session.rollback()
                    self.mark_needs_reconnect(exc.message)
                    log.warning("Organisation %s needs to reconnect to Xero", self.org_id)
                    raise
                new_token.setdefault("expires_at", time.time() + 1800)
                for sharing in self._token_group(session, org):
                    save_xero_token(self.cipher, sharing, new_token)
                    session.add(sharing)
                session.commit()  # before the lock is released: the old refresh token is spent
                return str(new_token["access_token"])
        finally:
            lock.release()
