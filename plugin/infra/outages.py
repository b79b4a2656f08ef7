"""Xero or Amazon Business not answering while a page is built: what to tell the user.

Pages show these inline with a retry button instead of an error page; nothing here is ever a
traceback or an upstream message with tokens in it (only our own sentences).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from plugin.amazon.errors import AmazonError
from plugin.mapping.json_files import InputFileError
from plugin.models import utcnow
from plugin.xero.errors import XeroConnectionRevoked
from plugin.xero.errors import XeroError
from plugin.xero.errors import XeroNeedsReconnect
from plugin.xero.errors import XeroRateLimited

OUTAGES = (XeroError, AmazonError, InputFileError)
"""The exceptions a page catches and explains with ``explain``."""


@dataclass(frozen=True)
class Outage:
    """A friendly explanation: a title and what to do."""

    title: str
    message: str
    retry: bool = True


def explain(error: Exception, now: datetime | None = None) -> Outage:
    """Return the explanation for an error raised while talking to Xero or Amazon."""
    if isinstance(error, XeroRateLimited):
        at = (now or utcnow()) + timedelta(seconds=max(error.retry_after, 1))
        return Outage(
            "Xero is busy",
            f"Xero asked us to slow down; try again at {at:%H:%M} (UTC).",
        )
    if isinstance(error, XeroNeedsReconnect | XeroConnectionRevoked):
        return Outage(
            "Xero needs to be connected again",
            "This organisation's connection to Xero no longer works. Sign in with Xero again "
            "to reconnect it; nothing is lost.",
            retry=False,
        )
    if isinstance(error, XeroError):
        return Outage(
            "Xero is not answering",
            "We could not read the chart of accounts from Xero just now. Nothing was changed; "
            "try again in a minute.",
        )
    if isinstance(error, AmazonError):
        return Outage(
            "Amazon Business is not answering",
            "We could not reach Amazon Business just now. Nothing was changed; try again in a "
            "minute.",
        )
    return Outage(
        "Xero sent something we cannot read",
        "The chart of accounts Xero sent could not be read. Try again in a minute; if it "
        "keeps happening, contact support.",
    )
