"""The machinery of the proof scenarios: a live sandbox with N Amazon transactions, an installed
and mapped organisation, real ``flask worker`` processes to start and SIGKILL, and the verdict
that compares our ledger with the documents in the sandbox's Xero.

The verdict counts, for one organisation:

- ``entries``: ledger entries; ``expected``: transactions the sandbox's Amazon holds for the
  connected store; ``lost`` = expected transactions missing from the ledger, plus posted entries
  whose Xero document does not exist;
- ``documents``: live BankTransactions, Invoices and CreditNotes in the sandbox's Xero;
  ``duplicates`` = Amazon transaction ids with more than one document; ``orphans`` = documents no
  posted entry points at;
- ``posted`` / ``held`` / ``failed`` (final states, held and failed with a reason) and
  ``non_final`` (anything still fetched, ready or posting, or held/failed without a reason).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlmodel import select

from plugin.db import session_scope
from plugin.infra.queues import QUEUE_NAMES
from plugin.infra.queues import get_queue
from plugin.models import BatchState
from plugin.models import EntryState
from plugin.models import ImportRun
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.models import PostingBatch
from plugin.models import RunState
from tests.common.e2e import amazon_connect
from tests.common.e2e import sandbox_settings
from tests.common.e2e import xero_install
from tests.common.pipeline import THAMES
from tests.common.pipeline import finish_setup
from tests.common.processes import ROOT
from tests.common.processes import children_of
from tests.common.processes import clean_env
from tests.common.sandbox import LiveSandbox

AMAZON_USER = "buyer-admin-uk@example.com"
STORE = "UK"
LOCK_SECONDS = 3  # ORG_LOCK_SECONDS in the scenarios: a killed job's org frees up quickly
# The Xero client's read time-out and in-flight horizon in the scenarios: a batch whose answer
# was lost (or whose worker was killed) is looked up 11 s after it was sent, not 5 minutes.
READ_TIMEOUT_SECONDS = 3
IN_FLIGHT_SECONDS = 11
FINAL = {EntryState.POSTED, EntryState.HELD, EntryState.FAILED, EntryState.CANCELLED}
BILL_MARK = re.compile(r"\[Amazon transaction ([^\]]+)\]")
WORKER_ENV_KEYS = (
    "INSTANCE_PATH",
    "DATABASE_URL",
    "REDIS_URL",
    "TOKEN_ENCRYPTION_KEY",
    "SECRET_KEY",
    "PUBLIC_URL",
    "ORG_LOCK_SECONDS",
    "XERO_READ_TIMEOUT_SECONDS",
    "XERO_IN_FLIGHT_SECONDS",
)


@pytest.fixture
def e2e_scenario() -> None:
    """Marks an end-to-end scenario: SQLite only in the default run, PostgreSQL too with
    ``E2E_ON_POSTGRES=1`` (``make proof``), like the other end-to-end flows (tests/conftest.py)."""


def say(line: str) -> None:
    """Print a line to the test's output (shown with ``-s``; verdicts also go in the report)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def outage_verdict(result: Any, name: str, seen: list[dict[str, int]], **fields: Any) -> str:
    """Say the verdict line of an outage scenario (pages seen while down, one group an outage)
    and assert the end state is sound; returns the line."""
    statuses = "|".join(",".join(f"{p}:{s}" for p, s in page.items()) for page in seen)
    seconds = fields.pop("seconds")
    line = result.line(name, **fields, pages_while_down=statuses, seconds=seconds)
    say(line)
    assert result.sound, (line, result.problems)
    return line


