"""plugin/infra/metrics.py and GET /metrics: protected scrapes; jobs (through a forking RQ
worker), Xero and Amazon calls, posting latency and figures read at scrape time, every process's
counters added up (multiprocess mode)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from werkzeug.exceptions import NotFound

from plugin.infra import metrics
from plugin.infra.queues import enqueue
from plugin.views.metrics import scrape_allowed
from plugin.xero.errors import XeroRateLimited
from tests.common.manage import add_entries
from tests.common.xero import XERO_URL

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "scrape-token-123"


@pytest.fixture
def app_config(app_config):
    app_config["METRICS_TOKEN"] = TOKEN
    return app_config


def scrape(client) -> str:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.data
    return response.get_data(as_text=True)


def value(text: str, sample_name: str, **labels: str) -> float:
    """One sample's value in a scrape (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == sample_name and all(
                sample.labels.get(k) == v for k, v in labels.items()
            ):
                return float(sample.value)
    return 0.0


def test_a_scrape_needs_the_bearer_token(client):
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer")
    text = scrape(client)
    assert "abx_queue_jobs" in text
    assert (
        client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        .headers["Content-Type"]
        .startswith("text/plain")
    )


def test_without_a_token_only_this_machine_may_scrape_and_never_in_production():
    assert scrape_allowed({"APP_ENV": "development"}, None, "127.0.0.1")
    assert scrape_allowed({"APP_ENV": "development"}, None, "::1")
    with pytest.raises(NotFound):
        scrape_allowed({"APP_ENV": "development"}, None, "10.1.2.3")
    with pytest.raises(NotFound):
        scrape_allowed({"APP_ENV": "production"}, None, "127.0.0.1")
    production = {"APP_ENV": "production", "METRICS_TOKEN": TOKEN}
    assert scrape_allowed(production, f"Bearer {TOKEN}", "10.1.2.3")
    assert not scrape_allowed(production, "Bearer other", "10.1.2.3")


def test_no_token_from_elsewhere_is_not_found(app_config, make_app):
    app_config["METRICS_TOKEN"] = ""
    client = make_app(app_config).test_client()
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    away = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert away.status_code == 404


def test_forked_jobs_are_counted_by_outcome_in_one_file_per_worker(app, client, run_jobs):
    before = scrape(client)
    directory = metrics.multiprocess_dir()
    assert directory is not None
    files_before = {p.name for p in directory.iterdir() if "horse" not in p.name}
    labels = {"queue": "high", "job": "jobs.health.ping"}
    with app.app_context():
        for _ in range(3):
            enqueue("high", "jobs.health.ping", "hello")
        enqueue("high", "jobs.health.no_such_job")
    assert run_jobs(fork=True) == 4
    after = scrape(client)
    assert value(after, "abx_jobs_total", outcome="succeeded", **labels) == (
        value(before, "abx_jobs_total", outcome="succeeded", **labels) + 3
    )
    failed = {"queue": "high", "job": "jobs.health.no_such_job", "outcome": "failed"}
    assert value(after, "abx_jobs_total", **failed) == value(before, "abx_jobs_total", **failed) + 1
    # The four work-horses wrote to this worker's horse files, not to one file per job.
    new_files = {p.name for p in directory.iterdir()} - files_before
    assert new_files
    assert all(name.endswith(f"_horse-{os.getpid()}.db") for name in new_files)


def test_counts_from_another_process_are_added_up(client):
    labels = {"operation": "searchTransactions", "status": "429"}
    before = value(scrape(client), "abx_amazon_calls_total", **labels)
    code = (
        "from plugin.infra import metrics\n"
        "for _ in range(2): metrics.amazon_call('searchTransactions', 429)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT, timeout=60)
    assert value(scrape(client), "abx_amazon_calls_total", **labels) == before + 2


def test_xero_calls_and_429s_are_counted_by_endpoint(client, xero, http):
    ok = {"endpoint": "Invoices", "status": "2xx"}
    limited = {"endpoint": "Invoices", "status": "429"}
    before = scrape(client)
    url = f"{XERO_URL}/api.xro/2.0/Invoices"
    http.get(url, json={"Invoices": []})
    http.get(url, status=429, headers={"Retry-After": "7"}, json={})
    xero.request("GET", "Invoices")
    with pytest.raises(XeroRateLimited):
        xero.request("GET", "Invoices")
    after = scrape(client)
    assert (
        value(after, "abx_xero_calls_total", **ok)
        == value(before, "abx_xero_calls_total", **ok) + 1
    )
    assert value(after, "abx_xero_calls_total", **limited) == (
        value(before, "abx_xero_calls_total", **limited) + 1
    )


def test_xero_endpoint_families_drop_ids():
    assert metrics.xero_endpoint("Invoices") == "Invoices"
    assert metrics.xero_endpoint("Contacts/0f2c-11") == "Contacts"
    assert metrics.xero_endpoint("Invoices/ab-12/Attachments/INV 1.pdf") == "Invoices/Attachments"
    assert metrics.xero_endpoint("CreditNotes/x/Allocations") == "CreditNotes/Allocations"
    assert metrics.status_class(None) == "no_answer"
    assert metrics.status_class(503) == "5xx"


def test_posting_latency_is_a_histogram(client):
    before = scrape(client)
    metrics.entries_posted([3.0, 90.0])
    after = scrape(client)
    name = "abx_posting_latency_seconds"
    assert value(after, name + "_count") == value(before, name + "_count") + 2
    assert value(after, name + "_bucket", le="5.0") == value(before, name + "_bucket", le="5.0") + 1
    assert value(after, name + "_sum") == pytest.approx(value(before, name + "_sum") + 93.0)


def test_entries_by_state_and_queue_depths_are_read_at_scrape_time(app, client, db_session, org):
    add_entries(db_session, org, 3, state="held")
    add_entries(db_session, org, 2, state="posted")
    with app.app_context():
        enqueue("low", "jobs.health.ping")
    text = scrape(client)
    assert value(text, "abx_ledger_entries", state="held") == 3
    assert value(text, "abx_ledger_entries", state="posted") == 2
    assert 'abx_ledger_entries{state="ready"} 0.0' in text
    assert value(text, "abx_queue_jobs", queue="low", state="queued") == 1
    assert value(text, "abx_redis_up") == 1


def test_gunicorn_tells_the_library_a_web_worker_ended():
    import runpy
    from types import SimpleNamespace

    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    directory = metrics.multiprocess_dir()
    assert directory is not None
    live = directory / "gauge_livesum_999999.db"
    live.write_bytes(b"")
    settings["child_exit"](None, SimpleNamespace(pid=999999))
    assert not live.exists()
