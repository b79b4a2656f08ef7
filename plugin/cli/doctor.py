"""``flask doctor``: the configuration checked end to end, each problem said in plain words with
its fix, exit status 1 when there is any.

Checks: the settings' own rules (``settings_problems``), the database and its schema, Redis, the
Xero and Amazon credentials and the redirect URLs to register, the clock against Xero's, and the
mail server (``SMTP_URL``: connect and EHLO; else the outbox folder is writable).
"""

from __future__ import annotations

import smtplib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import click
from flask import Flask
from flask import current_app
from flask.cli import with_appcontext

from plugin import db
from plugin.amazon.settings import AmazonSettings
from plugin.config import is_production
from plugin.config import settings_problems
from plugin.infra.queues import get_redis
from plugin.infra.queues import redis_ok
from plugin.infra.redis_server import redact_url
from plugin.notify.mail import smtp_answers
from plugin.notify.outbox import outbox_dir
from plugin.xero.clock import ClockUnknown
from plugin.xero.clock import clock_skew_seconds

__all__ = ["Finding", "doctor", "run_checks"]

MAX_CLOCK_SKEW_SECONDS = 30
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class Finding:
    """One check's verdict: ``ok`` True, False (a problem) or None (skipped)."""

    check: str
    ok: bool | None
    detail: str

    def line(self) -> str:
        label = {True: "OK", False: "PROBLEM", None: "SKIPPED"}[self.ok]
        return f"{label:8} {self.check}: {self.detail}"


def check_settings(app: Flask) -> list[Finding]:
    problems = settings_problems(app.config)
    if not problems:
        return [Finding("settings", True, "no unsafe combination")]
    return [Finding("settings", False, problem) for problem in problems]


def check_database(app: Flask) -> list[Finding]:
    engine = db.get_engine(app)
    where = engine.url.render_as_string(hide_password=True)
    answers, why = db.database_ok(engine)
    if not answers:
        return [Finding("database", False, f"{where} does not answer ({why}): check DATABASE_URL.")]
    current, expected = db.schema_revisions(engine)
    found = [Finding("database", True, f"{where} answers")]
    if current != expected:
        at = ", ".join(sorted(current)) or "empty"
        needs = ", ".join(sorted(expected))
        found.append(
            Finding(
                "schema",
                False,
                f"the database is at {at}, the code needs {needs}: run flask --app wsgi db-upgrade",
            )
        )
    else:
        found.append(Finding("schema", True, f"at {', '.join(sorted(current))}"))
    return found


def check_redis(app: Flask) -> list[Finding]:
    where = redact_url(str(app.config.get("REDIS_URL") or ""))
    answers, why = redis_ok(get_redis(app))
    if answers:
        return [Finding("redis", True, f"{where} answers")]
    return [Finding("redis", False, f"{where} does not answer ({why}): check REDIS_URL.")]


def _redirect_problem(config: Any, url: str, register_where: str) -> Finding:
    host = urlsplit(url).hostname or ""
    if is_production(config) and not url.startswith("https://") and host not in LOCAL_HOSTS:
        return Finding(
            register_where,
            False,
            f"the redirect URL {url} is not https: set PUBLIC_URL to the https:// address "
            "users reach (the providers refuse http redirects except to localhost).",
        )
    return Finding(register_where, True, f"register this redirect URL: {url}")


def _missing(config: Any, names: tuple[str, ...]) -> list[str]:
    return [name for name in names if not str(config.get(name) or "").strip()]


def check_xero(app: Flask) -> list[Finding]:
    config = app.config
    missing = _missing(config, ("XERO_CLIENT_ID", "XERO_CLIENT_SECRET"))
    found = [
        Finding(
            "xero credentials",
            not missing,
            f"{' and '.join(missing)} not set: copy them from the app in Xero's developer portal."
            if missing
            else "client id and secret set",
        )
    ]
    if not str(config.get("XERO_WEBHOOK_KEY") or ""):
        found.append(
            Finding(
                "xero webhooks",
                False,
                "XERO_WEBHOOK_KEY is not set: every Xero webhook will be refused (copy the key "
                "from the app's Webhooks page).",
            )
        )
    redirect = str(config.get("PUBLIC_URL") or "").rstrip("/") + "/xero/callback"
    found.append(_redirect_problem(config, redirect, "xero redirect"))
    return found


def check_amazon(app: Flask) -> list[Finding]:
    names = ("AMAZON_CLIENT_ID", "AMAZON_CLIENT_SECRET", "AMAZON_APPLICATION_ID")
    missing = _missing(app.config, names)
    found = [
        Finding(
            "amazon credentials",
            not missing,
            f"{', '.join(missing)} not set: copy them from the app in Amazon's Solution "
            "Provider Portal."
            if missing
            else "LWA client id, secret and application id set",
        )
    ]
    redirect = AmazonSettings.from_config(app.config).redirect_uri
    found.append(_redirect_problem(app.config, redirect, "amazon redirect"))
    return found


def check_clock(app: Flask) -> list[Finding]:
    identity = str(app.config.get("XERO_IDENTITY_URL") or "")
    try:
        skew = clock_skew_seconds(identity)
    except ClockUnknown as exc:
        return [Finding("clock", None, f"not checked: {exc} (offline?)")]
    if abs(skew) > MAX_CLOCK_SKEW_SECONDS:
        side = "ahead of" if skew > 0 else "behind"
        return [
            Finding(
                "clock",
                False,
                f"this machine's clock is {abs(skew):.0f} s {side} Xero's: turn on time "
                "synchronisation (NTP, e.g. systemd-timesyncd or chrony).",
            )
        ]
    return [Finding("clock", True, f"within {abs(skew):.0f} s of Xero's")]


def check_mail(app: Flask) -> list[Finding]:
    url = str(app.config.get("SMTP_URL") or "")
    if url:
        where = urlsplit(url).hostname or "localhost"
        try:
            name = smtp_answers(url)
        except (ValueError, OSError, smtplib.SMTPException) as exc:
            return [
                Finding(
                    "mail",
                    False,
                    f"the SMTP server {where} did not accept us ({type(exc).__name__}: "
                    f"{str(exc)[:120]}): check SMTP_URL (host, port, user and password).",
                )
            ]
        return [Finding("mail", True, f"SMTP server {where} answers ({name})")]
    folder = outbox_dir(app)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return [Finding("mail", False, f"the outbox {folder} is not writable ({exc.strerror}).")]
    if is_production(app.config):
        return [
            Finding(
                "mail",
                False,
                f"no SMTP_URL in production: e-mail is only written to {folder}, nobody gets "
                "it. Set SMTP_URL=smtp://user:password@host:587.",
            )
        ]
    return [Finding("mail", True, f"no SMTP_URL: mail is written to {folder}")]


CHECKS: tuple[Callable[[Flask], list[Finding]], ...] = (
    check_settings,
    check_database,
    check_redis,
    check_xero,
    check_amazon,
    check_clock,
    check_mail,
)


def run_checks(app: Flask) -> list[Finding]:
    """Every check's findings, in order."""
    return [finding for check in CHECKS for finding in check(app)]


@click.command("doctor")
@with_appcontext
def doctor() -> None:
    """Check the configuration end to end and say what is wrong, in plain words."""
    findings = run_checks(current_app._get_current_object())  # type: ignore[attr-defined]
    for finding in findings:
        click.echo(finding.line())
    problems = sum(1 for finding in findings if finding.ok is False)
    if problems:
        click.echo(f"{problems} problem{'s' if problems > 1 else ''} found.")
        raise SystemExit(1)
    click.echo("All good.")
