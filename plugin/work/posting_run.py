"""Posting runs for one organisation: check the Amazon Business contact, evaluate the ledger
against the current mapping and chart, and post what is ready (recovering unknown batches
first); ``post_ready`` is the posting job's work, which comes back later (not sleeps) when
Xero or the organisation is not ready for it."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from typing import Any

from flask import Flask
from sqlmodel import Session

from plugin import ledger
from plugin import posting
from plugin.amazon.errors import AmazonError
from plugin.db import session_scope
from plugin.infra.keys import post_after_busy_job_ids
from plugin.infra.keys import post_later_job_ids
from plugin.infra.keys import post_lookup_job_ids
from plugin.infra.locks import AlreadyRunning
from plugin.infra.locks import lock_seconds
from plugin.infra.locks import org_lock
from plugin.infra.queues import enqueue_later
from plugin.infra.queues import get_redis
from plugin.ledger.correction_outcomes import next_correction_lookup_at
from plugin.ledger.corrections import apply_corrections
from plugin.mapping.chart import cached_chart
from plugin.mapping.chart import forget_chart
from plugin.mapping.store import load_mapping
from plugin.mapping.tracking_options import create_missing_options
from plugin.models import EntryState
from plugin.models import Organisation
from plugin.models import utcnow
from plugin.posting.dates import xero_zone
from plugin.work.bank_feed_cache import RedisFeedCache
from plugin.work.card_bill_payments import pay_card_bills
from plugin.work.posting_runs import PostingRunRecord
from plugin.work.readiness import NotReady
from plugin.work.readiness import ready_to_post
from plugin.work.settlements import fill_due_dates
from plugin.xero import organisations
from plugin.xero.client import XeroClient
from plugin.xero.contact import refresh_contact_status
from plugin.xero.errors import XeroConnectionLost
from plugin.xero.errors import XeroConnectionRevoked
from plugin.xero.errors import XeroError
from plugin.xero.errors import XeroNeedsReconnect
from plugin.xero.errors import XeroRateLimited
from plugin.xero.errors import XeroServerError
from plugin.xero.errors import XeroUnavailable
from plugin.xero.errors import pause_kind
from plugin.xero.wiring import xero_client
from plugin.xero.wiring import xero_identity
from plugin.xero.wiring import xero_tokens

log = logging.getLogger(__name__)

BUSY_RETRY_SECONDS = 30
# A posting run waits on its worker for the organisation's minute window to free a slot (at
# most a minute) rather than re-queue itself: the window admits each call as the one a minute
# before it ages out, so calls go out spread at Xero's rate (issue 17 point 1). Longer waits
# (a 429's Retry-After, the daily budget) still re-queue the job.
POSTING_MAX_WAIT_SECONDS = 65.0


def posting_context(app: Flask, org: Organisation) -> posting.PostingContext:
    """The per-run inputs for the posting rules: our page for each entry, the org's timezone."""
    base = str(app.config["PUBLIC_URL"]).rstrip("/")
    return posting.PostingContext(
        entry_url=posting.url_template(f"{base}/orgs/{org.id}/entries/{{transaction_id}}"),
        timezone=xero_zone(org.timezone),  # else the chart's Organisation.Timezone
    )


def load_rules(
    app: Flask, session: Session, org: Organisation, max_wait: float = 10.0
) -> tuple[XeroClient, posting.Mapping, posting.Chart]:
    """(Xero client, mapping, chart) for an organisation; the client waits up to ``max_wait``
    seconds for a rate-limit slot."""
    client = xero_client(org, app, max_wait=max_wait)
    chart = cached_chart(get_redis(app), client, org)
    # Creating tracking options needs Xero's accounting.settings scope: never try without it.
    writable = "accounting.settings" in (org.xero_scopes or "").split()
    chart = dataclasses.replace(chart, tracking_options_writable=writable)
    return client, load_mapping(session, int(org.id or 0)), chart


def evaluate_org(
    app: Flask, session: Session, org: Organisation, states: tuple[str, ...] | None = None
) -> ledger.EvaluateCounts:
    """Re-decide held (and given) entries against the current mapping and chart."""
    _client, mapping, chart = load_rules(app, session, org)
    wanted = states or (EntryState.FETCHED, EntryState.HELD)
    return ledger.evaluate(
        session, int(org.id or 0), mapping, chart, posting_context(app, org), wanted
    )


