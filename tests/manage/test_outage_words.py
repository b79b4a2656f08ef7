"""The status names each kind of Xero outage, with what happens next (issue 15 point 5)."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

import pytest

from plugin.manage.outage_words import pause_notice
from plugin.xero.errors import XeroConnectionLost
from plugin.xero.errors import XeroConnectionRevoked
from plugin.xero.errors import XeroError
from plugin.xero.errors import XeroMalformedResponse
from plugin.xero.errors import XeroNeedsReconnect
from plugin.xero.errors import XeroRateLimited
from plugin.xero.errors import XeroServerError
from plugin.xero.errors import XeroUnavailable
from plugin.xero.errors import pause_kind

AT = datetime(2026, 12, 3, 14, 37, tzinfo=UTC)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (XeroRateLimited(60, "minute"), "rate_limited"),
        (XeroServerError("Xero failed with HTTP 500", 500), "failing"),
        (XeroServerError("Xero failed with HTTP 502", 502), "failing"),
        (XeroMalformedResponse("Xero returned no organisation"), "failing"),
        (XeroUnavailable("Xero is unavailable", 503), "unavailable"),
        (XeroConnectionLost("read timed out", timed_out=True), "unreachable"),
        (XeroConnectionLost("connection refused"), "unreachable"),
        (XeroNeedsReconnect("invalid_grant", 401), "revoked"),
        (XeroConnectionRevoked("AuthenticationUnsuccessful", 403), "revoked"),
        (XeroError("Xero answered HTTP 403", 403), "revoked"),
    ],
)
def test_each_error_is_its_kind_of_outage(error, kind):
    assert pause_kind(error) == kind


@pytest.mark.parametrize(
    ("kind", "status", "headline"),
    [
        ("rate_limited", 429, "Xero asked us to slow down; posting resumes at 14:37 UTC."),
        (
            "failing",
            500,
            "Xero is failing (HTTP 500) — we retry every minute; next try at 14:37 UTC.",
        ),
        ("failing", None, "Xero is failing (an answer we could not read) — we retry every minute"),
        ("unavailable", 503, "Xero is unavailable (maintenance or the organisation is offline)"),
        ("unreachable", None, "Xero cannot be reached — we retry every minute; next try at 14:37"),
        ("revoked", 403, "Access to Xero was revoked: reconnect."),
    ],
)
def test_each_kind_says_what_happened_and_when_it_resumes(kind, status, headline):
    notice = pause_notice(kind, status, AT)
    assert notice.headline.startswith(headline)
    assert notice.next_step
    assert notice.bad is (kind == "revoked")
    if kind != "rate_limited":
        assert "slow down" not in notice.headline
