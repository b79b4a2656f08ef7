"""plugin/infra/log_context.py: JSON log lines (LOG_FORMAT=json) carry the request or job id and
the organisation id, and never a token."""

from __future__ import annotations

import io
import json
import logging

import pytest
from rq import SimpleWorker

from plugin.infra import log_context
from plugin.infra.queues import get_queue
from plugin.infra.queues import get_redis

SECRET = "eyJhbGciOi.secret-access-token"


def job_that_logs(org_id: int, note: str) -> str:
    """A job (run by the worker below) that logs a line with a token in it."""
    logging.getLogger("plugin.tests").warning("Job for %s used Bearer %s", org_id, SECRET)
    return note


@pytest.fixture
def json_lines():
    """The JSON lines logged through a handler set up as the app sets up its own."""
    stream = io.StringIO()
    handler = log_context.install(logging.StreamHandler(stream), "json")
    root = logging.getLogger()
    root.addHandler(handler)
    level = logging.getLogger("plugin").level
    logging.getLogger("plugin").setLevel(logging.INFO)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    root.removeHandler(handler)
    logging.getLogger("plugin").setLevel(level)


def test_a_request_line_has_its_request_id_and_organisation_and_no_token(
    app, make_member, sign_in, json_lines
):
    user, org = make_member()

    @app.after_request
    def _log(response):
        logging.getLogger("plugin.tests").warning(
            "Called Xero with Authorization: Bearer %s and refresh_token=%s", SECRET, "rt-123"
        )
        return response

    client = app.test_client()
    sign_in(client, user)
    response = client.get(f"/orgs/{org.id}/manage", headers={"X-Request-ID": "req-42"})
    assert response.headers["X-Request-ID"] == "req-42"
    [line] = [line for line in json_lines() if line["logger"] == "plugin.tests"][-1:]
    assert line["request_id"] == "req-42"
    assert line["org_id"] == org.id
    assert line["level"] == "WARNING"
    assert SECRET not in json.dumps(line)
    assert "rt-123" not in json.dumps(line)
    assert "Bearer [redacted]" in line["message"]


def test_a_request_without_a_sane_id_gets_a_fresh_one(client):
    first = client.get("/healthz", headers={"X-Request-ID": 'bad id {json: "x"}' + "x" * 80})
    second = client.get("/healthz")
    assert len(first.headers["X-Request-ID"]) == 32
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


def test_a_job_line_has_its_job_id_and_organisation(app, json_lines):
    with app.app_context():
        job = get_queue("high").enqueue_call(
            "tests.infra.test_log_context.job_that_logs", args=(77, "hi")
        )
        SimpleWorker([get_queue("high")], connection=get_redis()).work(burst=True)
    [line] = [line for line in json_lines() if line["logger"] == "plugin.tests"]
    assert line["job_id"] == job.id
    assert line["org_id"] == 77
    assert line["request_id"] is None
    assert SECRET not in line["message"]


def test_tracebacks_are_redacted_too(json_lines):
    try:
        raise RuntimeError(f"token refused: access_token={SECRET}")
    except RuntimeError:
        logging.getLogger("plugin.tests").exception("Failed")
    [line] = json_lines()
    assert "RuntimeError" in line["exc_info"]
    assert SECRET not in line["exc_info"]


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Authorization: Bearer abc.def-ghi", "Authorization: Bearer [redacted]"),
        ('{"refresh_token": "r-1", "expires_in": 1800}', '"refresh_token": "[redacted]"'),
        ("x-amz-access-token=Atza|IwEBIA-xyz", "x-amz-access-token=[redacted]"),
        ("got Atzr|IwEBIB-abc back", "got [redacted] back"),
        ("GET /xero/callback?code=c-1&state=s-2 200", "code=[redacted]&state=[redacted]"),
        ("client_secret=shh&grant_type=refresh_token", "client_secret=[redacted]"),
    ],
)
def test_redact_takes_out_every_kind_of_secret(text, kept):
    redacted = log_context.redact(text)
    assert kept in redacted
    for secret in ("abc.def-ghi", "r-1", "IwEBIA-xyz", "IwEBIB-abc", "c-1", "s-2", "shh"):
        assert secret not in redacted


def test_text_stays_the_default_format():
    assert isinstance(log_context.formatter_for("text"), log_context.TextFormatter)
    assert isinstance(log_context.formatter_for("JSON"), log_context.JsonLineFormatter)


def test_gunicorn_lines_are_json_with_the_request_id(monkeypatch, capsys):
    import runpy
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    from tests.common.processes import ROOT

    monkeypatch.setenv("LOG_FORMAT", "json")
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    config = Config()
    config.set("logger_class", settings["logger_class"])
    config.set("accesslog", settings["accesslog"])
    logger = config.logger_class(config)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/xero/callback?code=SECRET-CODE",
        "PATH_INFO": "/xero/callback",
        "QUERY_STRING": "code=SECRET-CODE",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }
    response = SimpleNamespace(status="302 FOUND", sent=0, headers=[("X-Request-ID", "req-7")])
    logger.access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=3))
    [line] = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert line["logger"] == "gunicorn.access"
    assert line["request_id"] == "req-7"
    assert "GET /xero/callback?code=[redacted]" in line["message"]
    assert "SECRET" not in json.dumps(line)


def test_a_real_worker_logs_json_with_the_job_and_organisation_of_a_failed_job(app, app_config):
    from tests.common.processes import ROOT
    from tests.common.processes import VENV_BIN
    from tests.common.processes import clean_env
    from tests.common.processes import run

    with app.app_context():
        job = get_queue("high").enqueue_call("jobs.posting.post_ready", args=(4242,))
    env = clean_env(
        PYTHONPATH=str(ROOT),
        LOG_FORMAT="json",
        DATABASE_URL=app_config["DATABASE_URL"],
        REDIS_URL=app_config["REDIS_URL"],
        INSTANCE_PATH=app_config["INSTANCE_PATH"],
        SECRET_KEY=app_config["SECRET_KEY"],
        TOKEN_ENCRYPTION_KEY=app_config["TOKEN_ENCRYPTION_KEY"],
    )
    done = run([str(VENV_BIN / "flask"), "--app", "wsgi", "worker", "--burst"], env)
    lines = [json.loads(text) for text in (done.stdout + done.stderr).splitlines()]
    assert lines  # every line parsed as JSON
    [failure] = [line for line in lines if line["level"] == "ERROR"]
    assert "organisation 4242 does not exist" in failure["message"]
    assert failure["job_id"] == job.id
    assert failure["org_id"] == 4242
