"""Shared machinery of the benchmark scripts (``scripts/bench_*.py``): not a test helper.

Everything talks to 127.0.0.1 only: a sandbox process standing in for Xero and Amazon Business,
PostgreSQL (``abx_bench_*`` databases, created afresh) or SQLite when PostgreSQL does not answer,
Redis database 3 (flushed at the start of a run), and real ``flask --app wsgi worker``
processes. Output goes through ``say`` (the app's lint rules ban ``print``).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/3"
POSTGRES_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
BENCH_SECRET = "bench-secret-key-not-for-production"  # noqa: S105 - local benchmark only
TRANSACTION_TAG = re.compile(r"\[Amazon transaction ([^\]]+)\]")


def say(*parts: object) -> None:
    """Write one line to stdout (flushed, so a subprocess reader sees it at once)."""
    sys.stdout.write(" ".join(str(p) for p in parts) + "\n")
    sys.stdout.flush()


def figure(name: str, value: object, note: str = "") -> None:
    """One figure line: ``name: value  (note)`` — the smoke tests look for these names."""
    say(f"{name}: {value}" + (f"  ({note})" if note else ""))


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def venv_bin() -> Path:
    """The directory of this Python's console scripts (flask, gunicorn)."""
    return Path(sys.executable).parent


def base_env(**extra: str) -> dict[str, str]:
    """A small environment for child processes: PATH with the venv first, HOME, ``extra``."""
    env = {
        "PATH": f"{venv_bin()}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108 - only a fallback for HOME
        "PYTHONUNBUFFERED": "1",
        "LANG": "C.UTF-8",
    }
    env.update(extra)
    return env


def wait_http(url: str, timeout: float = 60.0, process: subprocess.Popen | None = None) -> None:
    """Poll ``url`` until it answers (any status)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {process.returncode}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def stop_process(process: subprocess.Popen, grace: float = 15.0) -> None:
    """SIGTERM the process group we started, then SIGKILL it if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


# --- The sandbox -------------------------------------------------------------------------------


