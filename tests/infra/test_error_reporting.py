"""plugin/infra/error_reporting.py: Sentry only when SENTRY_DSN is set, and what it is sent holds
no token, cookie, Authorization header or e-mail address."""

from __future__ import annotations

import json

import pytest
import sentry_sdk
from sentry_sdk.transport import Transport

from plugin.infra import error_reporting

TOKEN = "eyJraWQiOi.access-token-value"
# Built at run time: the event's source context shows the test's own lines, and the check is
# that the values sent at run time (headers, cookies, the message) are gone.
COOKIE, CODE, AMZ, EMAIL = (
    "-".join(("cookie", "secret")),
    "-".join(("auth", "code")),
    "|".join(("Atza", "IwEB-2")),
    "@".join(("carol", "example.com")),
)


class CapturingTransport(Transport):
    """Keeps the events sentry-sdk would send."""

    def __init__(self, options=None):
        super().__init__(options)
        self.events: list[dict] = []

    def capture_envelope(self, envelope):
        event = envelope.get_event()
        if event is not None:
            self.events.append(event)


@pytest.fixture
def no_sentry_afterwards():
    yield
    sentry_sdk.init()  # no DSN: the client is inactive again for the other tests


def test_no_dsn_no_reporting(app):
    assert error_reporting.sentry_options(app.config) is None
    assert error_reporting.init_app(app) is False
    assert not sentry_sdk.get_client().is_active()


def test_the_scrubber_takes_out_tokens_headers_cookies_and_people():
    event = {
        "user": {"email": "alice@example.com", "ip_address": "203.0.113.5"},
        "request": {
            "url": "https://app.example/xero/callback?code=abc123&state=st-9",
            "headers": {
                "Authorization": f"Bearer {TOKEN}",
                "Cookie": "session=s1",
                "Accept": "*/*",
            },
            "cookies": {"session": "s1"},
        },
        "exception": {
            "values": [{"type": "XeroError", "value": f"401 for Bearer {TOKEN} of bob@example.org"}]
        },
        "extra": {"body": '{"refresh_token": "rt-secret", "amount": 12}'},
        "breadcrumbs": {"values": [{"message": "sent x-amz-access-token=Atza|IwEB-secret"}]},
    }
    scrubbed = error_reporting.scrub_event(event, None)
    text = json.dumps(scrubbed)
    for secret in (
        TOKEN,
        "alice@example.com",
        "bob@example.org",
        "abc123",
        "st-9",
        "s1",
        "rt-secret",
        "IwEB-secret",
        "203.0.113.5",
    ):
        assert secret not in text
    assert "user" not in scrubbed
    assert scrubbed["request"]["headers"]["Authorization"] == "[Filtered]"
    assert scrubbed["request"]["headers"]["Accept"] == "*/*"
    assert "401 for Bearer [redacted] of [email]" in text


def test_a_failing_page_is_reported_scrubbed(app_config, make_app, no_sentry_afterwards):
    app = make_app(app_config)
    app.config["SENTRY_DSN"] = "https://public@sentry.example.invalid/1"
    transport = CapturingTransport()
    assert error_reporting.init_app(app, transport=transport) is True

    @app.get("/boom")
    def boom():
        raise RuntimeError("Xero said no to Bearer " + TOKEN.upper() + " for " + EMAIL)

    client = app.test_client()
    client.set_cookie("session", COOKIE)
    response = client.get(
        "/boom?code=" + CODE,
        headers={"Authorization": "Bearer " + TOKEN.upper(), "X-Amz-Access-Token": AMZ},
    )
    assert response.status_code == 500
    sentry_sdk.flush()
    assert len(transport.events) == 1
    event = transport.events[0]
    text = json.dumps(event)
    assert "RuntimeError" in text
    for secret in (TOKEN.upper(), EMAIL, COOKIE, CODE, AMZ):
        assert secret not in text
    assert event["environment"] == "development"


def job_that_fails(org_id: int) -> None:
    """A job whose error message carries a token."""
    raise RuntimeError("Amazon refused x-amz-access-token=" + "Atza|" + "-".join(("JOB", "SECRET")))


def test_a_failing_job_is_reported_scrubbed(app, no_sentry_afterwards):
    from rq import SimpleWorker

    from plugin.infra.queues import get_queue
    from plugin.infra.queues import get_redis

    app.config["SENTRY_DSN"] = "https://public@sentry.example.invalid/1"
    transport = CapturingTransport()
    assert error_reporting.init_app(app, transport=transport) is True
    with app.app_context():
        job = get_queue("high").enqueue_call(
            "tests.infra.test_error_reporting.job_that_fails", args=(5,)
        )
        SimpleWorker([get_queue("high")], connection=get_redis()).work(burst=True)
    sentry_sdk.flush()
    [event] = [e for e in transport.events if "RuntimeError" in json.dumps(e)]
    text = json.dumps(event)
    assert job.id in text  # the RQ integration names the job
    assert "JOB-SECRET" not in text
