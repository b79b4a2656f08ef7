"""Fault 4: the database goes away for a few seconds in the middle of an import + post.

The app and a real worker talk to PostgreSQL through a TCP proxy this test starts and stops
("stopped" = the listener is closed and every connection is cut, as when the server restarts),
so the machine's PostgreSQL is never touched. While it is down, pages answer 503 with the
friendly page (never a 500 or a traceback) and ``/healthz`` says 503; afterwards the interrupted
work is resumed (``jobs.recovery.resume_interrupted``) and nothing is half-written: every
transaction once in the ledger, in a final state, each posted one with exactly one document.

Needs PostgreSQL on 127.0.0.1:5432 (``PROOF_POSTGRES_URL`` to use another); skipped otherwise.
Default run: 150 transactions, one outage. Full run (``-m slow``): 2,000 transactions, three.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time

import pytest

from plugin.db import upgrade
from plugin.infra.queues import get_queue
from plugin.models import ImportTrigger
from plugin.models import RunState
from tests.common.pipeline import import_days
from tests.common.processes import free_port
from tests.proof.scenario import build_scenario
from tests.proof.scenario import e2e_scenario  # noqa: F401 (fixture)
from tests.proof.scenario import outage_verdict
from tests.proof.scenario import verdict
from tests.proof.scenario import wait_until

ADMIN_URL = os.environ.get("PROOF_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE = "abx_proof_outage"
SETTLE = float(os.environ.get("PROOF_SETTLE_SECONDS", "600"))


class TcpProxy:
    """A TCP proxy on a fixed local port that can be stopped (connections cut) and restarted."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def proxied_postgres():
    """A fresh database reached through a TcpProxy; yields (url through the proxy, proxy)."""
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=2)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {ADMIN_URL}: {exc}")
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DATABASE}"')
    info = psycopg.conninfo.conninfo_to_dict(ADMIN_URL)
    proxy = TcpProxy((str(info.get("host") or "127.0.0.1"), int(info.get("port") or 5432)))
    proxy.start()
    user = info.get("user") or "postgres"
    url = f"postgresql+psycopg://{user}@127.0.0.1:{proxy.port}/{DATABASE}"
    upgrade(url)
    yield url, proxy
    proxy.stop()
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def pages_while_down(scenario) -> dict[str, int]:
    statuses = {}
    for path in ("/", f"/orgs/{scenario.org.id}/manage", "/healthz"):
        answer = scenario.client.get(path)
        statuses[path] = answer.status_code
        body = answer.get_data(as_text=True)
        assert answer.status_code == 503, (path, answer.status_code, body[:300])
        assert "Traceback" not in body
        if path != "/healthz":
            assert "right back" in body, body[:300]
    return statuses


def run_outages(app_config, make_app, monkeypatch, proxied, transactions, outages, page):
    url, proxy = proxied
    if str(app_config["DATABASE_URL"]).startswith("postgres"):
        pytest.skip("staged on its own PostgreSQL database already (the [sqlite] variant)")
    app_config["DATABASE_URL"] = url
    scenario = build_scenario(
        app_config, make_app, monkeypatch, transactions, page=page, latency=(0.2, 0.3)
    )
    seen = []
    worker_restarts = 0
    started = time.monotonic()
    try:
        worker = scenario.start_worker("worker")
        import_days(scenario.app, scenario.org, days=90, trigger=ImportTrigger.SCHEDULED)
        for number in range(outages):
            wait_until(
                lambda: (
                    (scenario.latest_run().fetched or 0) > 0
                    or scenario.latest_run().state == RunState.SUCCEEDED
                ),
                60,
                "the import to be under way",
            )
            proxy.stop()
            time.sleep(0.5)
            seen.append(pages_while_down(scenario))
            time.sleep(2.0 + number)
            proxy.start()
            if worker.poll() is not None:  # the supervisor starts it again
                worker = scenario.start_worker(f"worker-{worker_restarts}")
                worker_restarts += 1
            # What the cron does every 5 minutes (and a starting worker does at once).
            get_queue("high", scenario.app).enqueue("jobs.recovery.resume_interrupted")
        wait_until(
            scenario.settled, SETTLE, "the import and posting to finish", 0.5, scenario.describe
        )
    finally:
        scenario.stop_workers()
        elapsed = time.monotonic() - started
        try:
            result = verdict(scenario)
        finally:
            scenario.sandbox.stop()
    outage_verdict(
        result,
        "database-outage",
        seen,
        outages=outages,
        worker_restarts=worker_restarts,
        seconds=int(elapsed),
    )
    return result


@pytest.mark.usefixtures("e2e_scenario")
def test_database_unavailable_briefly(app_config, make_app, monkeypatch, proxied_postgres):
    run_outages(app_config, make_app, monkeypatch, proxied_postgres, 150, outages=1, page=10)


@pytest.mark.slow
@pytest.mark.usefixtures("e2e_scenario")
def test_database_unavailable_three_times_2000(app_config, make_app, monkeypatch, proxied_postgres):
    run_outages(app_config, make_app, monkeypatch, proxied_postgres, 2000, outages=3, page=50)