class SandboxProcess:
    """``python -m sandbox`` on a free localhost port, with ``SANDBOX_*`` settings."""

    def __init__(self, log_dir: Path, settings: dict[str, Any] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = base_env(SANDBOX_BASE_URL=self.url)
        env.update({k: str(v) for k, v in (settings or {}).items()})
        self.log = (log_dir / "sandbox.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "sandbox", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_http(f"{self.url}/_sandbox/faults", process=self.process)

    def get(self, path: str, **params: Any) -> Any:
        """GET a control endpoint's JSON."""
        response = requests.get(f"{self.url}{path}", params=params, timeout=120)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        """POST JSON to a control endpoint."""
        response = requests.post(f"{self.url}{path}", json=body, timeout=600)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        stop_process(self.process, grace=5)
        self.log.close()


# --- Database and Redis ----------------------------------------------------------------------


def postgres_answers() -> bool:
    """True when PostgreSQL answers on 127.0.0.1:5432 as user postgres."""
    try:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN, connect_timeout=2):
            return True
    except Exception:  # any failure means "use SQLite"
        return False


def fresh_database(name: str, url: str | None, instance: Path) -> str:
    """A migrated, empty database: ``url`` as given, else PostgreSQL ``name``, else SQLite."""
    from plugin.db import upgrade

    if url:
        chosen = url
    elif postgres_answers():
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        chosen = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    else:
        path = instance / f"{name}.db"
        path.unlink(missing_ok=True)
        chosen = f"sqlite:///{path}"
    upgrade(chosen)
    return chosen


def fresh_redis(url: str, instance: Path) -> tuple[str, Any]:
    """``url`` flushed (or a private Redis when nothing answers there); (url, server or None)."""
    import redis

    from plugin.infra.redis_server import answers
    from plugin.infra.redis_server import start_private_redis

    server = None
    if not answers(url):
        server = start_private_redis(instance / "redis")
        url = server.url
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url, server


# --- The app and its workers -----------------------------------------------------------------


@dataclass
class Stack:
    """The app's settings (shared by this process and the workers) and the processes started."""

    instance: Path
    config: dict[str, Any]
    sandbox: SandboxProcess
    workers: list[subprocess.Popen] = field(default_factory=list)  # one leader per machine
    members: list[subprocess.Popen] = field(default_factory=list)  # every worker process
    worker_names: list[str] = field(default_factory=list)
    redis_server: Any = None
    app: Any = None

    def worker_env(self) -> dict[str, str]:
        env = base_env(OAUTHLIB_INSECURE_TRANSPORT="1", LOG_LEVEL="WARNING")
        for key, value in self.config.items():
            if key.isupper() and isinstance(value, str | int | float) and key != "TESTING":
                env[key] = str(value)
        return env

    def start_workers(self, count: int, machines: int = 1) -> None:
        """Start ``count`` real RQ workers (``flask --app wsgi worker``), spread over
        ``machines`` process groups. Each group stands for one machine: its own instance
        directory (so its own Prometheus files and temporary files), sharing only the database
        and Redis with the others, and stopped as one group (``stop_process`` on its leader)."""
        env = self.worker_env()
        leaders: dict[int, subprocess.Popen] = {}
        for number in range(count):
            machine = number % machines + 1
            machine_env = env
            if machines > 1:
                machine_dir = self.instance / f"machine-{machine}"
                machine_dir.mkdir(exist_ok=True)
                machine_env = {**env, "INSTANCE_PATH": str(machine_dir)}
                machine_env.pop("PROMETHEUS_MULTIPROC_DIR", None)
            leader = leaders.get(machine)
            log = (self.instance / f"worker-{number + 1}.log").open("ab")
            name = f"bench-{os.getpid()}-m{machine}-{number + 1}"
            self.worker_names.append(name)
            started = subprocess.Popen(  # noqa: S603 - the project's own CLI from our venv
                [str(venv_bin() / "flask"), "--app", "wsgi", "worker", "--name", name],
                cwd=ROOT,
                env=machine_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                process_group=0 if leader is None else leader.pid,  # 0: a group of its own
            )
            self.members.append(started)
            if leader is None:
                leaders[machine] = started
                self.workers.append(started)

    def stop(self) -> None:
        for worker in self.workers:
            stop_process(worker)  # the whole process group: every worker of that machine
        for member in self.members:
            stop_process(member)
        self.workers.clear()
        self.members.clear()
        if self.app is not None:
            self.app.extensions["db_engine"].dispose()
        self.sandbox.stop()
        if self.redis_server is not None:
            self.redis_server.stop()

    def check_workers(self) -> None:
        dead = [w.args for w in self.members if w.poll() is not None]
        if dead:
            raise RuntimeError(f"a worker exited early; see {self.instance}/worker-*.log")


def make_stack(
    instance: Path,
    database_name: str,
    database_url: str | None,
    redis_url: str,
    sandbox_settings: dict[str, Any],
    app_settings: dict[str, Any] | None = None,
) -> Stack:
    """Sandbox process, fresh database and Redis, and the app object for this process."""
    from cryptography.fernet import Fernet

    from tests.common.e2e import sandbox_settings as plugin_sandbox_settings

    instance.mkdir(parents=True, exist_ok=True)
    sandbox = SandboxProcess(instance, sandbox_settings)
    try:
        url = fresh_database(database_name, database_url, instance)
        redis_url, server = fresh_redis(redis_url, instance)
    except Exception:
        sandbox.stop()
        raise
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"  # the sandbox speaks http on localhost
    config: dict[str, Any] = {
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": BENCH_SECRET,
        "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "PUBLIC_URL": "http://127.0.0.1:5000",
        "LOG_LEVEL": "WARNING",
        **plugin_sandbox_settings(sandbox.url),
        **(app_settings or {}),
    }
    stack = Stack(instance, config, sandbox, redis_server=server)
    from plugin import create_app

    stack.app = create_app({**config, "WTF_CSRF_ENABLED": False})
    return stack


def connect_org(
    stack: Stack, xero_email: str, tenant_name: str, stores: list[tuple[str, str]]
) -> Any:
    """Install the app for one Xero org through the sandbox's consent pages, connect its
    Amazon Business stores (``[(store, admin email)]``); returns the Organisation row."""
    from sqlmodel import select

    from plugin.db import session_scope
    from plugin.models import Organisation
    from tests.common.e2e import amazon_connect
    from tests.common.e2e import xero_install

    client = xero_install(stack.app, stack.sandbox.url, xero_email, [tenant_name])
    with session_scope(stack.app) as db:
        org = db.exec(select(Organisation).where(Organisation.name == tenant_name)).one()
    for store, email in stores:
        answer = amazon_connect(client, int(org.id or 0), store, email)
        if answer.status_code != 302:
            raise RuntimeError(f"connecting Amazon store {store} failed: {answer.status_code}")
    return org


def finish_setup(stack: Stack, org_id: int, mapping_json: dict[str, Any]) -> None:
    """Save the mapping and mark set-up done with sync on (what the mapping pages do)."""
    from plugin.db import session_scope
    from plugin.mapping import files as mapping_file
    from plugin.mapping.store import save_mapping
    from plugin.models import OnboardingStep
    from plugin.models import Organisation

    mapping = mapping_file.load_mapping(mapping_json, "benchmark mapping")
    with session_scope(stack.app) as db:
        save_mapping(db, org_id, mapping, actor="benchmark")
        org = db.get(Organisation, org_id)
        assert org is not None
        org.onboarding_step = OnboardingStep.DONE
        org.sync_enabled = True
        db.add(org)
        db.commit()


def queue_import_and_post(stack: Stack, org_id: int, days: int) -> int:
    """Queue the organisation's historical import, which posts by itself when it ends (set-up
    is finished: ``imports.posts_after_import``); returns the ImportRun id.

    No RQ dependency (``depends_on``) chains the posting run to the import: RQ 3 concedes a
    dependent whose registry changed under it ("Ready job ... changed while enqueueing;
    skipping for now") and enqueues it only at the next worker maintenance, a minute later.
    The product does not chain jobs either.
    """
    from datetime import timedelta

    from plugin.db import session_scope
    from plugin.models import ImportTrigger
    from plugin.models import Organisation
    from plugin.models import utcnow
    from plugin.work.imports import start_import

    today = utcnow().date()
    with session_scope(stack.app) as db:
        org = db.get(Organisation, org_id)
        assert org is not None
        run = start_import(
            db,
            stack.app,
            org,
            today - timedelta(days=days),
            today,
            ImportTrigger.HISTORICAL,
            actor="benchmark",
        )
        return int(run.id or 0)


# Housekeeping the workers schedule for themselves (jobs/recovery.py): not benchmark work.
HOUSEKEEPING = ("resume-interrupted",)


def queues_idle(stack: Stack) -> bool:
    """No job waiting, running or scheduled on any queue (housekeeping jobs aside)."""
    from plugin.infra.queues import QUEUE_NAMES
    from plugin.infra.queues import get_queue

    for name in QUEUE_NAMES:
        queue = get_queue(name, stack.app)
        for registry in (
            queue,
            queue.started_job_registry,
            queue.scheduled_job_registry,
            queue.deferred_job_registry,
            queue.ready_job_registry,  # dependents RQ has not enqueued yet
        ):
            ids = registry.job_ids if registry is queue else registry.get_job_ids()
            if any(not job_id.startswith(HOUSEKEEPING) for job_id in ids):
                return False
    return True


def wait_for_workers(stack: Stack, timeout: float = 60.0, startup: bool = True) -> None:
    """Wait until every started worker has registered with Redis (ready to take jobs) and,
    with ``startup``, until the ``resume-interrupted`` run each queues at start is over."""
    from rq import Worker

    from plugin.infra.queues import get_redis

    mine = set(stack.worker_names)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.check_workers()
        names = {w.name for w in Worker.all(connection=get_redis(stack.app))}
        if mine <= names and (not startup or _startup_done(stack)):
            return
        time.sleep(0.2)
    raise TimeoutError("the workers did not start")


def _startup_done(stack: Stack) -> bool:
    """The ``resume-interrupted`` run each worker queues at start is over (so that timing
    starts on the benchmark's own work; ``bench_many_orgs.py --during-recovery`` queues its
    imports while it runs instead, the moment of the recovery races in docs/performance.md)."""
    from plugin.infra.queues import get_queue

    queue = get_queue("high", stack.app)
    waiting = [*queue.job_ids, *queue.started_job_registry.get_job_ids()]
    return not any(job_id.startswith(HOUSEKEEPING) for job_id in waiting)


def failed_jobs(stack: Stack) -> list[str]:
    """Ids and error tails of the failed jobs nobody recovered (a crash in a job is a benchmark
    failure). A killed job whose work recovery resumed under a new id is not one: the same rule
    as ``/healthz`` (``plugin.work.recovery.unrecovered``); ``resumed_jobs`` counts those."""
    from plugin.work.recovery import failed_jobs as failed_registry_jobs
    from plugin.work.recovery import unrecovered

    found = []
    for job in failed_registry_jobs(stack.app):
        if not unrecovered(job):
            continue
        result = job.latest_result()
        tail = ((result.exc_string if result else "") or "")[-300:]
        found.append(f"{job.id}: {tail}")
    return found


def resumed_jobs(stack: Stack) -> int:
    """How many failed jobs' work recovery resumed (killed workers; not failures)."""
    from plugin.work.recovery import failed_job_counts

    return failed_job_counts(stack.app)["resumed"]


def split_housekeeping(failures: list[str]) -> tuple[list[str], list[str]]:
    """(benchmark jobs that failed, housekeeping jobs that failed)."""
    work = [f for f in failures if not f.startswith(HOUSEKEEPING)]
    return work, [f for f in failures if f.startswith(HOUSEKEEPING)]


def wait_until(done: Callable[[], bool], timeout: float, stack: Stack, poll: float = 0.5) -> float:
    """Poll ``done`` until true; returns the seconds waited (raises on time-out)."""
    start = time.monotonic()
    while not done():
        stack.check_workers()
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"not finished within {timeout:.0f} s")
        time.sleep(poll)
    return time.monotonic() - start


