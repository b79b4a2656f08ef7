"""The Prometheus metrics every process records (``prometheus-client`` in multiprocess mode).

Gunicorn workers, RQ workers and their work-horses each write their counters to files in one
directory (``PROMETHEUS_MULTIPROC_DIR``, by default ``<instance>/prometheus``); ``GET /metrics``
(``plugin/views/metrics.py``) adds them up at scrape time, with the figures read there and then
(queue depths, entries by state: ``plugin/infra/metric_collectors.py``).

An RQ worker forks a work-horse per job. prometheus-client names each process's file by its pid,
which would leave one file per job behind (and every scrape reading them all); a work-horse here
writes to its worker's own horse file instead (``horse-<worker pid>``): a worker runs one horse
at a time, so no two live processes ever share a file (``enter_work_horse``).

Callers use the small functions below (``xero_call``, ``job_finished``, …), never the metric
objects, so the ledger and the clients stay free of Flask and of prometheus-client's API.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client import Counter
from prometheus_client import Histogram
from prometheus_client import values

ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600)

_horse_pid: int | None = None  # this process's pid when it is an RQ work-horse
_horse_of: int | None = None  # then: the pid of the worker that forked it


def process_identity() -> str:
    """The name of this process's metrics files: its pid, or its worker's horse file."""
    pid = os.getpid()
    if _horse_pid == pid:
        return f"horse-{_horse_of}"
    return str(pid)


def enter_work_horse() -> None:
    """Called first thing in a freshly forked RQ work-horse (``MeteredWorker``)."""
    global _horse_pid, _horse_of
    _horse_pid, _horse_of = os.getpid(), os.getppid()


def configure(default_dir: Path) -> Path:
    """Choose the multiprocess directory (``PROMETHEUS_MULTIPROC_DIR`` wins) for this process
    and its forks, and create it. Returns it."""
    directory = Path(os.environ.get(ENV) or default_dir)
    directory.mkdir(parents=True, exist_ok=True)
    os.environ[ENV] = str(directory)
    return directory


def multiprocess_dir() -> Path | None:
    """The directory the metrics files are in (None before ``configure``)."""
    value = os.environ.get(ENV)
    return Path(value) if value else None


@dataclass(frozen=True)
class _Metrics:
    jobs: Counter
    xero_calls: Counter
    amazon_calls: Counter
    posting_latency: Histogram
    registry: CollectorRegistry | None  # only when not in multiprocess mode


_metrics: _Metrics | None = None


def _build() -> _Metrics:
    """Create the metric objects: multiprocess values when the directory is configured, else
    plain in-process ones on a private registry (a script or test without the app)."""
    registry: CollectorRegistry | None = None
    if multiprocess_dir() is not None:
        values.ValueClass = values.MultiProcessValue(process_identity)
    else:
        values.ValueClass = values.MutexValue
        registry = CollectorRegistry()
    built = _Metrics(
        jobs=Counter(
            "abx_jobs",
            "Background jobs finished, by queue, job and outcome.",
            ["queue", "job", "outcome"],
            registry=registry,
        ),
        xero_calls=Counter(
            "abx_xero_calls",
            "Calls to the Xero API, by endpoint and status class (429 apart).",
            ["endpoint", "status"],
            registry=registry,
        ),
        amazon_calls=Counter(
            "abx_amazon_calls",
            "Calls to the Amazon Business API, by operation and status class (429 apart).",
            ["operation", "status"],
            registry=registry,
        ),
        posting_latency=Histogram(
            "abx_posting_latency_seconds",
            "From an entry's arrival in the ledger to its posting in Xero.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        ),
        registry=registry,
    )
    return built


def metrics() -> _Metrics:
    """The metric objects of this process (created on first use)."""
    global _metrics
    if _metrics is None:
        _metrics = _build()
    return _metrics


def status_class(status: int | None) -> str:
    """``2xx``, ``4xx``, ``5xx``…, ``429`` on its own, ``no_answer`` when none came."""
    if status is None:
        return "no_answer"
    if status == 429:
        return "429"
    return f"{status // 100}xx"


def xero_endpoint(path: str) -> str:
    """The endpoint family of an Accounting API path: ``Invoices/abc/Attachments/x.pdf`` ->
    ``Invoices/Attachments`` (ids and file names dropped, so the labels stay few)."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    family = parts[0]
    if len(parts) >= 3 and parts[2] in {"Attachments", "History", "Allocations", "Payments"}:
        family += "/" + parts[2]
    return family


def xero_call(path: str, status: int | None) -> None:
    """Count one call to Xero."""
    metrics().xero_calls.labels(xero_endpoint(path), status_class(status)).inc()


def amazon_call(operation: str, status: int | None) -> None:
    """Count one call to Amazon Business."""
    metrics().amazon_calls.labels(operation, status_class(status)).inc()


def job_finished(queue: str, job: str, outcome: str) -> None:
    """Count one job run ending (``succeeded``, ``failed``, ``retried``, ``stopped``)."""
    metrics().jobs.labels(queue, job, outcome).inc()


def entries_posted(latencies_seconds: Iterable[float]) -> None:
    """Observe the time each newly posted entry waited between the ledger and Xero."""
    histogram = metrics().posting_latency
    for seconds in latencies_seconds:
        histogram.observe(max(0.0, seconds))
