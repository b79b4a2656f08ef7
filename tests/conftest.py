"""Shared fixtures: the app on a fresh database (SQLite, and PostgreSQL when TEST_DATABASE_URL
is set), a real Redis on a flushed test database index, real RQ workers in burst mode, members
and an organisation, mocked HTTP with the Xero client and fakes on it, and the live sandbox.

The fakes and factories they use are in ``tests/common/``."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import responses
from cryptography.fernet import Fernet
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase
from sqlalchemy import make_url
from sqlalchemy import text

from plugin.config import SETTINGS
from plugin.db import make_engine
from plugin.db import upgrade
from plugin.infra.ratelimit import XeroLimits
from plugin.infra.ratelimit import XeroRateLimiter
from plugin.infra.redis_server import LOCAL_DEFAULT_URL
from plugin.infra.redis_server import answers
from plugin.infra.redis_server import start_private_redis
from plugin.models import metadata
from plugin.xero.client import XeroClient
from tests.common.fakes import FakeClock
from tests.common.fakes import FakeXeroTokens
from tests.common.sandbox import LiveSandbox
from tests.common.web import sign_in_on
from tests.common.xero import TENANT
from tests.common.xero import XERO_URL

TEST_TOKEN_KEY = Fernet.generate_key().decode()
# Every process of the test run (workers and subprocesses included) writes its metrics files
# to one directory of its own, as a deployment's processes do (plugin/infra/metrics.py).
os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="abx-metrics-")
BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("TEST_DATABASE_URL") else [])
SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"

# --- Hypothesis profiles ------------------------------------------------------------------------
# ``default``: 200 examples per property (fast enough for every run); ``slow``: 10,000, selected
# with HYPOTHESIS_PROFILE=slow. Examples are kept under the repository's (git-ignored)
# ``.hypothesis/``, wherever pytest is started from. A test's own ``@settings`` still wins.

for _name, _examples in (("default", 200), ("slow", 10_000)):
    settings.register_profile(
        _name,
        max_examples=_examples,
        deadline=None,
        database=DirectoryBasedExampleDatabase(
            Path(__file__).resolve().parents[1] / ".hypothesis" / "examples"
        ),
        suppress_health_check=[HealthCheck.too_slow],
    )
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's own settings (and .env) out of the tests."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("plugin.config.load_dotenv", lambda *a, **k: False)


# --- Redis -----------------------------------------------------------------------------------


def xdist_worker_index() -> int:
    """0 for a plain run; n for pytest-xdist's worker ``gw<n>`` (``make test`` runs several)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker.removeprefix("gw") or 0)


def local_redis_db() -> int:
    """The local Redis database index of this process: TEST_REDIS_DB (13 by default), plus the
    xdist worker's index, so parallel workers never flush each other's data."""
    index = int(os.environ.get("TEST_REDIS_DB", "13")) + xdist_worker_index()
    if index > 15:
        raise pytest.UsageError(
            f"Redis database {index} does not exist (0-15): lower TEST_REDIS_DB or the workers"
        )
    return index


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis for the session: TEST_REDIS_URL, the local server (db 13 + the xdist
    worker's index), or a private one."""
    configured = os.environ.get("TEST_REDIS_URL")
    if configured:
        yield configured
        return
    if answers(LOCAL_DEFAULT_URL):
        yield LOCAL_DEFAULT_URL.rsplit("/", 1)[0] + f"/{local_redis_db()}"
        return
    server = start_private_redis(tmp_path_factory.mktemp("redis"))
    yield server.url
    server.stop()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """The test Redis database, flushed before and after the test."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


# --- Database --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per session; each test gets a copy."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def worker_database_url(url: str) -> str:
    """TEST_DATABASE_URL for a plain run or xdist's first worker; for worker n, a database of
    its own beside it (``<name>_w<n>``), created on first use."""
    index = xdist_worker_index()
    if index == 0:
        return url
    parsed = make_url(url)
    name = f"{parsed.database}_w{index}"
    admin = make_engine(
        parsed.set(database="postgres").render_as_string(hide_password=False), pooled=False
    )
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).first()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """TEST_DATABASE_URL (one per xdist worker), emptied and migrated to head once per session."""
    url = worker_database_url(os.environ["TEST_DATABASE_URL"])
    engine = make_engine(url, pooled=False)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade(url)
    return url


def truncate_all(url: str) -> None:
    """Empty every table (keeping the schema and its Alembic revision)."""
    engine = make_engine(url, pooled=False)
    names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database for one test: SQLite always, PostgreSQL when configured."""
    if request.param == "sqlite":
        path = tmp_path / "app.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    truncate_all(url)
    return url


# --- The app ---------------------------------------------------------------------------------


@pytest.fixture
def app_config(tmp_path: Path, database_url: str, redis_url: str) -> dict[str, Any]:
    """Settings for a test app (tests may change them before asking for ``app``)."""
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret-key",
        "TOKEN_ENCRYPTION_KEY": TEST_TOKEN_KEY,
        "WTF_CSRF_ENABLED": False,
        "PUBLIC_URL": "http://localhost",
    }