def run_posting(
    session: Session, app: Flask, org_id: int, holder: str, include_failed: bool = False
) -> ledger.PostCounts:
    """Evaluate and post everything ready for the organisation (recovering unknown batches).

    ``include_failed`` also re-evaluates entries Xero refused (after a mapping change).
    """
    org = session.get(Organisation, org_id)
    if org is None:
        raise LookupError(f"organisation {org_id} does not exist")
    with org_lock(get_redis(app), org_id, holder, lock_seconds(app)) as keep_alive:
        why_not = ready_to_post(org)
        if why_not is None:
            refresh_contact_status(session, org, xero_client(org, app))
            why_not = ready_to_post(org)
        if why_not is not None:
            raise NotReady(why_not)
        try:
            fill_due_dates(session, app, org_id)
        except AmazonError as exc:  # bills fall back to the mapping's payment terms
            log.warning("Could not read Pay by Invoice due dates for org %s: %s", org_id, exc)
        client, mapping, chart = load_rules(app, session, org, POSTING_MAX_WAIT_SECONDS)
        context = posting_context(app, org)
        # Entries in review too: one a mapping or chart change can no longer post is held now.
        states = [EntryState.FETCHED, EntryState.HELD, EntryState.REVIEW]
        if include_failed:
            states.append(EntryState.FAILED)
        ledger.evaluate(session, org_id, mapping, chart, context, states)
        if create_missing_options(session, org_id, client, mapping, chart):
            forget_chart(get_redis(app), org_id)  # the new options, then their purchases
            client, mapping, chart = load_rules(app, session, org)
            ledger.evaluate(session, org_id, mapping, chart, context, [EntryState.HELD])
        record = PostingRunRecord(session, org_id, holder)  # the history's row (issue 14)
        record.close_interrupted()
        try:
            counts = ledger.post_ready(
                session,
                org_id,
                client,
                mapping,
                chart,
                context,
                on_batch=keep_alive,
                feed_cache=RedisFeedCache(get_redis(app), org_id),
                posting_run=record,
            )
        except XeroError as stop:
            session.rollback()
            record.finish(ledger.PostCounts(), error=stop.message)
            raise
        record.finish(counts)
        counts.lookup_at = ledger.next_lookup_at(session, org_id, client.in_flight)
        # Card bills (foreign-currency purchases on a base-currency card) are paid right after.
        paid = pay_card_bills(session, org_id, client)
        log.info("Card bill payments for org %s: %s", org_id, paid)
        # Amazon's later changes to posted documents: applied in place, or held (issue 14).
        fixed = apply_corrections(session, org_id, client, mapping, chart, context)
        log.info("Corrections for org %s: %s", org_id, fixed)
        counts.lookup_at = earliest(
            counts.lookup_at, next_correction_lookup_at(session, org_id, client.in_flight)
        )
        return counts


def earliest(*moments: datetime | None) -> datetime | None:
    """The earliest of the moments given (None when there is none)."""
    known = [m for m in moments if m is not None]
    return min(known) if known else None


# --- The posting job -------------------------------------------------------------------------


def pause_meta(error: XeroError) -> dict[str, Any]:
    """What the job that resumes a paused run records about the outage (read by the status)."""
    return {"pause_kind": pause_kind(error), "pause_status": error.status}


def post_ready(
    session: Session, app: Flask, org_id: int, holder: str, include_failed: bool = False
) -> dict[str, Any]:
    """Post everything ready; on a rate limit, outage or Xero error, come back later (not sleep).

    ``holder`` is the job's id (the lock's holder); the job's answer comes back.
    """
    try:
        counts = run_posting(session, app, org_id, holder, include_failed)
    except AlreadyRunning as busy:
        # An import (or another posting run) holds the organisation: come back shortly
        # rather than wait for the next hourly sync.
        enqueue_later(
            "default",
            BUSY_RETRY_SECONDS,
            "jobs.posting.post_ready",
            org_id,
            include_failed,
            job_ids=post_after_busy_job_ids(org_id),
            app=app,
        )
        return {"org": org_id, "skipped": f"busy ({busy.job_id})", "retry_in": BUSY_RETRY_SECONDS}
    except NotReady as why:
        return {"org": org_id, "skipped": str(why)}
    except XeroNeedsReconnect as stop:  # the org is marked; its jobs pause until reconnect
        return {"org": org_id, "skipped": stop.message}
    except XeroConnectionRevoked:
        with session_scope(app) as other:
            org = other.get(Organisation, org_id)
            if org is not None:
                access = xero_tokens(org_id, app).access_token()
                organisations.confirm_revoked(other, org, xero_identity(app), access)
        return {"org": org_id, "skipped": "disconnected in Xero"}
    except (XeroRateLimited, XeroUnavailable, XeroServerError, XeroConnectionLost) as pause:
        # A 500 or a lost connection that escapes a run comes from a read (contact, chart,
        # look-ups): writes settle theirs as unknown batches. Come back soon, not next hour.
        delay = getattr(pause, "retry_after", None) or (
            300 if isinstance(pause, XeroUnavailable) else 60
        )
        enqueue_later(
            "default",
            float(delay) + 1,
            "jobs.posting.post_ready",
            org_id,
            job_ids=post_later_job_ids(org_id),
            app=app,
            meta=pause_meta(pause),  # the status names the outage from it
        )
        return {"org": org_id, "requeued_in": delay, "why": pause.message}
    if counts.lookup_at is not None:
        _look_up_later(app, org_id, counts.lookup_at)
    return {
        "org": org_id,
        "posted": counts.posted,
        "failed": counts.failed,
        "held": counts.held,
        "recovered": counts.recovered,
        "batches": counts.batches,
        "lookup_at": counts.lookup_at.isoformat() if counts.lookup_at else None,
    }


def _look_up_later(app: Flask, org_id: int, when: datetime) -> None:
    """Come back when the batches whose answer was lost can be looked up in Xero (their
    entries stay claimed until then; nothing of them is sent again)."""
    seconds = max((when - utcnow()).total_seconds(), 0.0) + 1
    enqueue_later(
        "default",
        seconds,
        "jobs.posting.post_ready",
        org_id,
        job_ids=post_lookup_job_ids(org_id),
        app=app,
    )
