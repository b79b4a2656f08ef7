"""The parts of Manage Integrations, and the page made of them: what each shows (its
context) and, for the page, the status and the entries list, the HTML kept in Redis under
what they show (``plugin.manage.part_cache``), so that a page or a poll whose data did not
change costs a few small reads (issue 17 point 2).

Each version is read per request, cheaply, before anything is computed: the change-signal
fingerprints (``plugin.manage.change_signal``: one statement over ``ledger_count`` and the
organisation's small tables, one over its newest import, one Redis read), the organisation's
row and stores, the Redis job state the status shows, the query string. Everything else the
part shows is computed only when its version is not kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app
from flask import g
from flask import render_template
from flask_login import current_user
from markupsafe import Markup
from rq.job import Job

from plugin.db import get_session
from plugin.infra.keys import jobs_ended_key
from plugin.infra.keys import org_lock_key
from plugin.infra.keys import org_work_job_ids
from plugin.infra.keys import post_later_job_ids
from plugin.infra.locks import WORK
from plugin.infra.queues import get_queue
from plugin.infra.queues import get_redis
from plugin.ledger.posting_run_model import CAUSE_LABELS
from plugin.manage import actions
from plugin.manage import change_signal
from plugin.manage import entries as entry_list
from plugin.manage import manual_import
from plugin.manage import part_cache
from plugin.manage import status as org_status
from plugin.manage.page_version import imports_under_way
from plugin.manage.page_version import page_figures as page_version_figures
from plugin.models import Organisation
from plugin.models import utcnow
from plugin.notify.outbox import outbox_served
from plugin.onboarding.steps import next_step_url
from plugin.work.imports import EARLIEST_IMPORT_DATE
from plugin.work.imports import range_rule
from plugin.work.posting_runs import posting_history
from plugin.work.readiness import ready_to_post

PAGE = "manage/page.html"
STATUS = "partials/manage/_status.html"
ENTRIES = "partials/manage/_entries.html"


def redis_reads(org: Organisation) -> tuple[str, tuple[Any, ...] | None]:
    """(the jobs-ended counter, the raw Redis state the status shows: the work lock, each
    job's status and meta, the scheduled times), in one round trip, once per request; the
    state is None when Redis is down."""
    if "manage_redis" not in g:
        g.manage_redis = _read_redis(int(org.id or 0))
    found: tuple[str, tuple[Any, ...] | None] = g.manage_redis
    return found


def _read_redis(org_id: int) -> tuple[str, tuple[Any, ...] | None]:
    try:
        connection = get_redis(current_app)
        scheduled = get_queue("default", current_app).scheduled_job_registry.key
        pipe = connection.pipeline(transaction=False)
        pipe.get(jobs_ended_key(org_id))
        pipe.get(org_lock_key(WORK, org_id))
        for job_id in (*org_work_job_ids(org_id), *post_later_job_ids(org_id)):
            pipe.hmget(Job.key_for(job_id), ["status", "meta"])
            pipe.zscore(scheduled, job_id)
        values = tuple(pipe.execute())
    except part_cache.REDIS_ERRORS:
        return "redis-down", None
    ended = values[0]
    return (ended.decode() if isinstance(ended, bytes) else str(ended or "")), values[1:]


def signal(org: Organisation) -> dict[str, str]:
    """The change-signal fingerprints of this request (read once per request)."""
    if "manage_signal" not in g:
        ended, _state = redis_reads(org)
        g.manage_signal = change_signal.fingerprints(get_session(), None, org, ended=ended)
    found: dict[str, str] = g.manage_signal
    return found


def _row(org: Organisation) -> tuple[Any, ...]:
    """Every column of the organisation's row (what any part may show of it)."""
    table = Organisation.__table__  # type: ignore[attr-defined]
    return tuple(getattr(org, column.name) for column in table.columns)


def _shown_time(moment: Any) -> str:
    """A time as the parts show it (to the minute: "now + an hour" changes the part once a
    minute, not at every request)."""
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else ""


# --- Contexts of the parts ---------------------------------------------------------------------


def next_sync(org: Organisation) -> Any:
    """When the scheduler should next sync the organisation (as the status says it)."""
    interval = int(current_app.config.get("SYNC_INTERVAL_MINUTES") or 60)
    return org_status.next_sync_estimate(org, interval, utcnow())


def status_context(org: Organisation) -> dict[str, Any]:
    """What the status part shows."""
    return {
        "org": org,
        "summary": org_status.summary(get_session(), current_app, org),
        "next_sync": next_sync(org),
        "setup_url": next_step_url(org),
    }


def entries_context(org: Organisation, wanted: entry_list.EntryFilter) -> dict[str, Any]:
    """What the entries part shows for one filter and page."""
    session = get_session()
    org_id = int(org.id or 0)
    short_code = entry_list.xero_short_code(current_app, org)
    return {
        "org": org,
        "wanted": wanted,
        "entries_page": entry_list.list_entries(session, org_id, wanted, short_code),
        "groups": entry_list.reason_groups(session, org_id),
        "anything_imported": entry_list.has_entries(session, org_id),
        "state_labels": entry_list.STATE_LABELS,
        "in_review": entry_list.in_review(session, org_id),
        "posting_blocked": ready_to_post(org),  # "nothing waiting" would then be untrue
    }


def import_context(
    org: Organisation, error: str = "", form: dict[str, str] | None = None, message: str = ""
) -> dict[str, Any]:
    """What the manual import part shows."""
    session = get_session()
    org_id = int(org.id or 0)
    run = manual_import.latest_manual_import(session, org_id)
    confirmed = run is not None and manual_import.posting_confirmed(session, org_id, run.id or 0)
    today = utcnow().date()
    return {
        "org": org,
        "run": run,
        "active": manual_import.run_active(run),
        "progress": manual_import.progress_while_active(current_app, run),
        "confirmed": confirmed,
        "import_error": error,
        "import_message": message,
        "form": form or {},
        "today": today.isoformat(),
        "earliest": EARLIEST_IMPORT_DATE.isoformat(),
        "range_rule": range_rule(),
    }


def history_context(org: Organisation) -> dict[str, Any]:
    """What the import and posting history part shows."""
    session, org_id = get_session(), int(org.id or 0)
    return {
        "org": org,
        "history": manual_import.import_history(session, org_id),
        "postings": posting_history(session, org_id),
        "posting_causes": CAUSE_LABELS,
    }


def notify_context(org: Organisation) -> dict[str, Any]:
    """The signed-in member's digest setting."""
    membership = actions.membership_of(get_session(), int(org.id or 0), int(current_user.id))
    return {"org": org, "membership": membership}


# --- Kept parts --------------------------------------------------------------------------------


def _kept(
    org: Organisation,
    part: str,
    version: str | None,
    draw: Callable[..., str],
    fill: bool = True,
) -> Markup:
    def render(csrf_token: Callable[[], str]) -> str:
        return draw(csrf_token=csrf_token)

    html = part_cache.part_html(current_app, int(org.id or 0), part, version, render, fill)
    return Markup(html)  # noqa: S704 - our own rendered template


def status_version(org: Organisation) -> str:
    """What the status part shows, as cheaply read: the fingerprints (the stores among them),
    the organisation's row, the job state in Redis and the next sync."""
    fingerprints = signal(org)  # "status" covers the stores
    return part_cache.version_of(
        fingerprints["status"],
        fingerprints["import"],  # the last import's end is the last sync's time
        _row(org),
        redis_reads(org)[1],  # what "working now" and the Xero pause are read from
        _shown_time(next_sync(org)),
    )


def status_html(
    org: Organisation, fill: bool = True, context: dict[str, Any] | None = None
) -> Markup:
    """The status part, kept or rendered (``context``: its context when the caller has it
    already, so a page rendered afresh computes the status once)."""
    return _kept(
        org,
        "status",
        status_version(org),
        lambda **extra: render_template(STATUS, **(context or status_context(org)), **extra),
        fill,
    )


def entries_version(org: Organisation, wanted: entry_list.EntryFilter) -> str:
    """What the entries part shows, as cheaply read: the entries fingerprint (ledger writes,
    corrections, jobs ended), the organisation's row, the filter and page, the Xero short
    code of the links."""
    return part_cache.version_of(
        signal(org)["entries"],
        _row(org),
        sorted(wanted.query_args().items()),
        wanted.timezone,
        entry_list.xero_short_code(current_app, org),
    )


def entries_html(org: Organisation, wanted: entry_list.EntryFilter, fill: bool = True) -> Markup:
    """The entries part for one filter and page, kept or rendered."""
    return _kept(
        org,
        "entries",
        entries_version(org, wanted),
        lambda **extra: render_template(ENTRIES, **entries_context(org, wanted), **extra),
        fill,
    )


def page_version(org: Organisation) -> str | None:
    """What the whole page shows, as cheaply read (None while an import runs: its progress
    changes by the second, so the page is rendered live)."""
    figures = page_version_figures(get_session(), int(org.id or 0), int(current_user.id))
    if imports_under_way(figures):
        return None
    return part_cache.version_of(
        int(current_user.id),
        current_user.name,
        sorted(signal(org).items()),  # "status" covers the stores
        _row(org),
        redis_reads(org)[1],
        _shown_time(next_sync(org)),
        figures,
        outbox_served(current_app),
    )


def page_html(org: Organisation) -> Markup:
    """The whole page, kept or rendered (its status and entries parts kept on their own too)."""
    return _kept(
        org,
        "page",
        page_version(org),
        lambda **extra: render_template(PAGE, **page_context(org, fill=False), **extra),
    )


def page_context(
    org: Organisation, overrides: dict[str, Any] | None = None, fill: bool = True
) -> dict[str, Any]:
    """Everything the page shows; the status and entries parts as kept HTML unless
    ``overrides`` carries a message for one of them (then all is rendered). ``fill=False``:
    the parts keep their CSRF placeholders (the page is being kept)."""
    overrides = dict(overrides or {})
    wanted = overrides.pop("wanted", entry_list.EntryFilter())
    context: dict[str, Any] = {}
    context.update(status_context(org))
    if not overrides:
        context["status_html"] = status_html(org, fill, dict(context))
        context["entries_html"] = entries_html(org, wanted, fill)
        context["wanted"] = wanted
    else:
        context.update(entries_context(org, wanted))
    context.update(import_context(org))
    context.update(history_context(org))
    context.update(notify_context(org))
    context["connections"] = context["summary"].connections
    context["signal"] = signal(org)
    context["outbox_enabled"] = outbox_served(current_app)
    context["mapping_url"] = f"/orgs/{org.id}/mapping?from=manage"
    context["payment_methods_url"] = f"/orgs/{org.id}/mapping/payment-methods?from=manage"
    context.update(overrides)
    return context
