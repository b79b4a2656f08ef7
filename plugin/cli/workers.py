"""``flask worker`` (an RQ worker with its scheduler) and ``flask cron`` (RQ's cron scheduler)."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext

from plugin.cli.database import needs_current_schema
from plugin.infra.queues import QUEUE_NAMES
from plugin.infra.queues import get_queue
from plugin.infra.queues import get_redis

__all__ = ["cron", "worker"]

log = logging.getLogger(__name__)


@click.command("worker")
@with_appcontext
@click.option("--burst", is_flag=True, help="Exit once the queues are empty.")
@click.option(
    "--queues",
    default=",".join(QUEUE_NAMES),
    show_default=True,
    help="Comma-separated queue names, highest priority first.",
)
@click.option("--name", default=None, help="Worker name (defaults to RQ's).")
@needs_current_schema
def worker(burst: bool, queues: str, name: str | None) -> None:
    """Run an RQ worker with its scheduler (delayed jobs and retries) on the app's Redis."""
    import jobs.context

    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger("plugin").setLevel(logging.INFO)
    log.info("Worker on Redis %s", current_app.config["REDIS_URL"].split("@")[-1])

    # Jobs run in forks of this process: let them reuse this app (engines are re-pooled).
    jobs.context.use_app(current_app._get_current_object())  # type: ignore[attr-defined]
    names = [n.strip() for n in queues.split(",") if n.strip()]
    unknown = set(names) - set(QUEUE_NAMES)
    if unknown:
        raise click.BadParameter(f"unknown queues: {', '.join(sorted(unknown))}")
    from plugin.infra.worker_runner import run_worker
    from plugin.work.recovery import queue_resume

    # Work a killed worker left half done (an import still "running", entries still "posting")
    # is queued again at every start, not at the next hourly sync (plugin/work/recovery.py). A lost
    # Redis does not end the process: run_worker waits for it and starts a fresh RQ worker.
    run_worker([get_queue(n) for n in names], get_redis(), name, burst, on_start=queue_resume)


@click.command("cron")
@with_appcontext
@needs_current_schema
def cron() -> None:
    """Run RQ's cron scheduler with jobs/schedule.py (hourly sync, daily contact checks)."""
    from rq.cron import CronScheduler

    logging.getLogger().setLevel(logging.INFO)

    scheduler = CronScheduler(connection=get_redis(), logging_level="INFO")
    scheduler.load_config_from_file("jobs.schedule")
    scheduler.start()
