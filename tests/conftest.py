"""Shared fixtures: the app on a fresh database (SQLite, and PostgreSQL when TEST_DATABASE_URL
is set), a real Redis on a flushed test database index, and real RQ workers in burst mode."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from cryptography.fernet import Fernet
from sqlalchemy import text

from plugin.config import SETTINGS
from plugin.db import make_engine
from plugin.db import upgrade
from plugin.infra.redis_server import LOCAL_DEFAULT_URL
from plugin.infra.redis_server import answers
from plugin.infra.redis_server import start_private_redis
from plugin.models import metadata

TEST_TOKEN_KEY = Fernet.generate_key().decode()
BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("TEST_DATABASE_URL") else [])
SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's own settings (and .env) out of the tests."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("plugin.config.load_dotenv", lambda *a, **k: False)


# --- Redis -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis for the session: TEST_REDIS_URL, the local server (db 13), or a private one."""
    configured = os.environ.get("TEST_REDIS_URL")
    if configured:
        yield configured
        return
    if answers(LOCAL_DEFAULT_URL):
        yield LOCAL_DEFAULT_URL.rsplit("/", 1)[0] + "/" + os.environ.get("TEST_REDIS_DB", "13")
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


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """TEST_DATABASE_URL, emptied and migrated to head once per session."""
    url = os.environ["TEST_DATABASE_URL"]
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
    from rq import Worker

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
def sign_in(app):
    """Sign a user in on a test client, as flask-login's strong session protection expects."""
    from flask_login.utils import _create_identifier

    def sign(client: Any, user: Any) -> Any:
        with app.test_request_context(environ_base=client.environ_base):
            identifier = _create_identifier()
        with client.session_transaction() as session:
            session["_user_id"] = str(user.id)
            session["_fresh"] = True
            session["_id"] = identifier
        return client

    return sign


# --- Keeping the default run within CI's budget -------------------------------------------------

SANDBOX_FIXTURES = {
    "pipeline",
    "live_app",
    "sandbox",
    "live",
    "live_sandbox_for_browser",
    "e2e_scenario",  # tests/proof/scenario.py
}


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
