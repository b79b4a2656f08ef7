"""End to end against the sandbox over real HTTP: install → consent → organisation → tokens
refreshed after expiry (one refresh for eight workers) → disconnect → calls refused, UI says so."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import requests

from plugin.db import session_scope
from plugin.infra.keys import post_job_id
from plugin.infra.queues import get_queue
from plugin.models import OnboardingStep
from plugin.models import Organisation
from plugin.models import OrgStatus
from plugin.models import utcnow
from plugin.xero.errors import XeroConnectionRevoked
from plugin.xero.errors import XeroNeedsReconnect
from plugin.xero.wiring import xero_client
from tests.common.e2e import path_and_query
from tests.common.e2e import sandbox_settings
from tests.common.e2e import tenant_ids_by_name
from tests.common.e2e import xero_consent

THAMES = "Thames Stationery Ltd"


@pytest.fixture
def sandbox_config():
    return {"SANDBOX_AMAZON_TRANSACTIONS": 10}


@pytest.fixture
def e2e_app(app_config, make_app, sandbox, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the sandbox speaks plain http
    app_config.update(sandbox_settings(sandbox.url))
    return make_app(app_config)


def stats(sandbox):
    return requests.get(f"{sandbox.url}/_sandbox/xero/stats", timeout=5).json()


def install(app, sandbox, email="alice@example.com", tenant_names=(THAMES,)):
    """Walk the whole install: our connect URL → sandbox sign-in and consent → our callback."""
    client = app.test_client()
    authorize = client.get("/xero/connect").headers["Location"]
    ids = tenant_ids_by_name(sandbox.url)
    back = xero_consent(authorize, email, [ids[name] for name in tenant_names])
    response = client.get(path_and_query(back))
    return client, response


def the_org(app) -> Organisation:
    with session_scope(app) as db:
        from sqlmodel import select

        return db.exec(select(Organisation)).one()


def expire_tokens(app, sandbox, org_id):
    """Let 31 minutes pass: the sandbox's access token expires, and ours says so too."""
    requests.post(f"{sandbox.url}/_sandbox/clock", json={"advance_seconds": 31 * 60}, timeout=5)
    with session_scope(app) as db:
        org = db.get(Organisation, org_id)
        org.xero_token_expires_at = utcnow() - timedelta(seconds=1)
        db.add(org)
        db.commit()


def test_install_connects_the_organisation_with_its_details(e2e_app, sandbox):
    client, response = install(e2e_app, sandbox)
    org = the_org(e2e_app)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/orgs/{org.id}/amazon")
    assert org.name == THAMES
    assert org.base_currency == "GBP"
    assert org.country == "GB"
    assert org.period_lock_date is not None
    assert org.xero_connection_id
    assert THAMES in client.get("/").get_data(as_text=True)


def test_tokens_refresh_after_expiry_once_for_eight_workers(e2e_app, sandbox):
    install(e2e_app, sandbox)
    org = the_org(e2e_app)
    expire_tokens(e2e_app, sandbox, org.id)
    before = stats(sandbox)["token_refreshes"]
    names, errors = [], []
    barrier = threading.Barrier(8)

    def worker():
        try:
            barrier.wait()
            names.append(xero_client(org, e2e_app).organisation().name)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert names == [THAMES] * 8
    assert stats(sandbox)["token_refreshes"] - before == 1


def test_disconnect_in_the_app_stops_api_calls_and_the_ui_says_so(e2e_app, sandbox):
    client, _ = install(e2e_app, sandbox)
    org = the_org(e2e_app)
    assert client.post(f"/xero/orgs/{org.id}/disconnect").status_code == 302
    assert tenant_ids_by_name(sandbox.url)  # still listed, but:
    orgs = requests.get(f"{sandbox.url}/_sandbox/xero/orgs", timeout=5).json()["orgs"]
    thames = next(o for o in orgs if o["tenantName"] == THAMES)
    assert thames["connections"] == []
    with pytest.raises(XeroNeedsReconnect):
        xero_client(the_org(e2e_app), e2e_app).organisation()
    assert "Disconnected" in client.get("/").get_data(as_text=True)


def test_disconnect_done_in_xero_is_detected(e2e_app, sandbox, run_jobs):
    install(e2e_app, sandbox)
    org = the_org(e2e_app)
    requests.post(
        f"{sandbox.url}/_sandbox/xero/disconnect", json={"tenant": org.xero_tenant_id}, timeout=5
    )
    with pytest.raises(XeroConnectionRevoked):
        xero_client(org, e2e_app).organisation()

    get_queue("default", e2e_app).enqueue("jobs.xero.check_contact", org.id)
    run_jobs()
    assert the_org(e2e_app).status == OrgStatus.DISCONNECTED


def test_contact_is_adopted_then_a_rename_in_xero_is_found_and_repaired(e2e_app, sandbox, run_jobs):
    install(e2e_app, sandbox)
    org = the_org(e2e_app)

    get_queue("default", e2e_app).enqueue("jobs.xero.check_contact", org.id)
    run_jobs()
    contact_id = the_org(e2e_app).amazon_contact_id
    assert contact_id  # the UK org already has an active "Amazon Business" contact: adopted
    requests.post(
        f"{sandbox.url}/_sandbox/xero/contacts/{contact_id}",
        json={"tenant": org.xero_tenant_id, "name": "AMZN Mktp"},
        timeout=5,
    )
    get_queue("default", e2e_app).enqueue("jobs.xero.check_contact", org.id)
    run_jobs()
    problem = (the_org(e2e_app).settings or {}).get("contact_problem")
    assert problem["kind"] == "renamed"

    from plugin.xero.contact import repair_and_record

    with session_scope(e2e_app) as db:
        stored = db.get(Organisation, org.id)
        repaired = repair_and_record(db, stored, xero_client(stored, e2e_app))
    assert repaired == contact_id
    assert xero_client(org, e2e_app).get_contact(contact_id).name == "Amazon Business"


def test_repair_button_restores_an_archived_contact(e2e_app, sandbox, run_jobs):
    client, _ = install(e2e_app, sandbox)
    org = the_org(e2e_app)

    get_queue("default", e2e_app).enqueue("jobs.xero.check_contact", org.id)
    run_jobs()
    contact_id = the_org(e2e_app).amazon_contact_id
    requests.post(
        f"{sandbox.url}/_sandbox/xero/contacts/{contact_id}",
        json={"tenant": org.xero_tenant_id, "status": "ARCHIVED"},
        timeout=5,
    )
    get_queue("default", e2e_app).enqueue("jobs.xero.check_contact", org.id)
    run_jobs()
    assert the_org(e2e_app).settings["contact_problem"]["kind"] == "archived"
    with session_scope(e2e_app) as db:  # set-up finished: purchases the contact held wait
        row = db.get(Organisation, org.id)
        row.onboarding_step = OnboardingStep.DONE
        db.add(row)
        db.commit()
    assert post_job_id(org.id) not in get_queue("high", e2e_app).job_ids
    assert client.post(f"/xero/orgs/{org.id}/contact/repair").status_code == 302
    assert post_job_id(org.id) in get_queue("high", e2e_app).job_ids  # "posting resumes"
    repaired = the_org(e2e_app)
    assert "contact_problem" not in repaired.settings
    assert repaired.amazon_contact_id != contact_id
    fresh = xero_client(repaired, e2e_app).get_contact(repaired.amazon_contact_id)
    assert fresh.contact_status == "ACTIVE"
    assert repaired.settings["xero_actions"]["CreateApprovedBill"] is True
