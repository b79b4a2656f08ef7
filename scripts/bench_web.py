"""Benchmark: web latency under concurrent users, with a large ledger in one organisation.

Seeds ``--entries`` ledger entries (default 100,000; bulk insert, realistic Amazon payloads
from the sandbox's generator, mostly posted, some held, failed and waiting) in one
organisation with a signed-in member, starts ``gunicorn wsgi:app`` (the Procfile's web line:
``--workers 2 --preload``) on a free localhost port, and runs ``wrk`` for ``--duration``
seconds with ``--connections`` concurrent connections on each URL of ``URLS`` in turn (HTMX
fragments with ``HX-Request: true``). Prints requests per second, p50 / p95 / p99 latency per
URL, and the ratio of Manage Integrations' p95 to ``/healthz``'s p95 in the same run.

The session cookie is minted with the app's own session interface for one user agent; wrk
sends that user agent, since flask-login's strong session protection binds the session to it.
Needs ``wrk`` (Debian: ``apt-get install wrk``).

Usage: ``python scripts/bench_web.py [--entries 100000] [--duration 20] [--connections 8]
[--database-url URL] [--redis-url redis://127.0.0.1:6379/3]``
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
from benchlib import DEFAULT_REDIS_URL
from benchlib import ROOT
from benchlib import Stack
from benchlib import figure
from benchlib import free_port
from benchlib import make_stack
from benchlib import say
from benchlib import stop_process
from benchlib import venv_bin
from benchlib import wait_http

# (name, path with {org}, sent as an HTMX request). The one list of what is measured.
URLS: tuple[tuple[str, str, bool], ...] = (
    ("healthz", "/healthz", False),
    ("home", "/", False),
    ("manage", "/orgs/{org}/manage", False),
    ("manage/status", "/orgs/{org}/manage/status", True),
    ("manage/entries", "/orgs/{org}/manage/entries", True),
    ("manage/entries?state=posted", "/orgs/{org}/manage/entries?state=posted", True),
    ("manage/entries?state=held", "/orgs/{org}/manage/entries?state=held", True),
    ("manage/import", "/orgs/{org}/manage/import", True),
    ("manage/history", "/orgs/{org}/manage/history", True),
)
MANAGE = "manage"
HEALTHZ = "healthz"
USER_AGENT = "abx-bench-web/1.0"
CHUNK = 5000

WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p95_us=%d p99_us=%d non2xx3xx=%d errors=%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load per URL")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--database-url", default=None, help="default: PostgreSQL or SQLite")
    parser.add_argument("--database-name", default="abx_bench_web")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--keep", action="store_true", help="keep the instance directory")
    return parser.parse_args(argv)


# --- Seeding ---------------------------------------------------------------------------------


def seed(stack: Stack, count: int) -> tuple[int, Any]:
    """One org, one member, one Amazon store, ``count`` ledger entries; (org id, user)."""
    from sqlalchemy import insert

    from plugin.amazon.models import parse_transaction
    from plugin.db import get_engine
    from plugin.db import session_scope
    from plugin.ledger import payload_hash
    from plugin.ledger import payload_of
    from plugin.models import AmazonConnection
    from plugin.models import AuditEvent
    from plugin.models import EntryState
    from plugin.models import ImportRun
    from plugin.models import LedgerEntry
    from plugin.models import Membership
    from plugin.models import OnboardingStep
    from plugin.models import Organisation
    from plugin.models import RunState
    from plugin.models import User
    from sandbox.amazon.generator import generate_account
    from sandbox.amazon.profiles import THAMES

    now = datetime.now(UTC)
    with session_scope(stack.app) as db:
        user = User(xero_user_id="bench-user", email="bench@example.com", name="Bench User")
        org = Organisation(
            xero_tenant_id="bench-tenant",
            name="Thames Stationery Ltd",
            country="GB",
            base_currency="GBP",
            onboarding_step=OnboardingStep.DONE,
            sync_enabled=True,
            last_synced_at=now,
        )
        db.add(user)
        db.add(org)
        db.commit()
        db.add(Membership(user_id=int(user.id or 0), organisation_id=int(org.id or 0)))
        connection = AmazonConnection(
            organisation_id=int(org.id or 0), name="Thames UK", store="UK", region="EU"
        )
        db.add(connection)
        for days_ago in range(0, 90, 3):
            db.add(
                ImportRun(
                    organisation_id=int(org.id or 0),
                    trigger="scheduled",
                    range_start=now - timedelta(days=days_ago + 3),
                    range_end=now - timedelta(days=days_ago),
                    state=RunState.SUCCEEDED,
                    fetched=count // 30,
                    new=count // 30,
                    started_at=now - timedelta(days=days_ago),
                    finished_at=now - timedelta(days=days_ago),
                )
            )
            db.add(AuditEvent(organisation_id=org.id, actor="benchmark", action="import_queued"))
        db.commit()
        db.refresh(user)
        org_id, connection_id = int(org.id or 0), int(connection.id or 0)

    templates = generate_account(THAMES, seed=7, end=now, days=90, count=min(count, 2000))
    parsed = [parse_transaction(tx) for tx in templates]
    rows: list[dict[str, Any]] = []
    engine = get_engine(stack.app)
    table = LedgerEntry.__table__  # type: ignore[attr-defined]
    for number in range(count):
        template = parsed[number % len(parsed)]
        payload = payload_of(template)
        transaction_id = f"{payload.get('transactionId', 'tx')}-{number}"
        payload["transactionId"] = transaction_id
        share = number % 100
        if share < 90:
            state, reason_code, reason = EntryState.POSTED, None, None
        elif share < 95:
            state, reason_code = EntryState.HELD, "unmapped_payment_method"
            reason = "The card or instrument is not mapped."
        elif share < 98:
            state, reason_code = EntryState.FAILED, "xero_rejected"
            reason = "Xero refused this document: the account is archived."
        else:
            state, reason_code, reason = EntryState.READY, None, None
        when = now - timedelta(minutes=(count - number) * 129_600 // max(count, 1))
        first = template.line_items[0] if getattr(template, "line_items", None) else None
        amount = template.amount.amount if getattr(template, "amount", None) else Decimal(0)
        rows.append(
            {
                "organisation_id": org_id,
                "amazon_connection_id": connection_id,
                "amazon_transaction_id": transaction_id,
                "transaction_type": getattr(template, "transaction_type", "") or "",
                "transaction_date": when,
                "feed_date": when,
                "amount": amount,
                "currency": "GBP",
                "payment_method_key": getattr(template, "payment_method_key", None),
                "order_id": first.order_id if first else None,
                "invoice_number": getattr(template, "invoice_number", None),
                "raw_payload": payload,
                "payload_hash": payload_hash(payload),
                "state": state,
                "reason_code": reason_code,
                "reason": reason,
                "needs_review": False,
                "xero_document_type": "BankTransactions" if state == EntryState.POSTED else None,
                "xero_document_id": f"00000000-0000-4000-8000-{number:012d}"
                if state == EntryState.POSTED
                else None,
                "attempts": 1 if state in (EntryState.POSTED, EntryState.FAILED) else 0,
                "posted_at": when if state == EntryState.POSTED else None,
                "created_at": when,
                "updated_at": when,
            }
        )
        if len(rows) >= CHUNK:
            with engine.begin() as connection_:
                connection_.execute(insert(table), rows)
            rows = []
    if rows:
        with engine.begin() as connection_:
            connection_.execute(insert(table), rows)
    with session_scope(stack.app) as db:  # as the cron's housekeeping does every 2 minutes
        from plugin.ledger import fold_counts

        fold_counts(db)
    if engine.dialect.name == "postgresql":
        # A ledger that has been around is vacuumed (autovacuum): index-only scans work, and
        # the count rows the seeding's statements added and the fold deleted are gone.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection_:
            connection_.exec_driver_sql("VACUUM ANALYZE ledger_entry")
            connection_.exec_driver_sql("VACUUM ANALYZE ledger_count")
    return org_id, user


def session_cookie(stack: Stack, user: Any) -> tuple[str, str]:
    """(cookie name, value) of a signed-in session for ``USER_AGENT`` from 127.0.0.1."""
    from flask_login.utils import _create_identifier

    app = stack.app
    client = app.test_client()
    environ = {"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": USER_AGENT}
    client.environ_base.update(environ)
    with app.test_request_context(environ_base=environ):
        identifier = _create_identifier()
    from plugin.db import session_scope
    from plugin.models import User

    with session_scope(app) as db:  # the token as it is now (adding a membership rotates it)
        row = db.get(User, int(user.id))
        token = row.session_token if row is not None else ""
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
        session["_id"] = identifier
    name = str(app.config["SESSION_COOKIE_NAME"])
    cookie = client.get_cookie(name)
    if cookie is None:
        raise RuntimeError("no session cookie was set")
    return name, cookie.value


# --- Load ------------------------------------------------------------------------------------


def wrk(url: str, headers: dict[str, str], args: argparse.Namespace, script: Path) -> dict:
    """Run wrk on one URL; its ``BENCH`` line as numbers."""
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration:g}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run(  # noqa: S603 - wrk on a localhost URL we built
        [*command, url], capture_output=True, text=True, timeout=args.duration + 120, check=False
    )
    match = re.search(r"^BENCH (.*)$", done.stdout, re.M)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed on {url}: {done.stdout[-500:]} {done.stderr[-500:]}")
    return {k: int(v) for k, v in (pair.split("=") for pair in match.group(1).split())}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        say("wrk is not installed (Debian: apt-get install wrk)")
        return 2
    instance = Path(tempfile.mkdtemp(prefix="abx-bench-web-"))
    say(
        f"# bench_web: {args.entries} ledger entries, {args.connections} connections, "
        f"{args.duration:g} s per URL, gunicorn --workers {args.web_workers}"
    )
    stack = make_stack(
        instance,
        args.database_name,
        args.database_url,
        args.redis_url,
        {"SANDBOX_AMAZON_TRANSACTIONS": 10},
    )
    gunicorn = None
    results: dict[str, dict[str, Any]] = {}
    try:
        say(f"# database {stack.config['DATABASE_URL'].split('@')[-1]}")
        started = time.monotonic()
        org_id, user = seed(stack, args.entries)
        say(f"# seeded {args.entries} entries in {time.monotonic() - started:.0f} s")
        cookie_name, cookie_value = session_cookie(stack, user)

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = (instance / "gunicorn.log").open("ab")
        gunicorn = subprocess.Popen(  # noqa: S603 - the project's own web server from our venv
            [
                str(venv_bin() / "gunicorn"),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.web_workers),
                "--preload",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=stack.worker_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_http(f"{base}/healthz", process=gunicorn)
        headers = {"Cookie": f"{cookie_name}={cookie_value}", "User-Agent": USER_AGENT}
        script = instance / "report.lua"
        script.write_text(WRK_SCRIPT)
        for name, path, htmx in URLS:
            url = base + path.format(org=org_id)
            sent = {**headers, **({"HX-Request": "true"} if htmx else {})}
            probe = requests.get(url, headers=sent, timeout=60, allow_redirects=False)
            if probe.status_code != 200:
                say(f"# skipped {name}: HTTP {probe.status_code} (not available or not signed in)")
                continue
            if name != HEALTHZ and "Sign" in probe.text and "logout" not in probe.text.lower():
                say(f"# note: {name} may not be rendering as signed in")
            results[name] = {**wrk(url, sent, args, script), "bytes": len(probe.content)}
    finally:
        if gunicorn is not None:
            stop_process(gunicorn)
        stack.stop()
        if not args.keep:
            shutil.rmtree(instance, ignore_errors=True)

    say("")
    say(
        f"{'url':32s} {'req/s':>8s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s} "
        f"{'errors':>7s} {'bytes':>8s}"
    )
    for name, r in results.items():
        rate = r["requests"] / (r["duration_us"] / 1e6) if r["duration_us"] else 0.0
        say(
            f"{name:32s} {rate:8.1f} {r['p50_us'] / 1000:8.1f} {r['p95_us'] / 1000:8.1f} "
            f"{r['p99_us'] / 1000:8.1f} {r['non2xx3xx'] + r['errors']:7d} {r['bytes']:8d}"
        )
    for name, r in results.items():
        figure(f"p50 {name}", f"{r['p50_us'] / 1000:.1f} ms")
        figure(f"p95 {name}", f"{r['p95_us'] / 1000:.1f} ms")
    if MANAGE in results and HEALTHZ in results:
        for name, r in results.items():
            if name != HEALTHZ:
                ratio = r["p95_us"] / max(results[HEALTHZ]["p95_us"], 1)
                figure(f"ratio {name} p95 / healthz p95", f"{ratio:.2f}")
        figure("page weight manage", f"{results[MANAGE]['bytes']} B")
    else:
        figure("ratio manage p95 / healthz p95", "n/a (Manage Integrations not available)")
    errors = sum(r["non2xx3xx"] + r["errors"] for r in results.values())
    figure("errors", errors)
    say(json.dumps({"results": results}, sort_keys=True))
    ok = HEALTHZ in results and errors == 0
    say("result: " + ("OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