@pytest.fixture
def make_app(redis_client: redis.Redis) -> Iterator[Callable[[dict[str, Any]], Any]]:
    """Build apps with a given config; their database pools are closed after the test."""
    from plugin import create_app

    created: list[Any] = []

    def make(config: dict[str, Any]) -> Any:
        application = create_app(config)
        created.append(application)
        return application

    yield make
    for application in created:
        application.extensions["db_engine"].dispose()


@pytest.fixture
def app(app_config: dict[str, Any], make_app: Callable[[dict[str, Any]], Any]):
    """The app on a fresh database and a flushed Redis."""
    import jobs.context

    application = make_app(app_config)
    jobs.context.use_app(application)
    yield application
    jobs.context.use_app(None)


@pytest.fixture
def client(app):
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def db_session(app):
    """A database session outside any request."""
    from plugin.db import session_scope

    with session_scope(app) as session:
        yield session


@pytest.fixture
def run_jobs(app) -> Callable[..., int]:
    """Run every queued job with a real RQ worker in burst mode; returns how many ended.

    ``fork=True`` uses RQ's forking Worker (a work-horse process per job, as in production);
    the default SimpleWorker runs jobs in this process.
    """
    from rq import SimpleWorker

    from plugin.infra.metered_worker import MeteredWorker as Worker  # the app's worker class
    from plugin.infra.queues import QUEUE_NAMES
    from plugin.infra.queues import get_queue
    from plugin.infra.queues import get_redis

    def ended() -> int:
        return sum(
            get_queue(n, app).finished_job_registry.count
            + get_queue(n, app).failed_job_registry.count
            for n in QUEUE_NAMES
        )

    def run(fork: bool = False, queues: tuple[str, ...] = QUEUE_NAMES) -> int:
        worker_class = Worker if fork else SimpleWorker
        worker = worker_class([get_queue(n, app) for n in queues], connection=get_redis(app))
        # No command channel for a burst run: RQ 3's pub/sub thread (sleep_time=60) can miss
        # the stop at teardown and hold the test for a minute (seen under load). No test
        # sends worker commands.
        worker.subscribe = worker.unsubscribe = lambda: None  # type: ignore[method-assign]
        before = ended()
        worker.work(burst=True, with_scheduler=False)
        return ended() - before

    return run


def shared_tool(name: str) -> Path | None:
    """A file from ../shared/tools, or None when this clone has no ../shared."""
    path = SHARED_DIR / "tools" / name
    return path if path.exists() else None


# --- People and organisations ------------------------------------------------------------------


