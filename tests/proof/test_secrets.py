"""Bad input 9: secrets never appear in plain text in the logs, the HTML or the database.

A full end-to-end run against the sandbox (sign up with Xero, connect Amazon Business, import and
post with a real worker, a forced token refresh so rotated tokens exist too), everything logged at
DEBUG (the app in this process, the worker's stderr). Then every secret that exists — our Xero
access, refresh and id tokens (current and rotated), the Amazon tokens, the client secrets, the
encryption and session keys — is searched for in: every log line, every page and fragment a
member can GET (the URL map again, so new pages are covered), and every cell of every table.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from plugin.auth.token_store import read_amazon_access_token
from plugin.auth.token_store import read_amazon_refresh_token
from plugin.auth.token_store import read_xero_token
from plugin.db import get_engine
from plugin.db import session_scope
from plugin.models import AmazonConnection
from plugin.models import ImportTrigger
from plugin.models import Organisation
from plugin.models import metadata
from plugin.models import utcnow
from plugin.security import token_cipher
from plugin.xero.wiring import xero_client
from tests.common.e2e import SANDBOX_DEFAULTS
from tests.common.pipeline import import_days
from tests.common.processes import ROOT
from tests.proof.scenario import build_scenario
from tests.proof.scenario import e2e_scenario  # noqa: F401 (fixture)
from tests.proof.scenario import say
from tests.proof.scenario import wait_until

MIN_SECRET = 12  # shorter values (e.g. empty or placeholder) are not secrets


def our_tokens(app, org_id) -> set[str]:
    """The plaintext tokens we hold right now (decrypted from the database)."""
    cipher = token_cipher(app)
    found: set[str] = set()
    with session_scope(app) as db:
        org = db.get(Organisation, org_id)
        token = read_xero_token(cipher, org) or {}
        found |= {str(token.get(k, "")) for k in ("access_token", "refresh_token", "id_token")}
        for connection in db.exec(select(AmazonConnection)):
            found.add(read_amazon_refresh_token(cipher, connection) or "")
            found.add(read_amazon_access_token(cipher, connection) or "")
    return found


def sandbox_tokens(scenario) -> set[str]:
    """Every refresh and access token the sandbox's Xero and Amazon have handed out."""
    worlds = scenario.sandbox.sandbox.worlds
    found = {t.refresh_token for t in worlds["xero"].token_sets.values()}
    found |= set(worlds["xero"].refresh_index)
    found |= set(worlds["amazon"].auth.by_refresh_token)
    found |= set(worlds["amazon"].auth.access_tokens)
    return found


@pytest.mark.usefixtures("e2e_scenario")
def test_no_secret_in_logs_html_or_database(app_config, make_app, monkeypatch, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    scenario = build_scenario(
        app_config, make_app, monkeypatch, 150, app_settings={"LOG_LEVEL": "DEBUG"}
    )
    app, org = scenario.app, scenario.org
    secrets = our_tokens(app, org.id)
    worker_log = tmp_path / "worker.log"
    try:
        scenario.extra_env["LOG_LEVEL"] = "DEBUG"
        with worker_log.open("w") as sink:
            worker = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--name", "secrets"],
                cwd=ROOT,
                env=scenario.worker_env(),
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            scenario.workers.append(worker)
            import_days(app, org, days=90, trigger=ImportTrigger.SCHEDULED)
            wait_until(scenario.settled, 180, "import and posting", 0.5, scenario.describe)
        # A refresh in this process too, so rotated tokens pass through our code and logs.
        scenario.control("clock", {"advance_seconds": 31 * 60})
        with session_scope(app) as db:
            stored = db.get(Organisation, org.id)
            stored.xero_token_expires_at = utcnow() - timedelta(seconds=1)
            db.add(stored)
            db.commit()
            xero_client(stored, app).organisation()
        secrets |= our_tokens(app, org.id) | sandbox_tokens(scenario)
        pages = {}
        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or set()) or rule.endpoint == "static":
                continue
            arguments = {name: org.id if name == "org_id" else 1 for name in rule.arguments}
            if rule.arguments - {"org_id"}:
                continue  # pages of one object: covered by the list pages
            url = rule.build(arguments)[1]
            pages[url] = scenario.client.get(url).get_data(as_text=True)
            pages[url + " (htmx)"] = scenario.client.get(
                url, headers={"HX-Request": "true"}
            ).get_data(as_text=True)
    finally:
        scenario.stop_workers()
        scenario.sandbox.stop()
    secrets |= {
        str(app.config[k])
        for k in (
            "SECRET_KEY",
            "TOKEN_ENCRYPTION_KEY",
            "XERO_CLIENT_SECRET",
            "AMAZON_CLIENT_SECRET",
        )
    }
    secrets |= {SANDBOX_DEFAULTS["XERO_CLIENT_SECRET"], SANDBOX_DEFAULTS["AMAZON_CLIENT_SECRET"]}
    secrets = {s for s in secrets if len(s) >= MIN_SECRET}
    assert len(secrets) >= 8, "the run should have produced tokens to look for"

    # The sandbox's own access log (werkzeug, serving "Xero" and "Amazon") is not ours.
    logs = [r.getMessage() for r in caplog.records if r.name != "werkzeug"]
    logs += worker_log.read_text().splitlines()
    rows = []
    with get_engine(app).connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(text(f'SELECT * FROM "{table.name}"')):
                rows.append(f"{table.name}: {tuple(row)!r}")
    leaks = {
        "logs": [line for line in logs if any(s in line for s in secrets)],
        "html": [url for url, body in pages.items() if any(s in body for s in secrets)],
        "database": [row[:120] for row in rows if any(s in row for s in secrets)],
    }
    line = (
        f"VERDICT secrets: secrets={len(secrets)} log_lines={len(logs)} pages={len(pages)} "
        f"db_rows={len(rows)} leaks_in_logs={len(leaks['logs'])} "
        f"leaks_in_html={len(leaks['html'])} leaks_in_db={len(leaks['database'])}"
    )
    say(line)
    assert len(logs) > 50
    assert len(pages) >= 5
    assert leaks == {"logs": [], "html": [], "database": []}, (line, leaks)
