"""The app factory: zero-configuration start, settings from the environment, refusals."""

from __future__ import annotations

import subprocess

import pytest

from plugin import create_app
from plugin.config import load_settings
from plugin.db import SchemaBehindError
from plugin.security import ConfigurationError
from tests.common.processes import ROOT
from tests.common.processes import clean_env
from tests.common.processes import free_port
from tests.common.processes import run
from tests.common.processes import stop
from tests.common.processes import wait_for_http


def test_starts_with_no_configuration_and_serves_healthz(tmp_path):
    """With nothing configured: SQLite under instance/, a Redis found or started, a dev key."""
    env = clean_env(INSTANCE_PATH=str(tmp_path / "instance"))
    migrated = run(["flask", "--app", "wsgi", "db-upgrade"], env)
    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / "instance" / "app.db").exists()

    port = free_port()
    process = subprocess.Popen(
        ["flask", "--app", "wsgi", "run", "--port", str(port), "--no-reload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert wait_for_http(f"http://127.0.0.1:{port}/healthz", process=process) == 200
    finally:
        output = stop(process)
    assert "Redis:" in output  # the log says which Redis is used
    assert (tmp_path / "instance" / "token-encryption.key").exists()


def test_refuses_to_start_when_schema_is_behind(tmp_path, redis_url):
    empty_db = tmp_path / "empty.db"
    with pytest.raises(SchemaBehindError, match="flask --app wsgi db-upgrade"):
        create_app(
            {
                "INSTANCE_PATH": str(tmp_path),
                "DATABASE_URL": f"sqlite:///{empty_db}",
                "REDIS_URL": redis_url,
            }
        )


def test_db_upgrade_command_works_on_an_empty_database(tmp_path):
    env = clean_env(INSTANCE_PATH=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    before = run(["flask", "--app", "wsgi", "db-current"], env)
    assert "database: (empty)" in before.stdout
    result = run(["flask", "--app", "wsgi", "db-upgrade"], env)
    assert result.returncode == 0, result.stderr
    after = run(["flask", "--app", "wsgi", "db-current"], env)
    database_line, code_line = after.stdout.strip().splitlines()
    assert database_line.split()[-1] == code_line.split()[-1]


def test_worker_command_refuses_a_schema_that_is_behind(tmp_path):
    env = clean_env(INSTANCE_PATH=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'y.db'}")
    result = run(["flask", "--app", "wsgi", "worker", "--burst"], env)
    assert result.returncode != 0
    assert "Run: flask --app wsgi db-upgrade" in result.stderr


def test_settings_come_from_the_environment():
    settings = load_settings(
        {"XERO_DAILY_CALL_BUDGET": "1000", "PUBLIC_URL": "https://x.test"}, dotenv=False
    )
    assert settings["XERO_DAILY_CALL_BUDGET"] == 1000
    assert settings["PUBLIC_URL"] == "https://x.test"
    assert settings["XERO_MINUTE_LIMIT"] == 60  # default kept


def test_dotenv_file_fills_gaps_but_the_environment_wins(tmp_path, monkeypatch):
    import os

    import dotenv

    import plugin.config

    (tmp_path / ".env").write_text("MAIL_FROM=dotenv@example.com\nLOG_LEVEL=DEBUG\n")
    monkeypatch.setattr(plugin.config, "ROOT", tmp_path)
    monkeypatch.setattr(plugin.config, "load_dotenv", dotenv.load_dotenv)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    try:
        settings = load_settings()
    finally:
        os.environ.pop("MAIL_FROM", None)
    assert settings["MAIL_FROM"] == "dotenv@example.com"
    assert settings["LOG_LEVEL"] == "WARNING"


@pytest.mark.parametrize("missing", ["TOKEN_ENCRYPTION_KEY", "SECRET_KEY"])
def test_production_refuses_to_start_without_secrets(tmp_path, redis_url, database_url, missing):
    config = {
        "APP_ENV": "production",
        "INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "s3cret-long-enough-for-production-0123",
        "TOKEN_ENCRYPTION_KEY": "",
    }
    if missing == "SECRET_KEY":
        from tests.conftest import TEST_TOKEN_KEY

        config["TOKEN_ENCRYPTION_KEY"] = TEST_TOKEN_KEY
        config["SECRET_KEY"] = ""
    with pytest.raises(ConfigurationError, match=missing):
        create_app(config)


def test_a_bad_encryption_key_is_reported(tmp_path, redis_url, database_url):
    with pytest.raises(ConfigurationError, match="not a valid Fernet key"):
        create_app(
            {
                "INSTANCE_PATH": str(tmp_path),
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
                "TOKEN_ENCRYPTION_KEY": "not-a-key",
            }
        )


def test_development_key_is_generated_once_and_reused(app_config, tmp_path, make_app):
    app_config.pop("TOKEN_ENCRYPTION_KEY")
    first = make_app(app_config)
    ciphertext = first.extensions["token_cipher"].encrypt("hello")
    second = make_app(app_config)
    assert second.extensions["token_cipher"].decrypt(ciphertext) == "hello"
