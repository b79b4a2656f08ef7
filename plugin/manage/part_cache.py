"""Rendered parts of Manage Integrations kept in Redis (issue 17 point 2), so that a page or a
poll of a part whose data did not change costs a Redis read instead of its queries and its
rendering, however large the ledger.

A part is kept under its organisation's id, the part's name and a digest of its *version*:
everything it shows that can change, as the caller reads it cheaply per request (the part's
change-signal fingerprint, ``plugin.manage.change_signal``, which follows every ledger write
through ``ledger_count``; the organisation's row; the query string; whatever the caller read
from Redis). A write makes a new version, so nothing is ever invalidated by hand: the old entry
is simply never asked for again and lapses after ``TTL_SECONDS`` (also the bound on anything a
version might miss). The version is read before the part is computed, so a write committed in
between makes the kept part newer than its version says, never older.

What is per person is never kept: the CSRF token is rendered as ``CSRF_PLACEHOLDER`` and put in
per request, and a request with flashed messages waiting renders live (they are shown once, in
the part). Without Redis the part is rendered live every time. Either way the templates'
indentation is left out (``compact``: the Manage page weighs a tenth less).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable

import redis
from flask import Flask
from flask import session
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from plugin.infra.keys import part_cache_key
from plugin.infra.queues import get_redis

REDIS_ERRORS = (redis.RedisError, OSError)
TTL_SECONDS = 60
CSRF_PLACEHOLDER = "<abx-csrf-token>"
"""Markup no text of the page can produce (autoescaping writes ``&lt;`` for a ``<`` in data)."""

Render = Callable[[Callable[[], str]], str]
"""Renders the part with the given ``csrf_token`` function."""


def version_of(*values: object) -> str:
    """The digest of what a part shows (``repr`` of the values)."""
    return hashlib.blake2b(repr(values).encode(), digest_size=16).hexdigest()


_INDENT = re.compile(r"\n[ \t]*(?:\n[ \t]*)*")


def compact(html: str) -> str:
    """The HTML without its templates' indentation and blank lines (a line break stays, so the
    page reads the same: the browser collapses white space anyway); left as it is when it holds
    a ``<pre>`` or ``<textarea>``, whose white space is shown."""
    if "<pre" in html or "<textarea" in html:
        return html
    return _INDENT.sub("\n", html)


def _placeholder() -> str:
    return Markup(CSRF_PLACEHOLDER)  # noqa: S704 - a constant of ours


def part_html(
    app: Flask, org_id: int, part: str, version: str | None, render: Render, fill: bool = True
) -> str:
    """The part as ``render`` makes it at ``version``: from Redis when kept, else rendered
    (and kept); rendered live when ``version`` is None. ``fill=False`` leaves the CSRF
    placeholder in (for a part inside a kept page, which fills them all)."""
    if session.get("_flashes") or version is None:
        return compact(render(generate_csrf))
    key = part_cache_key(org_id, part, version)
    try:
        connection = get_redis(app)
        kept = connection.get(key)
    except REDIS_ERRORS:
        return compact(render(generate_csrf))
    if isinstance(kept, bytes):
        html = kept.decode()
    else:
        html = compact(render(_placeholder))
        with contextlib.suppress(*REDIS_ERRORS):
            connection.set(key, html, ex=TTL_SECONDS)
    if fill and CSRF_PLACEHOLDER in html:
        return html.replace(CSRF_PLACEHOLDER, generate_csrf())
    return html
