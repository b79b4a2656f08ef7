"""Fault 6: consent revoked in the middle of a sync, and the reconnect that follows.

- Amazon Business consent revoked while an import is running: the import stops cleanly (run
  ``failed`` with the reason, the store ``needs_reconnect``), the home page says "Reconnect
  needed"; after reconnecting, a new import adds only what was missing and posts it.
- The app disconnected in Xero while posting: the posting job stops (the org is
  ``disconnected``, entries not sent wait as ``ready``), the home page says so; after
  reconnecting, posting resumes by itself (sync stays on) and nothing is posted twice.

A real worker process runs the jobs; every sandbox call takes ~0.2 s so the revocation lands
mid-run. Default: 150 transactions. Full (``-m slow``): 2,000.
"""

from __future__ import annotations

import time

import pytest
from sqlmodel import select

from plugin.db import session_scope
from plugin.infra.locks import AlreadyRunning
from plugin.models import AmazonConnection
from plugin.models import ConnectionStatus
from plugin.models import EntryState
from plugin.models import ImportTrigger
from plugin.models import OrgStatus
from plugin.models import RunState
from tests.common.e2e import amazon_connect
from tests.common.e2e import path_and_query
from tests.common.e2e import tenant_ids_by_name
from tests.common.e2e import xero_consent
from tests.common.pipeline import THAMES
from tests.common.pipeline import import_days
from tests.proof.scenario import AMAZON_USER
from tests.proof.scenario import STORE
from tests.proof.scenario import build_scenario
from tests.proof.scenario import e2e_scenario  # noqa: F401 (fixture)
from tests.proof.scenario import say
from tests.proof.scenario import verdict
from tests.proof.scenario import wait_until


def amazon_account_key(scenario) -> str:
    accounts = scenario.control("amazon/accounts")["accounts"]
    return next(a["key"] for a in accounts if AMAZON_USER in {u["email"] for u in a["users"]})


def connection_status(scenario) -> str:
    with session_scope(scenario.app) as db:
        return db.exec(
            select(AmazonConnection.status).where(
                AmazonConnection.organisation_id == scenario.org.id
            )
        ).one()


def import_when_free(scenario, days: int):
    """A scheduled import of the last ``days``, asked for again while the organisation is busy
    (``AlreadyRunning``) until it is taken: the run."""
    taken = []

    def ask() -> bool:
        try:
            taken.append(
                import_days(scenario.app, scenario.org, days=days, trigger=ImportTrigger.SCHEDULED)
            )
        except AlreadyRunning:
            return False
        return True

    wait_until(ask, 120, "the organisation to take an import", 0.5, scenario.describe)
    return taken[0]


def run_revocations(app_config, make_app, monkeypatch, transactions, page):
    scenario = build_scenario(
        app_config, make_app, monkeypatch, transactions, page=page, latency=(0.2, 0.3)
    )
    started = time.monotonic()
    try:
        scenario.start_worker("worker")
        # 1. Amazon consent revoked mid-import.
        first = import_days(scenario.app, scenario.org, days=90, trigger=ImportTrigger.SCHEDULED)
        wait_until(lambda: (scenario.latest_run().fetched or 0) > 0, 60, "the import to start")
        scenario.control("amazon/revoke", {"account": amazon_account_key(scenario)})
        wait_until(
            lambda: scenario.latest_run().state in (RunState.FAILED, RunState.SUCCEEDED),
            60,
            "the import to stop",
            state=scenario.describe,
        )
        stopped = scenario.latest_run()
        amazon_status = connection_status(scenario)
        home = scenario.client.get("/").get_data(as_text=True)
        amazon_page = scenario.client.get(f"/orgs/{scenario.org.id}/amazon")
        amazon_says = amazon_page.get_data(as_text=True)
        kept = sum(scenario.entry_states().values())
        answer = amazon_connect(scenario.client, scenario.org.id, STORE, AMAZON_USER)
        assert answer.status_code == 302, answer.get_data(as_text=True)
        # The stopped run is recorded a moment before its job lets go of the organisation (it
        # may have posted pages meanwhile and closes that record too), and the posting run an
        # import queues takes the organisation after it: an import asked for meanwhile is
        # refused as busy, as a person's would be. So ask until it is taken, not after a moment.
        second = import_when_free(scenario, days=90)
        wait_until(scenario.at_rest, 300, "the resumed import", 0.5, scenario.describe)
        resumed = scenario.latest_run()

        # 2. The app disconnected in Xero mid-posting: add purchases, post, disconnect.
        scenario.control(
            "amazon/transactions",
            {"account": amazon_account_key(scenario), "store": STORE, "count": 60},
        )
        third = import_when_free(scenario, days=1)
        wait_until(
            lambda: scenario.entry_states().get(EntryState.POSTING, 0) > 0 or scenario.settled(),
            120,
            "posting to start",
        )
        scenario.control("xero/disconnect", {"tenant": scenario.org.xero_tenant_id})
        wait_until(
            lambda: scenario.refreshed_org().status != OrgStatus.ACTIVE or scenario.settled(),
            120,
            "posting to notice the disconnection",
            state=scenario.describe,
        )
        xero_status = scenario.refreshed_org().status
        home_after = scenario.client.get("/").get_data(as_text=True)
        waiting = scenario.entry_states()
        reconnect(scenario)  # queues the posting run itself: nothing else is done here
        sync_back_on = scenario.refreshed_org().sync_enabled
        wait_until(scenario.settled, 300, "posting to resume", 0.5, scenario.describe)
    finally:
        scenario.stop_workers()
        elapsed = time.monotonic() - started
        try:
            result = verdict(scenario)
        finally:
            scenario.sandbox.stop()
    line = result.line(
        "consent-revoked",
        amazon_run=stopped.state,
        amazon_connection=amazon_status,
        kept_before_reconnect=kept,
        resumed_new=resumed.new,
        xero_org=xero_status,
        waiting=sum(waiting.get(s, 0) for s in (EntryState.READY, EntryState.FETCHED)),
        sync_on_after_reconnect=sync_back_on,
        seconds=int(elapsed),
    )
    say(line)
    assert stopped.id == first.id
    assert stopped.state == RunState.FAILED, stopped.error
    assert "Amazon" in (stopped.error or "")
    assert amazon_status == ConnectionStatus.NEEDS_RECONNECT
    assert "Reconnect" in home or "Reconnect" in amazon_says, "the UI must say so"
    assert resumed.id == second.id
    assert resumed.new == result.expected - kept - 60  # only what was missing
    assert sync_back_on is True
    assert third.id != second.id
    assert xero_status == OrgStatus.DISCONNECTED
    assert "isconnected" in home_after
    assert result.sound, (line, result.problems)


def reconnect(scenario) -> None:
    """Sign in with Xero again and consent to the same organisation."""
    client = scenario.client
    authorize = client.get("/xero/connect").headers["Location"]
    ids = tenant_ids_by_name(scenario.url)
    back = xero_consent(authorize, "alice@example.com", [ids[THAMES]])
    answer = client.get(path_and_query(back))
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert scenario.refreshed_org().status == OrgStatus.ACTIVE


@pytest.mark.usefixtures("e2e_scenario")
def test_consent_revoked_mid_sync_and_reconnect(app_config, make_app, monkeypatch):
    run_revocations(app_config, make_app, monkeypatch, 150, page=10)


@pytest.mark.slow
@pytest.mark.usefixtures("e2e_scenario")
def test_consent_revoked_mid_sync_and_reconnect_2000(app_config, make_app, monkeypatch):
    run_revocations(app_config, make_app, monkeypatch, 2000, page=50)