# --- What the sandbox holds ------------------------------------------------------------------


def transaction_of(endpoint: str, document: dict[str, Any]) -> str | None:
    """The Amazon transaction id a document was posted for (first line's tag, or Reference)."""
    for line in (document.get("LineItems") or [])[:1]:
        match = TRANSACTION_TAG.search(str(line.get("Description", "")))
        if match:
            return match.group(1)
    if endpoint == "BankTransactions" and document.get("Reference"):
        return str(document["Reference"]).split()[-1]
    return None


ID_FIELDS = {
    "BankTransactions": "BankTransactionID",
    "Invoices": "InvoiceID",
    "CreditNotes": "CreditNoteID",
}


@dataclass
class DocumentCheck:
    """The sandbox's documents of one tenant against the ledger's posted entries."""

    documents: int = 0
    duplicates: int = 0  # extra documents for a transaction that already has one
    untracked: int = 0  # documents the ledger does not know (posted by nobody we know)
    missing: int = 0  # posted entries whose document is not in the sandbox
    by_endpoint: Counter[str] = field(default_factory=Counter)
    payments: int = 0  # live payments (Pay by Invoice settlements and card-bill payments)
    paid_twice: int = 0  # bills or credit notes with more than one live payment


def check_documents(
    sandbox: SandboxProcess, tenant_id: str, posted: dict[str, str]
) -> DocumentCheck:
    """Count duplicates: ``posted`` maps Amazon transaction id → the Xero id the ledger holds."""
    body = sandbox.get("/_sandbox/xero/documents", tenant=tenant_id)
    check = DocumentCheck()
    per_transaction: Counter[str] = Counter()
    seen_ids: set[str] = set()
    for endpoint, id_field in ID_FIELDS.items():
        for document in body.get(endpoint, []):
            if document.get("Status") in ("DELETED", "VOIDED"):
                continue
            check.documents += 1
            check.by_endpoint[endpoint] += 1
            seen_ids.add(str(document.get(id_field, "")).lower())
            transaction = transaction_of(endpoint, document)
            if transaction is None or transaction not in posted:
                check.untracked += 1
            else:
                per_transaction[transaction] += 1
    check.duplicates = sum(count - 1 for count in per_transaction.values() if count > 1)
    per_document: Counter[str] = Counter()
    for payment in body.get("Payments", []):
        if payment.get("Status") == "DELETED":
            continue
        check.payments += 1
        target = payment.get("Invoice") or payment.get("CreditNote") or {}
        per_document[str(target.get("InvoiceID") or target.get("CreditNoteID"))] += 1
    check.paid_twice = sum(1 for count in per_document.values() if count > 1)
    check.missing = sum(1 for xero_id in posted.values() if xero_id.lower() not in seen_ids)
    return check


def percentile(values: list[float], share: float) -> float:
    """The ``share`` (0..1) percentile of ``values`` by nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


@contextlib.contextmanager
def timed() -> Iterator[Callable[[], float]]:
    """``with timed() as elapsed: ...; elapsed()`` — seconds since the block started."""
    start = time.perf_counter()
    yield lambda: time.perf_counter() - start
