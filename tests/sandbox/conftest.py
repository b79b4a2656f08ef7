"""Fixtures for the sandbox's own tests: the app, a test client, and a live threaded server."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from sandbox import create_sandbox_app


@pytest.fixture
def sandbox_app():
    """A fresh sandbox app with its seeded state (small volumes for speed)."""
    return create_sandbox_app({"SANDBOX_AMAZON_TRANSACTIONS": 40})


@pytest.fixture
def sandbox_client(sandbox_app):
    """A Flask test client for the sandbox."""
    return sandbox_app.test_client()


class LiveSandbox:
    """A sandbox served over real HTTP on a free localhost port."""

    def __init__(self, config: dict | None = None) -> None:
        self.server = make_server("127.0.0.1", 0, None, threaded=True)  # type: ignore[arg-type]
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.app = create_sandbox_app({"SANDBOX_BASE_URL": self.url, **(config or {})})
        self.server.app = self.app
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def sandbox(self):
        return self.app.extensions["sandbox"]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def live_sandbox() -> Iterator[LiveSandbox]:
    """A sandbox on a real socket (for concurrency limits and dropped connections)."""
    live = LiveSandbox({"SANDBOX_AMAZON_TRANSACTIONS": 40})
    yield live
    live.stop()