def wait_until(
    predicate: Callable[[], bool],
    timeout: float,
    what: str,
    every: float = 0.2,
    state: Callable[[], str] | None = None,
) -> None:
    """Poll ``predicate`` until it is true; AssertionError naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    where = f"; {state()}" if state is not None else ""
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{where}")


@dataclass
class Scenario:
    """A connected, mapped organisation against a live sandbox."""

    app: Any
    client: Any
    org: Organisation
    sandbox: LiveSandbox
    extra_env: dict[str, str] = field(default_factory=dict)
    workers: list[subprocess.Popen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.sandbox.url

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """POST (with a body) or GET a sandbox control endpoint; its JSON."""
        if body is None:
            answer = requests.get(f"{self.url}/_sandbox/{path}", timeout=10)
        else:
            answer = requests.post(f"{self.url}/_sandbox/{path}", json=body, timeout=10)
        answer.raise_for_status()
        return answer.json()

    def latency(self, xero: float, amazon: float) -> None:
        """Make every sandbox call take this long (seconds), like the real services do, so that
        work lasts long enough for faults to land in the middle of it."""
        self.control("faults", {"service": "xero", "rates": {"slow": 1.0}, "slow_seconds": xero})
        self.control(
            "faults", {"service": "amazon", "rates": {"slow": 1.0}, "slow_seconds": amazon}
        )

    # Worker processes ---------------------------------------------------------------------------
    def worker_env(self) -> dict[str, str]:
        env = clean_env(OAUTHLIB_INSECURE_TRANSPORT="1", LOG_LEVEL="INFO")
        for key in WORKER_ENV_KEYS:
            if self.app.config.get(key) is not None:
                env[key] = str(self.app.config[key])
        for key in ("XERO_MINUTE_LIMIT", "XERO_CONCURRENT_LIMIT"):
            env[key] = str(self.app.config[key])
        env.update({k: str(v) for k, v in sandbox_settings(self.url).items()})
        env.update(self.extra_env)
        return env

    def start_worker(self, name: str) -> subprocess.Popen:
        """A real ``flask worker`` (forking work-horses, with its scheduler), in its own group."""
        unique = f"{name}-{os.getpid()}-{len(self.workers)}"
        log_dir = Path(str(self.app.config["INSTANCE_PATH"])) / "worker-logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        with (log_dir / f"{name}.log").open("ab") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--name", unique],
                cwd=ROOT,
                env=self.worker_env(),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.workers.append(process)
        return process

    def worker_ready(self, process: subprocess.Popen) -> bool:
        """The worker registered itself in Redis (it is about to take jobs)."""
        from rq import Worker

        from plugin.infra.queues import get_redis

        if process.poll() is not None:
            raise AssertionError(f"worker exited early with {process.returncode}")
        names = {w.name for w in Worker.all(connection=get_redis(self.app))}
        return any(name.endswith(str(process.args[-1])) for name in names)

    def stop_workers(self) -> None:
        """Stop every worker this scenario started (SIGTERM, then SIGKILL), horses included."""
        for process in self.workers:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self.workers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
            kill_worker(process)

    # State --------------------------------------------------------------------------------------
    def latest_run(self) -> ImportRun | None:
        with session_scope(self.app) as db:
            return db.exec(
                select(ImportRun)
                .where(ImportRun.organisation_id == self.org.id)
                .order_by(ImportRun.id.desc())  # type: ignore[union-attr]
            ).first()

    def refreshed_org(self) -> Organisation:
        with session_scope(self.app) as db:
            org = db.get(Organisation, self.org.id)
            assert org is not None
            return org

    def entry_states(self) -> Counter:
        with session_scope(self.app) as db:
            return Counter(
                db.exec(select(LedgerEntry.state).where(LedgerEntry.organisation_id == self.org.id))
            )

    def settled(self) -> bool:
        """The import finished and every entry reached a final state; no batch is open."""
        run = self.latest_run()
        if run is None or run.state != RunState.SUCCEEDED:
            return False
        if any(state not in FINAL for state in self.entry_states()):
            return False
        with session_scope(self.app) as db:
            open_batch = db.exec(
                select(PostingBatch).where(
                    PostingBatch.organisation_id == self.org.id,
                    PostingBatch.state.in_([BatchState.PENDING, BatchState.SENT]),  # type: ignore[attr-defined]
                )
            ).first()
        return open_batch is None

    def organisation_free(self) -> bool:
        """No job holds the organisation's lock (an import or posting run has let go)."""
        from plugin.infra.locks import running_holder
        from plugin.infra.queues import get_redis

        return running_holder(get_redis(self.app), int(self.org.id or 0)) is None

    def at_rest(self) -> bool:
        """Settled, nothing queued and nobody holding the organisation: the next import the
        test asks for starts instead of being refused as busy. (An import that posts as it
        fetches settles the ledger before its job, and the posting run it queues, end.)"""
        return self.settled() and queues_idle(self.app) and self.organisation_free()

    def describe(self) -> str:
        """The state of the work, for failure messages."""
        from rq import Worker

        from plugin.infra.queues import get_redis

        run = self.latest_run()
        client = get_redis(self.app)
        queued = {n: get_queue(n, self.app).job_ids for n in QUEUE_NAMES}
        scheduled = {
            n: get_queue(n, self.app).scheduled_job_registry.get_job_ids() for n in QUEUE_NAMES
        }
        started = {
            n: get_queue(n, self.app).started_job_registry.get_job_ids() for n in QUEUE_NAMES
        }
        failed = {n: get_queue(n, self.app).failed_job_registry.get_job_ids() for n in QUEUE_NAMES}
        from rq.job import Job

        results = {}
        for n in QUEUE_NAMES:
            for job_id in get_queue(n, self.app).finished_job_registry.get_job_ids():
                with contextlib.suppress(Exception):
                    results[job_id] = Job.fetch(job_id, connection=client).return_value()
        return (
            f"run={run and (run.id, run.state, run.rq_job_id, run.error)} "
            f"entries={dict(self.entry_states())} queued={queued} scheduled={scheduled} "
            f"started={started} failed={failed} results={results} "
            f"lock={client.get(f'lock:org-work:{self.org.id}')} "
            f"workers={[w.name for w in Worker.all(connection=client)]}"
        )

    def phase(self) -> str:
        """Where the work is right now (to say where a kill landed)."""
        run = self.latest_run()
        if run is None or run.state in (RunState.QUEUED, RunState.RUNNING):
            return "import"
        states = self.entry_states()
        if states.get(EntryState.POSTING) or states.get(EntryState.READY):
            return "posting"
        if states.get(EntryState.FETCHED):
            return "evaluate"
        return "idle"

    def expected_transaction_ids(self) -> set[str]:
        """Every transaction the sandbox's Amazon holds for the connected account and store."""
        account = self.control("amazon/accounts")["accounts"]
        key = next(
            a["key"] for a in account if AMAZON_USER in {u["email"] for u in a.get("users", [])}
        )
        body = requests.get(
            f"{self.url}/_sandbox/amazon/transactions",
            params={"account": key, "store": STORE},
            timeout=30,
        ).json()
        return {t["transactionId"] for t in body["transactions"]}

    def documents(self) -> dict[str, list[dict[str, Any]]]:
        return requests.get(
            f"{self.url}/_sandbox/xero/documents",
            params={"tenant": self.org.xero_tenant_id},
            timeout=30,
        ).json()