@pytest.fixture
def make_member(db_session):
    """Create a user who is a member of a new organisation: ``make_member(name=..., ...)``."""
    from plugin.models import Membership
    from plugin.models import Organisation
    from plugin.models import User

    def make(
        xero_user_id: str = "user-1",
        tenant_id: str = "tenant-1",
        org_name: str = "Thames Stationery Ltd",
        **org_fields: Any,
    ) -> tuple[Any, Any]:
        user = db_session.exec(
            __import__("sqlmodel").select(User).where(User.xero_user_id == xero_user_id)
        ).first()
        if user is None:
            user = User(xero_user_id=xero_user_id, email=f"{xero_user_id}@example.com", name="Al")
            db_session.add(user)
        org = Organisation(xero_tenant_id=tenant_id, name=org_name, **org_fields)
        db_session.add(org)
        db_session.commit()
        db_session.add(Membership(user_id=user.id, organisation_id=org.id))
        db_session.commit()
        return user, org

    return make


@pytest.fixture
def sign_in(app) -> Callable[[Any, Any], Any]:
    """Sign a user in on a test client of ``app``: ``sign_in(client, user)``."""
    return lambda client, user: sign_in_on(app, client, user)


@pytest.fixture
def org(make_member) -> Any:
    """A UK organisation (tenant ``tenant-uk``, GBP) with its Amazon Business contact."""
    _, organisation = make_member(
        "alice", TENANT, "Acme Widgets Ltd", base_currency="GBP", amazon_contact_id="c-uk"
    )
    return organisation


# --- Mocked HTTP, fakes, and the clients on them -----------------------------------------------


@pytest.fixture
def http(request: pytest.FixtureRequest) -> Iterator[responses.RequestsMock]:
    """Mocked HTTP: unregistered URLs fail, and every registered response must be used.

    A test whose mocks may legitimately go unused says so with ``@pytest.mark.lenient_http``.
    """
    strict = request.node.get_closest_marker("lenient_http") is None
    with responses.RequestsMock(assert_all_requests_are_fired=strict) as mock:
        yield mock


@pytest.fixture
def clock() -> FakeClock:
    """Time that moves only when someone sleeps (pass ``clock`` and ``clock.sleep``)."""
    return FakeClock()


@pytest.fixture
def xero_tokens() -> FakeXeroTokens:
    """The Xero token source of the ``xero`` client (refreshes and reconnects recorded)."""
    return FakeXeroTokens()


@pytest.fixture
def xero(redis_client: redis.Redis, xero_tokens: FakeXeroTokens) -> XeroClient:
    """An Accounting API client for ``TENANT`` on the mocked Xero; it never waits for a slot."""
    limiter = XeroRateLimiter(redis_client, XeroLimits())
    return XeroClient(TENANT, xero_tokens, limiter, api_url=XERO_URL, max_wait=0)


# --- The live sandbox ----------------------------------------------------------------------------


@pytest.fixture
def sandbox_config() -> dict[str, Any]:
    """Settings of the live ``sandbox`` (an area overrides this fixture for other volumes)."""
    return {"SANDBOX_AMAZON_TRANSACTIONS": 40}


@pytest.fixture
def sandbox(sandbox_config: dict[str, Any]) -> Iterator[LiveSandbox]:
    """The sandbox served over real HTTP on a free localhost port, stopped after the test."""
    live = LiveSandbox(sandbox_config)
    yield live
    live.stop()


# --- Keeping the default run within CI's budget -------------------------------------------------

SANDBOX_FIXTURES = {
    "pipeline",
    "live_app",
    "sandbox",
    "e2e_scenario",  # tests/proof/scenario.py
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "lenient_http: the `http` mock lets registered responses go unused"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the end-to-end tests (live sandbox, workers, browser) on SQLite only by default.

    Every database-level test still runs on PostgreSQL too when TEST_DATABASE_URL is set; the
    end-to-end flows repeat on PostgreSQL with ``E2E_ON_POSTGRES=1`` (``make proof`` sets it).
    """
    if os.environ.get("E2E_ON_POSTGRES") == "1":
        return
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("database_url") == "postgres"
        if on_postgres and SANDBOX_FIXTURES & set(getattr(item, "fixturenames", ())):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
