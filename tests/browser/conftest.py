"""Real-browser tests: Playwright driving Debian's Chromium against our app and the sandbox,
both served over real HTTP, with a real RQ worker process running the jobs.

The app is served on ``localhost`` and the sandbox on ``127.0.0.1`` so that their cookies never
mix (browsers share cookies across ports of one host). Screenshots of each step go to
``test-artifacts/<test name>/`` (ignored by git). The tests skip, saying why, only when no
Chromium or no Playwright can be found.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.common.e2e import sandbox_settings
from tests.common.processes import ROOT
from tests.common.processes import clean_env
from tests.common.processes import stop
from tests.common.sandbox import LiveSandbox

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = ROOT / "test-artifacts"


def chromium_path() -> str | None:
    """Debian's Chromium, or CHROMIUM_PATH."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured and Path(configured).exists():
        return configured
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        pytest.skip("No Chromium found (apt-get install chromium, or set CHROMIUM_PATH)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("The playwright package is not installed (pip install -e '.[dev]')")
    return path


class LiveApp:
    """Our app served over HTTP on localhost, plus a real RQ worker process for its jobs."""

    def __init__(self, app: Any, port: int, env: dict[str, str], sandbox: LiveSandbox) -> None:
        self.app = app
        self.sandbox = sandbox
        self.env = env  # a test may start more workers (the Procfile's lines) with it
        self.server = make_server("localhost", port, app, threaded=True)
        self.url = f"http://localhost:{port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        self.worker = subprocess.Popen(
            ["flask", "--app", "wsgi", "worker", "--name", f"browser-{port}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    def stop(self) -> str:
        self.server.shutdown()
        self.server.server_close()
        return stop(self.worker)


@pytest.fixture
def sandbox_config() -> dict[str, Any]:
    """The shared live ``sandbox``, with 60 Amazon transactions."""
    return {"SANDBOX_AMAZON_TRANSACTIONS": 60}


@pytest.fixture
def live_app(app_config, make_app, sandbox, monkeypatch) -> Iterator[LiveApp]:
    """The app and a worker, configured for the sandbox, reachable by the browser."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    settings = sandbox_settings(sandbox.url)
    app_config.update(settings)
    # PUBLIC_URL must be known before the server starts: reserve the port first.
    probe = make_server("localhost", 0, None, threaded=True)  # type: ignore[arg-type]
    port = probe.server_port
    probe.server_close()
    app_config["PUBLIC_URL"] = f"http://localhost:{port}"
    app = make_app(app_config)
    env = clean_env(OAUTHLIB_INSECURE_TRANSPORT="1")
    for key in ("INSTANCE_PATH", "DATABASE_URL", "REDIS_URL", "TOKEN_ENCRYPTION_KEY", "SECRET_KEY"):
        env[key] = str(app.config[key])
    env["PUBLIC_URL"] = app_config["PUBLIC_URL"]
    env.update({key: str(value) for key, value in settings.items()})
    live = LiveApp(app, port, env, sandbox)
    yield live
    live.stop()


BLOCKING_IMPACTS = ("serious", "critical")
"""axe-core impacts a page of ours must not have (issue 15 point 9)."""


def accessibility_problems(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each (rule, impact,
    what it says, and the first elements it names)."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response.get("violations", [])
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + "; ".join(" ".join(node["target"]) for node in violation["nodes"][:3])
        for violation in violations
        if violation.get("impact") in BLOCKING_IMPACTS
    ]


class Shots:
    """Numbered screenshots of one test's steps under test-artifacts/<test>/; every page of ours
    (served on ``localhost``; the sandbox is on 127.0.0.1) is checked with axe-core at each
    screenshot, and a serious or critical violation fails the test there."""

    def __init__(self, page: Any, name: str) -> None:
        self.page = page
        self.folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0
        self.checked: list[str] = []  # the URLs axe-core checked

    def __call__(self, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{re.sub(r'[^a-z0-9]+', '-', step.lower())}.png"
        self.page.screenshot(path=str(path), full_page=True)
        if self.page.url.startswith("http://localhost:"):
            problems = accessibility_problems(self.page)
            self.checked.append(self.page.url)
            assert problems == [], f"axe-core at {step!r} ({self.page.url}): {problems}"
        return path


@pytest.fixture
def page(chromium, request) -> Iterator[Any]:
    """A fresh Chromium page (its own profile); ``page.shots(step)`` saves a screenshot."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        tab = context.new_page()
        tab.shots = Shots(tab, request.node.name)  # type: ignore[attr-defined]
        try:
            yield tab
        finally:
            context.close()
            browser.close()