def kill_worker(process: subprocess.Popen) -> None:
    """SIGKILL a worker and its work-horse (no clean-up of any kind runs)."""
    for pid in children_of(process.pid) if process.poll() is None else []:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def build_scenario(
    app_config: dict[str, Any],
    make_app: Callable[[dict[str, Any]], Any],
    monkeypatch: Any,
    transactions: int,
    sandbox_config: dict[str, Any] | None = None,
    app_settings: dict[str, Any] | None = None,
    page: int | None = None,
    latency: tuple[float, float] | None = None,
) -> Scenario:
    """Sandbox with ``transactions`` Amazon transactions; Thames installed, Amazon UK connected,
    the mapping saved and set-up finished (so an import posts by itself). ``page`` is the
    sandbox's Amazon page size; ``latency`` the (Xero, Amazon) seconds every call then takes."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    settings = {"SANDBOX_AMAZON_TRANSACTIONS": transactions, **(sandbox_config or {})}
    if page is not None:
        settings["SANDBOX_AMAZON_PAGE_SIZE"] = page
    sandbox = LiveSandbox(settings)
    try:
        app_config.update(sandbox_settings(sandbox.url))
        app_config["ORG_LOCK_SECONDS"] = LOCK_SECONDS
        app_config["XERO_READ_TIMEOUT_SECONDS"] = READ_TIMEOUT_SECONDS
        app_config["XERO_IN_FLIGHT_SECONDS"] = IN_FLIGHT_SECONDS
        app_config.update(app_settings or {})
        app = make_app(app_config)
        client = xero_install(app, sandbox.url, "alice@example.com", [THAMES])
        with session_scope(app) as db:
            org = db.exec(select(Organisation)).one()
        answer = amazon_connect(client, org.id, STORE, AMAZON_USER)
        assert answer.status_code == 302, answer.get_data(as_text=True)
        finish_setup(app, org, include_new_card=True)
        scenario = Scenario(app=app, client=client, org=org, sandbox=sandbox)
        if latency is not None:
            scenario.latency(*latency)
    except BaseException:
        sandbox.stop()
        raise
    return scenario


def queues_idle(app: Any) -> bool:
    """No job waiting in any queue (delayed ones may wait for their time)."""
    return all(get_queue(n, app).count == 0 for n in QUEUE_NAMES)


@dataclass
class Verdict:
    """The end state of a scenario, ledger against the sandbox's Xero."""

    expected: int
    entries: int
    posted: int
    held: int
    failed: int
    documents: int
    duplicates: int
    lost: int
    orphans: int
    non_final: int
    problems: list[str] = field(default_factory=list)

    def line(self, name: str, **facts: Any) -> str:
        head = " ".join(f"{k}={v}" for k, v in facts.items())
        return (
            f"VERDICT {name}: {head}{' ' if head else ''}transactions={self.expected} "
            f"entries={self.entries} posted={self.posted} held={self.held} failed={self.failed} "
            f"documents={self.documents} duplicates={self.duplicates} lost={self.lost} "
            f"orphans={self.orphans} non-final={self.non_final}"
        )

    @property
    def sound(self) -> bool:
        return (
            self.duplicates == 0
            and self.lost == 0
            and self.orphans == 0
            and self.non_final == 0
            and self.documents == self.posted
            and self.entries == self.expected
        )


