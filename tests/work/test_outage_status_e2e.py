"""Xero answering 500 to every call: the posting run pauses and Manage Integrations says Xero
is failing, not that it asked us to slow down (issue 15 point 5), over real HTTP with a real
RQ worker; once Xero answers again the waiting run posts."""

from __future__ import annotations

import requests
from rq.job import Job

from plugin.infra.queues import get_queue
from plugin.infra.queues import get_redis
from plugin.models import EntryState
from tests.common.pipeline import finish_setup
from tests.common.pipeline import import_days
from tests.common.pipeline import ledger_entries

HTMX = {"HX-Request": "true"}


def test_xero_failing_is_named_failing(pipeline, sandbox, run_jobs):
    app, client, org = pipeline
    import_days(app, org, days=10)
    run_jobs()
    finish_setup(app, org)
    answer = requests.post(
        f"{sandbox.url}/_sandbox/faults",
        json={"service": "xero", "rates": {"500": 1.0}},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    run_jobs()

    later = Job.fetch(f"post-later-{org.id}", connection=get_redis(app))
    assert later.meta == {"pause_kind": "failing", "pause_status": 500}
    body = client.get(f"/orgs/{org.id}/manage/status", headers=HTMX).get_data(as_text=True)
    assert "Xero is failing (HTTP 500) — we retry every minute; next try at" in body
    assert "slow down" not in body
    assert not [e for e in ledger_entries(app, org) if e.state == EntryState.POSTED]

    # Xero answers again: the waiting run posts, and the status stops naming an outage.
    requests.post(f"{sandbox.url}/_sandbox/faults", json={"clear": True}, timeout=10)
    registry = get_queue("default", app).scheduled_job_registry
    registry.remove(later)
    get_queue("default", app).enqueue_job(later)
    run_jobs()
    assert [e for e in ledger_entries(app, org) if e.state == EntryState.POSTED]
    body = client.get(f"/orgs/{org.id}/manage/status", headers=HTMX).get_data(as_text=True)
    assert "Xero is failing" not in body
