"""One purchase, end to end: bought on the sandbox's Amazon, imported for its dates, posted to
the sandbox's Xero (the Thames Stationery org, with Xero's ``Timezone`` and lock date set as
its settings would have them before the app is connected)."""

from __future__ import annotations

from datetime import date
from typing import Any

import requests
from sqlmodel import select

import jobs.context
from plugin.db import session_scope
from plugin.infra.queues import get_queue
from plugin.models import ImportTrigger
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.work.imports import start_import
from sandbox.xero.xerojson import ms_date
from tests.common.e2e import amazon_connect
from tests.common.e2e import sandbox_settings
from tests.common.e2e import xero_install
from tests.common.pipeline import THAMES
from tests.common.pipeline import finish_setup
from tests.common.pipeline import sandbox_documents


def thames_tenant(live: Any) -> Any:
    """The sandbox's Thames Stationery tenant (its books, in-process)."""
    world = live.sandbox.worlds["xero"]
    return next(t for t in world.tenants.values() if t.name == THAMES)


def connected_thames(
    app_config: dict[str, Any],
    make_app: Any,
    sandbox: Any,
    monkeypatch: Any,
    timezone: str | None = None,
    lock: date | None = None,
) -> tuple[Any, Organisation]:
    """Thames with Xero's ``Timezone`` (and period lock date) set, then connected to Xero and
    to Amazon UK, mapped; (app, org). In-process jobs run on this app."""
    tenant = thames_tenant(sandbox)
    with sandbox.sandbox.lock:
        if timezone is not None:
            tenant.organisation["Timezone"] = timezone
        if lock is not None:
            tenant.period_lock_date = lock
            tenant.organisation["PeriodLockDate"] = ms_date(lock)
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    app_config.update(sandbox_settings(sandbox.url))
    app = make_app(app_config)
    jobs.context.use_app(app)  # the in-process worker's jobs run on this app (the sandbox's URLs)
    client = xero_install(app, sandbox.url, "alice@example.com", [THAMES])
    with session_scope(app) as db:
        org = db.exec(select(Organisation)).one()
    assert amazon_connect(client, org.id, "UK", "buyer-admin-uk@example.com").status_code == 302
    finish_setup(app, org)
    return app, org


def buy_and_post(
    app: Any, org: Any, sandbox: Any, run_jobs: Any, raw: dict[str, Any], start: date, end: date
) -> LedgerEntry:
    """Add ``raw`` to Thames's UK store, import ``start``..``end`` and post; its ledger entry."""
    answer = requests.post(
        f"{sandbox.url}/_sandbox/amazon/transactions",
        json={"account": "thames", "store": "UK", "transactions": [raw]},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    with session_scope(app) as db:
        stored = db.get(Organisation, org.id)
        start_import(db, app, stored, start, end, ImportTrigger.MANUAL, "test")
    run_jobs()
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    run_jobs()
    with session_scope(app) as db:
        return db.exec(
            select(LedgerEntry).where(LedgerEntry.amazon_transaction_id == raw["transactionId"])
        ).one()


def documents_of(sandbox: Any, org: Any, endpoint: str, transaction_id: str) -> list[dict]:
    """The sandbox's live documents of ``endpoint`` that carry the Amazon transaction id."""
    found = []
    for document in sandbox_documents(sandbox, org)[endpoint]:
        if document.get("Status") == "DELETED":
            continue
        text = str(document.get("Reference", "")) + " ".join(
            str(li.get("Description", "")) for li in document.get("LineItems", [])
        )
        if transaction_id in text:
            found.append(document)
    return found
