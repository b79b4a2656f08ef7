"""One purchase, end to end: bought on the sandbox's Amazon, imported for its dates, posted to
the sandbox's Xero (the UK Thames Stationery on amazon.co.uk, or the euro-zone Beispiel GmbH on
amazon.de, with Xero's ``Timezone`` and lock date set as its settings would have them before
the app is connected)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import requests
from sqlmodel import select

import jobs.context
from plugin.db import session_scope
from plugin.infra.queues import get_queue
from plugin.mapping import files as mapping_file
from plugin.mapping.store import save_mapping
from plugin.models import ImportTrigger
from plugin.models import LedgerEntry
from plugin.models import OnboardingStep
from plugin.models import Organisation
from plugin.work.imports import start_import
from sandbox.xero.xerojson import ms_date
from tests.common.e2e import amazon_connect
from tests.common.e2e import sandbox_settings
from tests.common.e2e import xero_install
from tests.common.pipeline import THAMES
from tests.common.pipeline import finish_setup
from tests.common.pipeline import sandbox_documents
from tests.common.pipeline import thames_mapping

BEISPIEL = "Beispiel GmbH"  # the sandbox's euro-zone org (EUR, Berlin)


def tenant_named(live: Any, name: str) -> Any:
    """The sandbox's tenant of that name (its books, in-process)."""
    world = live.sandbox.worlds["xero"]
    return next(t for t in world.tenants.values() if t.name == name)


def thames_tenant(live: Any) -> Any:
    """The sandbox's Thames Stationery tenant."""
    return tenant_named(live, THAMES)


def map_beispiel(app: Any, org: Any) -> None:
    """Beispiel's mapping: Thames's cards and Pay by Invoice (the same Amazon account, buying
    on amazon.de), German VAT rates; set-up finished."""
    data = thames_mapping(include_new_card=True)
    data["tax_rates"] = [
        {"rate": "0.19", "tax_type": "TAX001"},
        {"rate": "0.07", "tax_type": "TAX002"},
        {"rate": "0.00", "tax_type": "NONE"},
    ]
    mapping = mapping_file.load_mapping(data, "test mapping")
    with session_scope(app) as db:
        save_mapping(db, org.id, mapping, actor="test")
        stored = db.get(Organisation, org.id)
        stored.onboarding_step = OnboardingStep.DONE
        stored.sync_enabled = True
        db.add(stored)
        db.commit()


# org: (Xero user, Amazon store, mapping); Amazon's user is Thames's admin for both stores.
ORGS: dict[str, tuple[str, str, Callable[[Any, Any], None]]] = {
    THAMES: ("alice@example.com", "UK", finish_setup),
    BEISPIEL: ("greta@example.com", "DE", map_beispiel),
}


def connected(
    app_config: dict[str, Any],
    make_app: Any,
    sandbox: Any,
    monkeypatch: Any,
    name: str = THAMES,
    timezone: str | None = None,
    lock: date | None = None,
) -> tuple[Any, Organisation]:
    """The org ``name`` (Thames or Beispiel) with Xero's ``Timezone`` (and period lock date)
    set, then connected to Xero and to its Amazon store, mapped; (app, org). In-process jobs
    run on this app."""
    email, store, set_up = ORGS[name]
    tenant = tenant_named(sandbox, name)
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
    client = xero_install(app, sandbox.url, email, [name])
    with session_scope(app) as db:
        org = db.exec(select(Organisation)).one()
    answer = amazon_connect(client, org.id, store, "buyer-admin-uk@example.com")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    set_up(app, org)
    return app, org


def connected_thames(
    app_config: dict[str, Any],
    make_app: Any,
    sandbox: Any,
    monkeypatch: Any,
    timezone: str | None = None,
    lock: date | None = None,
) -> tuple[Any, Organisation]:
    """Thames (see ``connected``)."""
    return connected(app_config, make_app, sandbox, monkeypatch, THAMES, timezone, lock)


def buy_and_post(
    app: Any,
    org: Any,
    sandbox: Any,
    run_jobs: Any,
    raw: dict[str, Any],
    start: date,
    end: date,
    store: str = "UK",
) -> LedgerEntry:
    """Add ``raw`` to Thames's Amazon ``store``, import ``start``..``end`` and post; its entry."""
    answer = requests.post(
        f"{sandbox.url}/_sandbox/amazon/transactions",
        json={"account": "thames", "store": store, "transactions": [raw]},
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
