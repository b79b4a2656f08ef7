"""RQ: jobs enqueued through the app run in real workers (in-process, forked, and the CLI)."""

from __future__ import annotations

from rq.job import Job

from plugin.queues import enqueue
from plugin.queues import get_queue
from plugin.queues import get_redis
from tests.helpers import clean_env
from tests.helpers import run


def test_job_runs_in_a_forked_worker_and_its_result_is_visible(app, run_jobs):
    with app.app_context():
        job = enqueue("high", "jobs.health.ping", "hello")
    assert job.get_status() == "queued"
    assert run_jobs(fork=True) == 1
    finished = Job.fetch(job.id, connection=get_redis(app))
    result = finished.return_value()
    assert finished.get_status() == "finished"
    assert result["note"] == "hello"
    assert result["database"] == "ok"
    assert "pinged_at" in finished.get_meta(refresh=True)


def test_queues_run_in_priority_order(app, run_jobs):
    with app.app_context():
        low = enqueue("low", "jobs.health.ping", "low")
        high = enqueue("high", "jobs.health.ping", "high")
    run_jobs()
    redis = get_redis(app)
    low_job = Job.fetch(low.id, connection=redis)
    high_job = Job.fetch(high.id, connection=redis)
    assert high_job.ended_at <= low_job.started_at


def test_worker_command_runs_queued_jobs(app, app_config):
    with app.app_context():
        job = get_queue("default", app).enqueue("jobs.health.ping", "from-cli")
    env = clean_env(
        INSTANCE_PATH=app_config["INSTANCE_PATH"],
        DATABASE_URL=app_config["DATABASE_URL"],
        REDIS_URL=app_config["REDIS_URL"],
        TOKEN_ENCRYPTION_KEY=app_config["TOKEN_ENCRYPTION_KEY"],
    )
    assert Job.exists(job.id, connection=get_redis(app)), "enqueued"
    result = run(["flask", "--app", "wsgi", "worker", "--burst"], env)
    assert result.returncode == 0, result.stderr
    finished = Job.fetch(job.id, connection=get_redis(app))
    assert finished.return_value()["note"] == "from-cli"
