"""The sandbox (fake Xero and Amazon Business) served over real HTTP for end-to-end tests."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import make_server

from sandbox import create_sandbox_app


class LiveSandbox:
    """A sandbox served over real HTTP on a free localhost port."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.server = make_server("127.0.0.1", 0, None, threaded=True)  # type: ignore[arg-type]
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.app = create_sandbox_app({"SANDBOX_BASE_URL": self.url, **(config or {})})
        self.server.app = self.app
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def sandbox(self) -> Any:
        return self.app.extensions["sandbox"]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
