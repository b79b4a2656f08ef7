"""Job ids and Redis keys (plugin/infra/keys.py) keep the exact formats running deployments
hold in Redis: a changed format would orphan a lock or queue a unique job twice."""

from __future__ import annotations

from plugin.infra import keys


def test_job_ids_are_the_ones_in_use():
    assert keys.import_job_id(5) == "import-5"
    assert keys.import_resume_job_id(5, 2) == "import-5-resume-2"
    assert keys.post_job_id(7) == "post-7"
    assert keys.retry_job_id(7) == "retry-7"
    assert keys.post_later_job_ids(7) == ("post-later-7", "post-later-7-again")
    assert keys.post_lookup_job_ids(7) == ("post-lookup-7", "post-lookup-7-again")
    assert keys.sync_job_id(7) == "sync-7"
    assert keys.settle_job_id(7) == "settle-7"
    assert keys.attach_job_id(7) == "attach-7"
    assert keys.contact_check_job_id(7) == "contact-check-7"
    assert keys.rollback_job_ids(5) == ("rollback-5", "rollback-5-later")
    assert keys.remap_job_ids(7) == ("remap-7", "remap-7-later")
    assert keys.resume_job_id() == "resume-interrupted"
    assert keys.resume_job_id("later") == "resume-interrupted-later"
    assert keys.resume_job_id("again") == "resume-interrupted-again"


def test_the_run_of_a_first_import_job_is_read_back():
    assert keys.run_id_of_job("import-41") == 41
    assert keys.run_id_of_job("import-41-resume-2") is None
    assert keys.run_id_of_job("post-41") is None


def test_redis_keys_are_the_ones_in_use():
    assert keys.org_lock_key("work", 7) == "lock:org-work:7"
    assert keys.org_lock_key("attach", 7) == "lock:org-attach:7"
    assert keys.resume_import_key(5) == "resume:import:5"
    assert keys.chart_cache_key(7) == "chart:v1:7"
    assert keys.oauth_used_key("abc") == "oauth:used:abc"
    assert keys.webhook_seen_key("d1g") == "webhook:xero:d1g"
    assert keys.xero_token_lock_key("g1", 7) == "lock:xero-token:g1"
    assert keys.xero_token_lock_key(None, 7) == "lock:xero-token:org-7"
    assert keys.xero_limit_key("day", "tenant-1") == "ratelimit:xero:day:tenant-1"
    assert keys.xero_limit_key("blocked", "app") == "ratelimit:xero:blocked:app"
    assert keys.xero_limit_key("appminute") == "ratelimit:xero:appminute"
    assert keys.amazon_limit_key(3, "reports") == "amazon:3:reports"
    assert keys.bucket_key("amazon:3:reports") == "ratelimit:bucket:amazon:3:reports"


def test_work_in_progress_looks_for_every_id_a_posting_run_waits_under_after_busy() -> None:
    """Manage's "working now" reads the same ids the posting job queues itself under."""
    assert set(keys.post_after_busy_job_ids(7)) <= set(keys.org_work_job_ids(7))
    assert keys.post_job_id(7) in keys.org_work_job_ids(7)
    assert not set(keys.post_later_job_ids(7)) & set(keys.org_work_job_ids(7))
