"""RQ: jobs enqueued through the app run in real workers (in-process, forked, and the CLI)."""

from __future__ import annotations

from rq import Queue
from rq.job import Job

from plugin.infra.queues import enqueue
from plugin.infra.queues import get_queue
from plugin.infra.queues import get_redis
from tests.common.processes import clean_env
from tests.common.processes import run


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


def test_worker_rides_out_a_redis_outage(app_config, tmp_path):
    """Redis stops and starts again: the worker process waits for it instead of exiting, then
    runs what is queued (before, only a supervisor brought it back)."""
    import subprocess
    import time

    import redis as redis_lib

    from plugin.infra.redis_server import start_private_redis
    from tests.common.processes import ROOT

    directory = tmp_path / "redis"
    server = start_private_redis(directory)
    env = clean_env(
        INSTANCE_PATH=app_config["INSTANCE_PATH"],
        DATABASE_URL=app_config["DATABASE_URL"],
        REDIS_URL=server.url,
        TOKEN_ENCRYPTION_KEY=app_config["TOKEN_ENCRYPTION_KEY"],
    )
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        ["flask", "--app", "wsgi", "worker", "--name", "outage"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        client = redis_lib.Redis.from_url(server.url)

        def wait_for(condition, what, timeout=30.0):
            deadline = time.monotonic() + timeout
            while not condition():
                assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
                assert time.monotonic() < deadline, (
                    f"{what}\n" + ((tmp_path / "worker.log").read_text()[-3000:])
                )
                time.sleep(0.2)

        wait_for(lambda: client.exists("rq:worker:outage"), "the worker to register")
        server.stop()
        time.sleep(3.0)
        assert worker.poll() is None, "the worker exited when Redis went away"
        server = start_private_redis(directory)
        client = redis_lib.Redis.from_url(server.url)
        job = Queue("high", connection=client).enqueue("jobs.health.ping", "after the outage")
        wait_for(lambda: job.get_status() == "finished", "the job queued after the outage")
        assert job.return_value()["note"] == "after the outage"
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
        server.stop()
    assert worker.returncode == 0  # SIGTERM: a clean stop, not a crash
