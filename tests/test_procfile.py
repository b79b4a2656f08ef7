"""The Procfile runs under honcho: web answers /healthz, worker and cron run, sandbox answers."""

from __future__ import annotations

import subprocess
import time

import requests

from tests.common.processes import ROOT
from tests.common.processes import clean_env
from tests.common.processes import free_port
from tests.common.processes import run
from tests.common.processes import stop
from tests.common.processes import wait_for_http

HONCHO = ["honcho", "-f", "Procfile", "start"]
WORKER_READY = "Listening on high, default"
BACKGROUND_READY = "Listening on low"
CRON_READY = "Loading cron configuration from jobs.schedule"


def test_honcho_starts_web_worker_cron_and_sandbox(tmp_path, redis_url):
    web_port, sandbox_port = free_port(), free_port()
    env = clean_env(
        INSTANCE_PATH=str(tmp_path / "instance"),
        REDIS_URL=redis_url,
        SANDBOX_PORT=str(sandbox_port),
        WEB_CONCURRENCY="1",
    )
    assert run(["flask", "--app", "wsgi", "db-upgrade"], env).returncode == 0
    log_path = tmp_path / "honcho.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [*HONCHO, "-p", str(web_port), "web", "worker", "background", "cron", "sandbox"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            assert wait_for_http(f"http://127.0.0.1:{web_port}/healthz", process=process) == 200
            sandbox_url = f"http://127.0.0.1:{sandbox_port}/_sandbox/faults"
            assert wait_for_http(sandbox_url, process=process) == 200
            health = requests.get(f"http://127.0.0.1:{web_port}/healthz", timeout=5).json()
            assert health["redis"]["ok"]
            assert health["database"]["ok"]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                output = log_path.read_text()
                if all(ready in output for ready in (WORKER_READY, BACKGROUND_READY, CRON_READY)):
                    break
                time.sleep(0.2)
        finally:
            stop(process)
    output = log_path.read_text()
    assert WORKER_READY in output  # the RQ worker of user-started work came up
    assert BACKGROUND_READY in output  # and the one of attachments and settlements
    assert CRON_READY in output  # the cron scheduler loaded our schedule
