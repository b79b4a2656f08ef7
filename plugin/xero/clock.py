"""How far this machine's clock is from Xero's (the ``Date`` header of Xero's identity server's
discovery document): OAuth tokens and webhook checks go wrong when it drifts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from email.utils import parsedate_to_datetime

import requests

DISCOVERY_PATH = "/.well-known/openid-configuration"


class ClockUnknown(RuntimeError):
    """Xero's clock could not be read (no answer, or no usable ``Date`` header)."""


def clock_skew_seconds(
    identity_url: str,
    http: requests.Session | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    timeout: float = 5.0,
) -> float:
    """Our clock minus Xero's, in seconds (positive: ours is ahead); ``Date`` has one-second
    resolution, so anything under two seconds is noise."""
    http = http or requests.Session()
    url = identity_url.rstrip("/") + DISCOVERY_PATH
    try:
        response = http.get(url, timeout=timeout)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise ClockUnknown(f"{url} did not answer ({type(exc).__name__})") from exc
    header = response.headers.get("Date")
    if not header:
        raise ClockUnknown(f"{url} sent no Date header")
    try:
        theirs = parsedate_to_datetime(header)
    except (TypeError, ValueError) as exc:
        raise ClockUnknown(f"{url} sent an unreadable Date header: {header!r}") from exc
    return (now() - theirs).total_seconds()
