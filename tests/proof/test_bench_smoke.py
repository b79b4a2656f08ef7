"""The benchmark scripts (``scripts/bench_*.py``) run end to end at a tiny size and print their
figures: a smoke test for CI, not a timed test. The full-size runs are ``-m slow``
(``make proof``); their figures belong in docs/performance.md, not in assertions."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.common.processes import ROOT

SCRIPTS = ROOT / "scripts"


def run_script(name: str, *args: str, timeout: float = 300) -> str:
    """Run a benchmark script with this interpreter; assert it exits 0; return its output."""
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / name), *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "result: OK" in done.stdout, output[-4000:]
    return done.stdout


def figure(output: str, name: str) -> str:
    """The value printed on the ``name: value`` line."""
    match = re.search(rf"^{re.escape(name)}: (.+?)(?:  \(|$)", output, re.M)
    assert match, f"no '{name}' line in:\n{output[-3000:]}"
    return match.group(1).strip()


def isolated(redis_url: str, name: str) -> list[str]:
    """Arguments that keep a run off the benchmarks' own database and Redis index."""
    return ["--redis-url", redis_url, "--database-name", f"abx_smoke_{name}"]


IMPORT_FIGURES = (
    "transactions",
    "xero calls made",
    "calls per transaction",
    "wall time",
    "sandbox time",
    "rate-limit floor",
    "ratio to floor",
    "postable documents",
    "rate-limit floor, postable",
    "ratio to postable floor",
    "duplicates in the sandbox",
    "entries not posted",
)
ORGS_FIGURES = (
    "orgs synced",
    "429s from the sandbox",
    "429s per org (max)",
    "max calls in any minute, one org",
    "max calls in any minute, app-wide",
    "completion time spread",
    "duplicates in the sandbox",
    "jobs done per machine",
)


def test_bench_import_tiny(redis_url):
    output = run_script(
        "bench_import.py",
        "--transactions",
        "100",
        "--translate-count",
        "500",
        *isolated(redis_url, "import"),
    )
    for name in IMPORT_FIGURES:
        figure(output, name)
    assert figure(output, "duplicates in the sandbox") == "0"
    assert figure(output, "transactions imported") == "100"
    assert figure(output, "429s from the sandbox") == "0"
    assert int(figure(output, "xero calls made")) > 0
    assert "translate 500 transactions (posting.translate_all)" in output
    assert figure(output, "tie-out: every month ties out to the cent") == "yes"


def test_bench_many_orgs_tiny(redis_url):
    output = run_script(
        "bench_many_orgs.py",
        "--orgs",
        "5",
        "--transactions",
        "20",
        "--workers",
        "2",
        "--machines",  # one worker per process group with its own instance directory
        "2",
        "--during-recovery",  # the imports meet the workers' start-up recovery job
        *isolated(redis_url, "orgs"),
    )
    for name in ORGS_FIGURES:
        figure(output, name)
    assert figure(output, "orgs synced") == "5 / 5"
    assert figure(output, "duplicates in the sandbox") == "0"
    assert figure(output, "429s from the sandbox") == "0"
    assert int(figure(output, "max calls in any minute, one org")) <= 60


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_bench_web_tiny(redis_url):
    output = run_script(
        "bench_web.py",
        "--entries",
        "2000",
        "--duration",
        "1",
        "--connections",
        "2",
        *isolated(redis_url, "web"),
    )
    assert figure(output, "p95 healthz").endswith(" ms")
    assert figure(output, "errors") == "0"
    # Manage Integrations was really measured (signed in), not skipped.
    assert re.fullmatch(r"\d+(\.\d+)?", figure(output, "ratio manage p95 / healthz p95"))
    assert figure(output, "p95 manage").endswith(" ms")


# --- Full size (make proof) --------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("size", ["5000", "10000"])
def test_bench_import_full(redis_url, size):
    output = run_script(
        "bench_import.py", "--transactions", size, *isolated(redis_url, "import"), timeout=3600
    )
    assert figure(output, "duplicates in the sandbox") == "0"


@pytest.mark.slow
def test_bench_many_orgs_full(redis_url):
    output = run_script("bench_many_orgs.py", *isolated(redis_url, "orgs"), timeout=3600)
    assert figure(output, "orgs synced") == "200 / 200"
    assert figure(output, "duplicates in the sandbox") == "0"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_bench_web_full(redis_url):
    output = run_script("bench_web.py", *isolated(redis_url, "web"), timeout=3600)
    assert figure(output, "errors") == "0"
