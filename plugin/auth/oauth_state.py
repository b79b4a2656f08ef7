"""OAuth ``state`` values: random, bound to the browser session, short-lived and single-use.

``issue(kind, **data)`` before redirecting to Xero or Amazon; ``consume(kind, state)`` on the
callback returns the data stored with it, or raises ``StateError`` saying what was wrong
(missing, unknown to this browser, expired, already used, or issued for another flow).
Single use is enforced in Redis too, so a replayed callback fails even with a copied cookie.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from flask import session

from plugin.infra.keys import oauth_used_key
from plugin.infra.queues import get_redis

SESSION_KEY = "oauth_states"
MAX_AGE_SECONDS = 15 * 60
MAX_PENDING = 10


class StateError(Exception):
    """The callback's ``state`` cannot be trusted; the message is fit to show the user."""


def issue(kind: str, **data: Any) -> str:
    """A fresh state for a flow of ``kind`` ("xero", "amazon"), remembered in the session."""
    state = secrets.token_urlsafe(32)
    pending: dict[str, Any] = dict(session.get(SESSION_KEY) or {})
    now = time.time()
    pending = {k: v for k, v in pending.items() if now - v.get("at", 0) < MAX_AGE_SECONDS}
    while len(pending) >= MAX_PENDING:
        pending.pop(min(pending, key=lambda k: pending[k].get("at", 0)))
    pending[state] = {"kind": kind, "at": now, "data": data}
    session[SESSION_KEY] = pending
    return state


def consume(kind: str, state: str | None) -> dict[str, Any]:
    """The data stored with ``state``; raises StateError when it is not valid for this browser."""
    if not state:
        raise StateError("The sign-in response had no state parameter, so it cannot be trusted.")
    pending: dict[str, Any] = dict(session.get(SESSION_KEY) or {})
    entry = pending.pop(state, None)
    session[SESSION_KEY] = pending
    if entry is None:
        raise StateError(
            "This sign-in response was not started from this browser, or was already used."
        )
    if entry.get("kind") != kind:
        raise StateError("This sign-in response belongs to a different connection flow.")
    if time.time() - float(entry.get("at", 0)) > MAX_AGE_SECONDS:
        raise StateError("This sign-in attempt took too long and has expired.")
    if not get_redis().set(oauth_used_key(state), "1", nx=True, ex=MAX_AGE_SECONDS * 2):
        raise StateError("This sign-in response was already used.")
    return dict(entry.get("data") or {})
