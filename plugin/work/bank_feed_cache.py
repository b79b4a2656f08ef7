"""What the bank-feed guard saw of an organisation's card accounts, kept in Redis from one
posting run to the next (``ledger.bank_feed_guard.FeedCache``): a cache, not the truth. Lost
(Redis restarted empty, a day passed) or unreadable, the next run reads the account again in
full; a Redis error while reading or writing it never stops posting."""

from __future__ import annotations

import json
import logging
from typing import Any

import redis

from plugin.infra.keys import bank_feed_cache_key

log = logging.getLogger(__name__)

CACHE_SECONDS = 24 * 3600


class RedisFeedCache:
    """``FeedCache`` for one organisation."""

    def __init__(self, client: redis.Redis, org_id: int) -> None:
        self.client = client
        self.org_id = org_id

    def load(self, account: str) -> dict[str, Any] | None:
        try:
            raw = self.client.get(bank_feed_cache_key(self.org_id, account))
        except (redis.RedisError, OSError) as exc:
            log.warning("Bank-feed cache unreadable for org %s: %s", self.org_id, exc)
            return None
        if not raw:
            return None
        try:
            state = json.loads(raw)
        except ValueError:
            return None
        return state if isinstance(state, dict) else None

    def save(self, account: str, state: dict[str, Any]) -> None:
        try:
            self.client.set(
                bank_feed_cache_key(self.org_id, account), json.dumps(state), ex=CACHE_SECONDS
            )
        except (redis.RedisError, OSError) as exc:
            log.warning("Bank-feed cache not saved for org %s: %s", self.org_id, exc)
