"""Benchmark: many organisations syncing at once through a small pool of real RQ workers.

Adds ``--orgs`` Xero organisations and as many Amazon Business accounts to the sandbox
(``POST /_sandbox/bulk-orgs``: ``--transactions`` purchases each over 90 days, one UK store),
installs the app for each through the sandbox's consent pages (one Xero user per organisation,
as App Store installs are), connects its Amazon Business store and maps it, then queues every
organisation's historical import at the same moment and lets ``--workers`` real
``flask --app wsgi worker`` processes import and post everything, against the sandbox enforcing
Xero's limits (5 concurrent and 60 per minute per organisation, app-wide per minute).

It prints: organisations synced, the 429s the sandbox answered (per organisation and
app-wide), the most calls any one organisation got in a sliding minute against 60, the most
calls app-wide in a sliding minute against the app-wide limit, the spread of the
organisations' completion times (min / p50 / p95 / max from the moment all were queued), and
the duplicates found in the sandbox (must be 0: the script exits 1 otherwise, or when an
organisation was not synced).

Usage: ``python scripts/bench_many_orgs.py [--orgs 200] [--transactions 200] [--workers 4]
[--app-limit 10000] [--during-recovery] [--database-url URL]
[--redis-url redis://127.0.0.1:6379/3]``. ``--during-recovery`` queues the imports the moment
the workers are up, while their start-up ``resume-interrupted`` job runs (the smoke test does).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchlib import DEFAULT_REDIS_URL
from benchlib import Stack
from benchlib import check_documents
from benchlib import connect_org
from benchlib import failed_jobs
from benchlib import figure
from benchlib import finish_setup
from benchlib import make_stack
from benchlib import percentile
from benchlib import queue_import_and_post
from benchlib import queues_idle
from benchlib import resumed_jobs
from benchlib import say
from benchlib import split_housekeeping
from benchlib import wait_for_workers
from benchlib import wait_until


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orgs", type=int, default=200)
    parser.add_argument("--transactions", type=int, default=200, help="per organisation")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--machines",
        type=int,
        default=1,
        help="start the workers as this many process groups, each with its own instance "
        "directory, as separate machines sharing only PostgreSQL and Redis would run them",
    )
    parser.add_argument(
        "--app-limit",
        type=int,
        default=10_000,
        help="app-wide calls per minute, in the sandbox and the app (Xero's is 10,000)",
    )
    parser.add_argument("--database-url", default=None, help="default: PostgreSQL or SQLite")
    parser.add_argument("--database-name", default="abx_bench_orgs")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument(
        "--during-recovery",
        action="store_true",
        help="queue the imports while the workers' start-up recovery job runs (its races)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the instance directory")
    return parser.parse_args(argv)


def jobs_by_machine(stack: Stack) -> dict[str, int]:
    """Jobs each machine's workers finished (RQ's per-worker counts, read before they stop)."""
    from rq import Worker

    from plugin.infra.queues import get_redis

    counts: Counter[str] = Counter()
    for worker in Worker.all(connection=get_redis(stack.app)):
        if worker.name in stack.worker_names:
            machine = worker.name.split("-")[-2]  # bench-<pid>-m<k>-<n>
            counts[machine] += worker.successful_job_count + worker.failed_job_count
    return dict(sorted(counts.items())) if len(counts) > 1 else {}


def main(argv: list[str] | None = None) -> int:
    from sqlalchemy import func
    from sqlmodel import col
    from sqlmodel import select

    from plugin.db import session_scope
    from plugin.models import EntryState
    from plugin.models import ImportRun
    from plugin.models import LedgerEntry
    from plugin.models import RunState
    from plugin.models import utcnow
    from tests.common.pipeline import thames_mapping

    args = parse_args(argv)
    instance = Path(tempfile.mkdtemp(prefix="abx-bench-orgs-"))
    say(
        f"# bench_many_orgs: {args.orgs} orgs x {args.transactions} transactions, "
        f"{args.workers} workers on {args.machines} machine(s), "
        f"app-wide limit {args.app_limit}/min"
    )
    stack = make_stack(
        instance,
        args.database_name,
        args.database_url,
        args.redis_url,
        {"SANDBOX_AMAZON_TRANSACTIONS": 10},
    )
    try:
        say(
            f"# database {stack.config['DATABASE_URL'].split('@')[-1]}, sandbox {stack.sandbox.url}"
        )
        setup_start = time.monotonic()
        created = stack.sandbox.post(
            "/_sandbox/bulk-orgs",
            {"count": args.orgs, "transactions": args.transactions, "days": args.days},
        )["created"]
        org_ids: dict[int, str] = {}
        mapping = thames_mapping(include_new_card=True)
        for item in created:
            org = connect_org(
                stack, item["xeroUser"], item["tenantName"], [("UK", item["amazonUser"])]
            )
            finish_setup(stack, int(org.id or 0), mapping)
            org_ids[int(org.id or 0)] = org.xero_tenant_id
        setup_seconds = time.monotonic() - setup_start
        say(f"# set-up of {len(org_ids)} orgs (install, connect, map): {setup_seconds:.0f} s")

        before = stack.sandbox.get("/_sandbox/xero/stats")
        # Set-up ran at Xero's real limits; the run itself at --app-limit (workers and sandbox).
        stack.config["XERO_APP_MINUTE_LIMIT"] = args.app_limit
        stack.sandbox.post("/_sandbox/limits", {"SANDBOX_XERO_APP_MINUTE_LIMIT": args.app_limit})
        stack.start_workers(args.workers, args.machines)
        wait_for_workers(stack, startup=not args.during_recovery)
        stack.sandbox.post("/_sandbox/call-log", {"enabled": True})
        started = utcnow()
        t0 = time.monotonic()
        run_ids = {org_id: queue_import_and_post(stack, org_id, args.days) for org_id in org_ids}
        queued = time.monotonic() - t0
        idle_polls = [0]

        def finished() -> bool:
            with session_scope(stack.app) as db:
                open_runs = db.exec(
                    select(func.count()).where(
                        col(ImportRun.id).in_(list(run_ids.values())),
                        col(ImportRun.state).not_in([RunState.SUCCEEDED, RunState.FAILED]),
                    )
                ).one()
            if open_runs:
                return False
            idle_polls[0] = idle_polls[0] + 1 if queues_idle(stack) else 0
            return idle_polls[0] >= 3

        wait_until(finished, args.timeout, stack, poll=1.0)
        wall = time.monotonic() - t0 - 2.0  # the last two idle polls are not work
        by_machine = jobs_by_machine(stack)
        after = stack.sandbox.get("/_sandbox/xero/stats")
        calls_log = stack.sandbox.get("/_sandbox/call-log/summary")
        failures, housekeeping = split_housekeeping(failed_jobs(stack))
        resumed = resumed_jobs(stack)

        per_org: dict[int, dict[str, Any]] = {}
        duplicates = untracked = missing = 0
        with session_scope(stack.app) as db:
            for org_id, tenant in org_ids.items():
                run = db.get(ImportRun, run_ids[org_id])
                assert run is not None
                entries = list(
                    db.exec(select(LedgerEntry).where(LedgerEntry.organisation_id == org_id))
                )
                posted = {
                    e.amazon_transaction_id: str(e.xero_document_id)
                    for e in entries
                    if e.state == EntryState.POSTED and e.xero_document_id
                }
                moments = [e.posted_at for e in entries if e.posted_at] + [run.finished_at]
                done_at = max(m for m in moments if m is not None)
                pending = [
                    e
                    for e in entries
                    if e.state in (EntryState.FETCHED, EntryState.READY, EntryState.POSTING)
                ]
                per_org[org_id] = {
                    "synced": run.state == RunState.SUCCEEDED and not pending and bool(posted),
                    "done": (done_at - started).total_seconds(),
                    "entries": len(entries),
                    "posted": len(posted),
                    "held": Counter(e.reason_code for e in entries if e.state == EntryState.HELD),
                }
                check = check_documents(stack.sandbox, tenant, posted)
                duplicates += check.duplicates
                untracked += check.untracked
                missing += check.missing
    finally:
        stack.stop()
        if not args.keep:
            shutil.rmtree(instance, ignore_errors=True)

    tenants = set(org_ids.values())
    calls = sum(
        int(after["api_calls"].get(t, 0)) - int(before["api_calls"].get(t, 0)) for t in tenants
    )
    limited = Counter(after["rate_limited"]["by_problem"]) - Counter(
        before["rate_limited"]["by_problem"]
    )
    limited_orgs = Counter(after["rate_limited"]["by_tenant"]) - Counter(
        before["rate_limited"]["by_tenant"]
    )
    synced = sum(1 for o in per_org.values() if o["synced"])
    done = [o["done"] for o in per_org.values()]
    held = sum((o["held"] for o in per_org.values()), Counter())
    total_entries = sum(o["entries"] for o in per_org.values())
    total_posted = sum(o["posted"] for o in per_org.values())

    say("")
    figure("orgs synced", f"{synced} / {len(per_org)}")
    figure("transactions", total_entries, f"{total_posted} posted, {sum(held.values())} held")
    figure("held by reason", dict(held.most_common()) or "none")
    figure("xero calls made", calls, f"{calls / max(len(per_org), 1):.1f} per org")
    figure("wall time", f"{wall:.1f} s", f"all {len(per_org)} imports queued in {queued:.1f} s")
    figure(
        "429s from the sandbox",
        sum(limited.values()),
        f"by limit {dict(limited) or 'none'}; orgs that saw one: {len(limited_orgs)}",
    )
    figure("429s per org (max)", max(limited_orgs.values(), default=0))
    figure(
        "max calls in any minute, one org",
        calls_log["max_tenant_calls_per_minute"],
        f"limit {calls_log['tenant_minute_limit']}; orgs over it: "
        f"{len(calls_log['tenants_over_limit'])}",
    )
    figure(
        "max calls in any minute, app-wide",
        calls_log["max_app_calls_per_minute"],
        f"limit {calls_log['app_minute_limit']}",
    )
    figure(
        "completion time spread",
        f"min {min(done, default=0):.1f} s / p50 {percentile(done, 0.5):.1f} s / "
        f"p95 {percentile(done, 0.95):.1f} s / max {max(done, default=0):.1f} s",
        "from the moment all imports were queued",
    )
    figure("jobs done per machine", by_machine or "one machine")
    figure("duplicates in the sandbox", duplicates)
    figure("documents the ledger does not know", untracked)
    figure("posted entries missing from the sandbox", missing)
    figure("failed jobs", len(failures), "unrecovered, the /healthz rule")
    figure("resumed jobs", resumed, "killed, their work resumed by recovery: not failures")
    figure("failed housekeeping jobs", len(housekeeping), "jobs.recovery; see docs/performance.md")
    for failure in failures[:5]:
        say("  " + failure.replace("\n", " | ")[:300])
    over = calls_log["tenants_over_limit"] or calls_log["max_app_calls_per_minute"] > args.app_limit
    ok = duplicates == 0 and synced == len(per_org) and not failures and not over
    say("result: " + ("OK" if ok else "FAILED (duplicates, unsynced orgs, limits or failed jobs)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