def verdict(scenario: Scenario) -> Verdict:
    """Compare the ledger with the sandbox's Xero and Amazon (see the module docstring)."""
    expected = scenario.expected_transaction_ids()
    with session_scope(scenario.app) as db:
        entries = list(
            db.exec(select(LedgerEntry).where(LedgerEntry.organisation_id == scenario.org.id))
        )
    documents = scenario.documents()
    per_transaction: Counter[str] = Counter()
    xero_ids: set[str] = set()
    count = 0
    for endpoint, id_field in (
        ("BankTransactions", "BankTransactionID"),
        ("Invoices", "InvoiceID"),
        ("CreditNotes", "CreditNoteID"),
    ):
        for document in documents.get(endpoint, []):
            if document.get("Status") in ("DELETED", "VOIDED"):
                continue  # out of the books (a cancellation or a rollback removed it)
            count += 1
            xero_ids.add(str(document[id_field]))
            if endpoint == "BankTransactions":
                per_transaction[str(document.get("Reference", "")).split()[-1]] += 1
            else:
                text = " ".join(str(li.get("Description", "")) for li in document["LineItems"])
                for transaction_id in set(BILL_MARK.findall(text)):
                    per_transaction[transaction_id] += 1
    posted = [e for e in entries if e.state == EntryState.POSTED]
    ledger_ids = {e.amazon_transaction_id for e in entries}
    missing_documents = [e for e in posted if e.xero_document_id not in xero_ids]
    pointed_at = {e.xero_document_id for e in posted}
    problems = [f"{e.amazon_transaction_id} has no document" for e in missing_documents[:5]]
    not_final = [
        e
        for e in entries
        if e.state not in FINAL or (e.state != EntryState.POSTED and not e.reason)
    ]
    problems += [f"{e.amazon_transaction_id} is {e.state}" for e in not_final[:5]]
    duplicates = sum(1 for n in per_transaction.values() if n > 1)
    problems += [f"{t} has {n} documents" for t, n in per_transaction.items() if n > 1][:5]
    return Verdict(
        expected=len(expected),
        entries=len(entries),
        posted=len(posted),
        held=sum(1 for e in entries if e.state == EntryState.HELD),
        failed=sum(1 for e in entries if e.state == EntryState.FAILED),
        documents=count,
        duplicates=duplicates,
        lost=len(expected - ledger_ids) + len(missing_documents),
        orphans=len(xero_ids - pointed_at),
        non_final=len(not_final),
        problems=problems,
    )
