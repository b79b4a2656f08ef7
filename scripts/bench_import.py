"""Benchmark: a full import + post of N Amazon Business transactions for one organisation.

Generates N transactions (default 5,000 over 90 days; ``--large`` for 10,000) for the sandbox's
Thames Stationery account (its UK and DE stores), installs the app for the Thames Xero org
through the sandbox's consent pages, connects both stores, maps everything, then times the
historical import and the posting that follows it, run by real RQ workers
(``flask --app wsgi worker``) against the sandbox enforcing Xero's limits (5 concurrent,
60 calls per minute per organisation, the daily budget, the app-wide minute limit).

It prints the transactions, the Xero calls made (and per transaction), the wall time, the
rate-limit floor for that volume (ceil(N/50) batch calls at 60/min) and the ratio to it, the
same for the documents that could be posted (held entries excluded: ceil(postable/50)) and for
every write they need (full batches per endpoint and the card-bill payments), the duplicates
found in the sandbox (must be 0: the script exits 1 otherwise), the entries not posted and why,
the tie-out report per month (Amazon's total = in Xero + held + waiting, to the
cent: the script exits 1 when a month does not tie out), and the time ``plugin.posting`` alone
takes to translate 10,000 transactions.

Clock speed-up (``--clock-speed S``, default 1 = real time): the sandbox's clock runs S times
faster, so its minute windows (and token lifetimes) pass S times faster in wall time; the app's
limiter is given S times Xero's per-minute limits so both sides still mean "60 calls per
sandbox minute". Figures are printed in wall time and in sandbox time (wall x S); the ratio to
the floor is computed in sandbox time, which is what "at 60/min" means. The app's limiter keeps
a 60-second window of wall time, so with S > 1 it may let through bursts that the sandbox's
shorter window refuses (counted as 429s). Use S = 1 for the real-limit figures.

Usage: ``python scripts/bench_import.py [--transactions 5000 | --large] [--workers 2]
[--clock-speed 1] [--database-url URL] [--redis-url redis://127.0.0.1:6379/3]``
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC
from datetime import datetime
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
from benchlib import queue_import_and_post
from benchlib import queues_idle
from benchlib import resumed_jobs
from benchlib import say
from benchlib import split_housekeeping
from benchlib import wait_for_workers
from benchlib import wait_until

THAMES_ORG = "Thames Stationery Ltd"
THAMES_ADMIN = "buyer-admin-uk@example.com"
BATCH = 50
XERO_MINUTE = 60
TRANSLATE_COUNT = 10_000
# The DE store's EUR purchases on the GBP cards: bills in EUR paid from the card account.
FOREIGN_CURRENCY = "bill_paid_from_account"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transactions", type=int, default=5000, help="N (default 5,000)")
    parser.add_argument("--large", action="store_true", help="N = 10,000")
    parser.add_argument("--days", type=int, default=90, help="history window (default 90)")
    parser.add_argument("--workers", type=int, default=2, help="RQ workers (default 2)")
    parser.add_argument("--clock-speed", type=float, default=1.0, help="sandbox clock speed")
    parser.add_argument("--database-url", default=None, help="default: PostgreSQL or SQLite")
    parser.add_argument("--database-name", default="abx_bench_import")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--timeout", type=float, default=3600, help="give up after (s)")
    parser.add_argument(
        "--translate-count", type=int, default=TRANSLATE_COUNT, help="0 skips the timing"
    )
    parser.add_argument("--keep", action="store_true", help="keep the instance directory")
    args = parser.parse_args(argv)
    if args.large:
        args.transactions = 10_000
    return args


def translate_timing(count: int) -> tuple[float, float, Any]:
    """(parse seconds, translate seconds, summary) for ``count`` generated transactions."""
    from plugin import posting
    from plugin.amazon.models import parse_transaction
    from plugin.mapping import files as mapping_file
    from plugin.mapping.chart import chart_from_document
    from sandbox.amazon.generator import generate_account
    from sandbox.amazon.profiles import THAMES
    from sandbox.xero.build import build_world
    from tests.common.pipeline import thames_mapping

    tenant = next(t for t in build_world(42).tenants.values() if t.name == THAMES_ORG)
    contact = next(c for c, v in tenant.contacts.items() if v["Name"] == "Amazon Business")
    chart = chart_from_document(
        {
            "Organisation": tenant.organisation,
            "Accounts": tenant.accounts,
            "TaxRates": tenant.tax_rates,
            "Currencies": tenant.currencies,
            "Contact": {"ContactID": contact},
        }
    )
    mapping = mapping_file.load_mapping(
        thames_mapping(include_new_card=True, foreign_currency=FOREIGN_CURRENCY), "benchmark"
    )
    raw = generate_account(THAMES, seed=42, end=datetime.now(UTC), days=90, count=count)
    start = time.perf_counter()
    parsed = [parse_transaction(tx) for tx in raw]
    parse_seconds = time.perf_counter() - start
    context = posting.PostingContext(
        entry_url=posting.url_template("http://127.0.0.1:5000/orgs/1/entries/{transaction_id}")
    )
    start = time.perf_counter()
    plan = posting.translate_all(parsed, mapping, chart, context)
    translate_seconds = time.perf_counter() - start
    return parse_seconds, translate_seconds, posting.summarise(plan)


def run(args: argparse.Namespace) -> int:
    from sqlmodel import col
    from sqlmodel import select

    from plugin.db import session_scope
    from plugin.manage.tie_out_query import tie_out_report
    from plugin.models import EntryState
    from plugin.models import ImportRun
    from plugin.models import LedgerEntry
    from plugin.models import Organisation
    from plugin.models import RunState
    from plugin.models import utcnow
    from plugin.work.card_payment_model import CardPayment
    from tests.common.pipeline import thames_mapping

    n, speed = args.transactions, args.clock_speed
    instance = Path(tempfile.mkdtemp(prefix="abx-bench-import-"))
    say(f"# bench_import: N={n} over {args.days} days, {args.workers} workers, clock x{speed:g}")
    stack: Stack = make_stack(
        instance,
        args.database_name,
        args.database_url,
        args.redis_url,
        {"SANDBOX_AMAZON_TRANSACTIONS": n, "SANDBOX_AMAZON_HISTORY_DAYS": args.days},
        {
            "XERO_MINUTE_LIMIT": round(XERO_MINUTE * speed),
            "XERO_APP_MINUTE_LIMIT": round(10_000 * speed),
        },
    )
    try:
        say(
            f"# database {stack.config['DATABASE_URL'].split('@')[-1]}, sandbox {stack.sandbox.url}"
        )
        accounts = stack.sandbox.get("/_sandbox/amazon/accounts")["accounts"]
        thames = next(a for a in accounts if a["key"] == "thames")
        per_store = {s["store"]: s["transactions"] for s in thames["stores"]}
        org = connect_org(
            stack, "alice@example.com", THAMES_ORG, [(s, THAMES_ADMIN) for s in per_store]
        )
        org_id, tenant = int(org.id or 0), org.xero_tenant_id
        finish_setup(
            stack, org_id, thames_mapping(include_new_card=True, foreign_currency=FOREIGN_CURRENCY)
        )
        before = stack.sandbox.get("/_sandbox/xero/stats")
        stack.sandbox.post("/_sandbox/call-log", {"enabled": True})
        stack.start_workers(args.workers)
        wait_for_workers(stack)
        stack.sandbox.post("/_sandbox/clock", {"speed": speed})
        sandbox_start = stack.sandbox.post("/_sandbox/clock", {})["now"]

        started = utcnow()
        t0 = time.monotonic()
        run_id = queue_import_and_post(stack, org_id, args.days)

        idle_polls = [0]

        def finished() -> bool:
            with session_scope(stack.app) as db:
                current = db.get(ImportRun, run_id)
                if current is None or current.state not in (RunState.SUCCEEDED, RunState.FAILED):
                    return False
            idle_polls[0] = idle_polls[0] + 1 if queues_idle(stack) else 0
            return idle_polls[0] >= 3

        wait_until(finished, args.timeout, stack)
        wall = time.monotonic() - t0 - 1.0  # the last two idle polls are not work
        sandbox_end = stack.sandbox.post("/_sandbox/clock", {})["now"]
        after = stack.sandbox.get("/_sandbox/xero/stats")
        calls_log = stack.sandbox.get("/_sandbox/call-log/summary")

        with session_scope(stack.app) as db:
            import_run = db.get(ImportRun, run_id)
            assert import_run is not None
            tie_started = time.perf_counter()
            stored_org = db.get(Organisation, org_id)
            tie_out = tie_out_report(db, org_id, stored_org.timezone if stored_org else "")
            tie_seconds = time.perf_counter() - tie_started
            entries = list(
                db.exec(select(LedgerEntry).where(LedgerEntry.organisation_id == org_id))
            )
            last_posted = db.exec(
                select(LedgerEntry.posted_at)
                .where(
                    LedgerEntry.organisation_id == org_id, col(LedgerEntry.posted_at).is_not(None)
                )
                .order_by(col(LedgerEntry.posted_at).desc())
                .limit(1)
            ).first()
            card_payments = Counter(
                str(row.state)
                for row in db.exec(select(CardPayment).where(CardPayment.organisation_id == org_id))
            )
        failures, housekeeping = split_housekeeping(failed_jobs(stack))
        resumed = resumed_jobs(stack)
        posted = {
            e.amazon_transaction_id: str(e.xero_document_id)
            for e in entries
            if e.state == EntryState.POSTED and e.xero_document_id
        }
        documents = check_documents(stack.sandbox, tenant, posted)
    finally:
        stack.stop()
        if not args.keep:
            shutil.rmtree(instance, ignore_errors=True)

    # --- The figures ---------------------------------------------------------------------
    calls = int(after["api_calls"].get(tenant, 0)) - int(before["api_calls"].get(tenant, 0))
    by_endpoint = Counter(after["api_calls_by_endpoint"]) - Counter(before["api_calls_by_endpoint"])
    limited = Counter(after["rate_limited"]["by_problem"]) - Counter(
        before["rate_limited"]["by_problem"]
    )
    refreshes = int(after["token_refreshes"]) - int(before["token_refreshes"])
    sandbox_seconds = (
        datetime.fromisoformat(sandbox_end) - datetime.fromisoformat(sandbox_start)
    ).total_seconds()
    import_seconds = (
        (import_run.finished_at - started).total_seconds() if import_run.finished_at else wall
    )
    posting_seconds = (last_posted - started).total_seconds() - import_seconds if last_posted else 0
    floor_calls = math.ceil(n / BATCH)
    floor_seconds = floor_calls * 60 / XERO_MINUTE  # sandbox seconds, at 60 calls per minute
    # The floor for what could be posted at all: held entries (a reason to fix first) excluded.
    postable = sum(1 for e in entries if e.state != EntryState.HELD)
    postable_calls = math.ceil(postable / BATCH)
    postable_seconds = postable_calls * 60 / XERO_MINUTE
    not_posted = [e for e in entries if e.state != EntryState.POSTED]
    reasons = Counter((e.state, e.reason_code or "-") for e in not_posted)

    say("")
    figure("transactions", n, "generated: " + ", ".join(f"{k} {v}" for k, v in per_store.items()))
    figure("transactions imported", import_run.fetched, f"import {import_run.state}")
    figure(
        "documents posted",
        len(posted),
        ", ".join(f"{k} {v}" for k, v in documents.by_endpoint.items()),
    )
    figure("xero calls made", calls, "import + post; install and set-up not counted")
    figure("xero calls by endpoint", dict(sorted(by_endpoint.items())))
    figure("xero token refreshes", refreshes)
    figure("calls per transaction", f"{calls / n:.4f}" if n else "n/a")
    figure("calls per posted document", f"{calls / len(posted):.4f}" if posted else "n/a")
    figure(
        "wall time",
        f"{wall:.1f} s",
        f"import {import_seconds:.1f} s, posting done {max(posting_seconds, 0):.1f} s later",
    )
    figure("sandbox time", f"{sandbox_seconds:.1f} s", f"clock x{speed:g}")
    figure(
        "rate-limit floor",
        f"{floor_seconds:.0f} s",
        f"ceil({n}/{BATCH}) = {floor_calls} calls at {XERO_MINUTE}/min, sandbox time",
    )
    figure(
        "ratio to floor",
        f"{sandbox_seconds / floor_seconds:.2f}" if floor_seconds else "n/a",
        "sandbox time / floor",
    )
    figure(
        "postable documents",
        postable,
        f"{n - postable} held; {calls / postable:.4f} calls each" if postable else "all held",
    )
    figure(
        "rate-limit floor, postable",
        f"{postable_seconds:.0f} s",
        f"ceil({postable}/{BATCH}) = {postable_calls} calls at {XERO_MINUTE}/min, sandbox time",
    )
    figure(
        "ratio to postable floor",
        f"{sandbox_seconds / postable_seconds:.2f}" if postable_seconds else "n/a",
        "sandbox time / postable floor: the figure issue 17 asks to keep under 1.3",
    )
    # The least any scheduling could do: every write the postable documents need, in full
    # batches per endpoint (each endpoint its own calls), the card-bill payments included
    # (a foreign-currency card purchase is a bill and its payment: two writes).
    write_calls = sum(math.ceil(c / BATCH) for c in documents.by_endpoint.values()) + math.ceil(
        sum(card_payments.values()) / BATCH
    )
    write_seconds = write_calls * 60 / XERO_MINUTE
    figure(
        "rate-limit floor, every write",
        f"{write_seconds:.0f} s",
        f"{write_calls} calls (full batches per endpoint + card-bill payments) at "
        f"{XERO_MINUTE}/min: what no scheduling can beat",
    )
    figure(
        "ratio to every-write floor",
        f"{sandbox_seconds / write_seconds:.2f}" if write_seconds else "n/a",
        "sandbox time / every-write floor",
    )
    figure("429s from the sandbox", sum(limited.values()), dict(limited) or "none")
    figure(
        "max calls in any sandbox minute (this org)",
        calls_log["max_tenant_calls_per_minute"],
        f"limit {calls_log['tenant_minute_limit']}",
    )
    figure("duplicates in the sandbox", documents.duplicates)
    figure(
        "card-bill payments",
        sum(card_payments.values()),
        ", ".join(f"{k} {v}" for k, v in sorted(card_payments.items())) or "none",
    )
    figure("payments in the sandbox", documents.payments, f"{documents.paid_twice} paid twice")
    figure("documents the ledger does not know", documents.untracked)
    figure("posted entries missing from the sandbox", documents.missing)
    stuck = [e for e in not_posted if e.state not in (EntryState.HELD, EntryState.FAILED)]
    figure("entries not posted", len(not_posted), f"{len(stuck)} left waiting with no job queued")
    for (state, code), count in reasons.most_common():
        sample = next(
            e.reason for e in not_posted if (e.state, e.reason_code or "-") == (state, code)
        )
        say(f"  {count:6d}  {state:8s} {code}: {(sample or '')[:110]}")
    figure("failed jobs", len(failures), "unrecovered, the /healthz rule")
    figure("resumed jobs", resumed, "killed, their work resumed by recovery: not failures")
    figure("failed housekeeping jobs", len(housekeeping), "jobs.recovery; see docs/performance.md")
    for failure in failures[:5]:
        say("  " + failure.replace("\n", " | ")[:300])

    say_tie_out(tie_out, tie_seconds)

    if args.translate_count:
        parse_s, translate_s, summary = translate_timing(args.translate_count)
        figure(
            f"translate {args.translate_count} transactions (posting.translate_all)",
            f"{translate_s:.2f} s",
            f"{args.translate_count / translate_s:,.0f}/s; parsing them took {parse_s:.2f} s; "
            f"{sum(r.count for r in summary.rows)} documents, {summary.held_count} held",
        )
    ok = (
        documents.duplicates == 0
        and documents.paid_twice == 0
        and not failures
        and not stuck
        and tie_out.ties_out
    )
    say(
        "result: "
        + ("OK" if ok else "FAILED (duplicates, failed jobs, entries left waiting or a month off)")
    )
    return 0 if ok else 1


def say_tie_out(report: Any, seconds: float) -> None:
    """The tie-out report per month and currency, and whether every month ties out."""
    from plugin.posting.amounts import money_text as money

    figure(
        "tie-out: every month ties out to the cent",
        "yes" if report.ties_out else "NO",
        f"{len(report.months)} months x currencies, report computed in {seconds * 1000:.0f} ms",
    )
    say("  month    cur  amazon total  count     in xero      held (n)     waiting (n)  diff")
    for month in report.months:
        line = month.total
        say(
            f"  {month.month:8s} {month.currency:4s}{money(line.amazon.amount):>13s} "
            f"{line.amazon.count:6d} {money(line.in_xero.amount):>11s} "
            f"{money(line.held.amount):>9s} ({line.held.count:3d}) "
            f"{money(line.waiting.amount):>9s} ({line.waiting.count:3d}) "
            f"{money(line.difference):>6s}"
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
