"""``flask doctor`` (plugin/cli/doctor.py): all OK on a good configuration; a Redis that does not
answer, a schema behind, a drifting clock, missing credentials and a mail server that refuses
each named in plain words with exit status 1."""

from __future__ import annotations

import re
import socket
import threading
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email.utils import format_datetime

import pytest
import requests
from sqlalchemy import text

from plugin.cli.doctor import _redirect_problem
from plugin.db import get_engine
from plugin.db import schema_revisions

IDENTITY = "https://identity.xero.test"
DISCOVERY = IDENTITY + "/.well-known/openid-configuration"


@pytest.fixture
def app_config(app_config):
    app_config.update(
        XERO_CLIENT_ID="xero-id",
        XERO_CLIENT_SECRET="xero-secret",
        XERO_WEBHOOK_KEY="hook-key",
        XERO_IDENTITY_URL=IDENTITY,
        AMAZON_CLIENT_ID="amzn1.application-oa2-client.x",
        AMAZON_CLIENT_SECRET="amazon-secret",
        AMAZON_APPLICATION_ID="amzn1.sp.solution.x",
    )
    return app_config


def xero_clock(http, offset: timedelta = timedelta(0)) -> None:
    date = format_datetime(datetime.now(UTC) + offset, usegmt=True)
    http.get(DISCOVERY, json={"issuer": IDENTITY}, headers={"Date": date})


def doctor(app):
    return app.test_cli_runner().invoke(args=["doctor"])


def test_all_ok_on_a_good_configuration(app, http):
    xero_clock(http)
    result = doctor(app)
    assert result.exit_code == 0, result.output
    assert "PROBLEM" not in result.output
    for check in ("settings", "database", "schema", "redis", "xero credentials", "clock", "mail"):
        assert f"OK       {check}:" in result.output
    assert "register this redirect URL: http://localhost/xero/callback" in result.output
    assert result.output.rstrip().endswith("All good.")


def test_a_redis_that_does_not_answer_is_a_problem(app_config, make_app, http):
    xero_clock(http)
    app_config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    result = doctor(make_app(app_config))
    assert result.exit_code == 1
    assert (
        "PROBLEM  redis: redis://127.0.0.1:1/0 does not answer (ConnectionError)" in result.output
    )
    assert "check REDIS_URL" in result.output
    assert "1 problem found." in result.output


def test_a_schema_behind_names_the_command_that_fixes_it(app, http):
    xero_clock(http)
    engine = get_engine(app)
    _, (head,) = schema_revisions(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0009'"))
    try:
        result = doctor(app)
    finally:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    assert result.exit_code == 1
    assert (
        f"PROBLEM  schema: the database is at 0009, the code needs {head}: "
        "run flask --app wsgi db-upgrade"
    ) in result.output


def test_a_clock_off_by_minutes_is_a_problem_and_offline_is_skipped(app, http):
    xero_clock(http, offset=timedelta(minutes=-5))
    result = doctor(app)
    assert result.exit_code == 1
    # Date has whole seconds: 300 or 301 s
    assert re.search(
        r"PROBLEM  clock: this machine's clock is 30[01] s ahead of Xero's", result.output
    )
    assert "turn on time synchronisation" in result.output
    http.get(DISCOVERY, body=requests.ConnectionError("offline"))
    result = doctor(app)
    assert result.exit_code == 0, result.output
    assert "SKIPPED  clock: not checked" in result.output


def test_missing_credentials_are_named(app_config, make_app, http):
    xero_clock(http)
    for name in ("XERO_CLIENT_SECRET", "XERO_WEBHOOK_KEY", "AMAZON_APPLICATION_ID"):
        app_config[name] = ""
    result = doctor(make_app(app_config))
    assert result.exit_code == 1
    assert "PROBLEM  xero credentials: XERO_CLIENT_SECRET not set" in result.output
    assert "PROBLEM  xero webhooks: XERO_WEBHOOK_KEY is not set" in result.output
    assert "PROBLEM  amazon credentials: AMAZON_APPLICATION_ID not set" in result.output
    assert "3 problems found." in result.output


def test_production_redirects_must_be_https():
    finding = _redirect_problem({"APP_ENV": "production"}, "http://app.example/x", "xero redirect")
    assert finding.ok is False
    assert "not https: set PUBLIC_URL" in finding.detail
    assert _redirect_problem({"APP_ENV": "production"}, "https://app.example/x", "x").ok
    assert _redirect_problem({"APP_ENV": "production"}, "http://localhost/x", "x").ok


class TinySmtpServer:
    """Answers the greeting, EHLO and QUIT on a local port (enough for the doctor's check)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn, conn.makefile("rb") as lines:
            conn.sendall(b"220 tiny.test ESMTP\r\n")
            for line in lines:
                verb = line.split(b" ")[0].strip().upper()
                if verb == b"EHLO":
                    conn.sendall(b"250-tiny.test greets you\r\n250 8BITMIME\r\n")
                elif verb == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                else:
                    conn.sendall(b"502 no\r\n")


def test_the_smtp_server_is_greeted_or_its_refusal_explained(app_config, make_app, http):
    xero_clock(http)
    server = TinySmtpServer()
    app_config["SMTP_URL"] = f"smtp://127.0.0.1:{server.port}"
    result = doctor(make_app(app_config))
    assert "OK       mail: SMTP server 127.0.0.1 answers (tiny.test greets you)" in result.output
    server.sock.close()
    app_config["SMTP_URL"] = f"smtp://127.0.0.1:{server.port}"
    xero_clock(http)
    result = doctor(make_app(app_config))
    assert result.exit_code == 1
    assert "PROBLEM  mail: the SMTP server 127.0.0.1 did not accept us (ConnectionRefusedError" in (
        result.output
    )
