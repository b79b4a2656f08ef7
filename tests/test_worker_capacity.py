"""User-started work starts within 5 seconds even while a long attachment run holds a worker
(issue 15 point 3): the Procfile's ``worker`` (high, default) and ``background`` (low) lines
run as real processes; a 15-second job on ``low`` (standing for PDFs paced by Amazon's
Document API) and then a job on ``high`` are queued, and the high one starts within 5 s.
Run with one worker on all three queues instead, the same high job waits for the long one."""

from __future__ import annotations

import shlex
import subprocess
import time
from pathlib import Path

import pytest
from rq import Queue
from rq.job import Job

from tests.common.processes import ROOT
from tests.common.processes import clean_env
from tests.common.processes import run
from tests.common.processes import stop

LONG_SECONDS = 15


def procfile_command(name: str) -> list[str]:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return shlex.split(line.split(":", 1)[1])
    raise AssertionError(f"no {name} line in the Procfile")


def started_within(connection, commands: list[list[str]], env: dict[str, str], tmp: Path) -> float:
    """Start the worker processes, queue the long low job then a high one; seconds until the
    high job started (or LONG_SECONDS + 10 when it did not)."""
    logs = [(tmp / f"worker-{n}.log").open("w") for n in range(len(commands))]
    processes = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        for command, log in zip(commands, logs, strict=True)
    ]
    try:
        deadline = time.monotonic() + 60
        while len(connection.smembers("rq:workers")) < len(commands):
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.2)
        Queue("low", connection=connection).enqueue("time.sleep", LONG_SECONDS)
        time.sleep(1.5)  # the long job is running
        queued_at = time.monotonic()
        quick = Queue("high", connection=connection).enqueue("time.sleep", 0)
        while time.monotonic() - queued_at < LONG_SECONDS + 10:
            if Job.fetch(quick.id, connection=connection).get_status() in ("started", "finished"):
                return time.monotonic() - queued_at
            time.sleep(0.1)
        return LONG_SECONDS + 10
    finally:
        for process in processes:
            stop(process)
        for log in logs:
            log.close()


@pytest.mark.parametrize("layout", ["procfile", "one-worker"])
def test_user_started_work_does_not_wait_behind_attachments(
    redis_client, redis_url, tmp_path, layout
):
    env = clean_env(REDIS_URL=redis_url, DATABASE_URL=f"sqlite:///{tmp_path / 'app.db'}")
    env["INSTANCE_PATH"] = str(tmp_path / "instance")
    assert run(["flask", "--app", "wsgi", "db-upgrade"], env).returncode == 0
    if layout == "procfile":
        commands = [procfile_command("worker"), procfile_command("background")]
    else:
        commands = [["flask", "--app", "wsgi", "worker"]]
    waited = started_within(redis_client, commands, env, tmp_path)
    if layout == "procfile":
        assert waited < 5, f"the high job waited {waited:.1f} s"
    else:  # the test can tell: with one worker the high job waits for the long one
        assert waited > LONG_SECONDS - 5, f"the high job started after {waited:.1f} s"
