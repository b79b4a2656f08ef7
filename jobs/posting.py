"""Posting jobs: post what is ready for an organisation; re-queue after a Xero rate limit."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from rq import get_current_job

from jobs.context import job_app
from jobs.context import job_context
from plugin.infra.queues import get_queue
from plugin.work import services as sync
from plugin.xero import organisations
from plugin.xero.errors import XeroConnectionLost
from plugin.xero.errors import XeroConnectionRevoked
from plugin.xero.errors import XeroNeedsReconnect
from plugin.xero.errors import XeroRateLimited
from plugin.xero.errors import XeroServerError
from plugin.xero.errors import XeroUnavailable
from plugin.xero.wiring import xero_identity
from plugin.xero.wiring import xero_tokens

BUSY_RETRY_SECONDS = 30


def later_job_id(org_id: int, current_job_id: str | None, kind: str = "later") -> str:
    """The id of the posting job queued for later: ``post-<kind>-<org>``, unless that is the
    job running now. RQ deletes a finished job's key (``result_ttl=0``), so re-using the running
    job's id would delete the job just scheduled: a second pause in a row never resumed
    (found by scripts/bench_import.py: 10,000 transactions left 4,017 entries ``ready``).
    ``kind`` is ``later`` after a rate limit or outage, ``after-busy`` when the organisation
    was busy."""
    later = f"post-{kind}-{org_id}"
    return f"{later}-again" if current_job_id == later else later


def post_ready(org_id: int, include_failed: bool = False) -> dict[str, Any]:
    """Post everything ready; on a rate limit, outage or Xero error, come back later (not sleep).

    ``include_failed`` (after a mapping change) also retries entries Xero refused.
    """
    job = get_current_job()
    holder = job.id if job is not None else f"post-{org_id}"
    with job_context() as session:
        app = job_app()
        try:
            counts = sync.run_posting(session, app, org_id, holder, include_failed)
        except sync.AlreadyRunning as busy:
            # An import (or another posting run) holds the organisation: come back shortly
            # rather than wait for the next hourly sync.
            from rq.exceptions import DuplicateJobError

            with contextlib.suppress(DuplicateJobError):
                get_queue("default", app).enqueue_in(
                    timedelta(seconds=BUSY_RETRY_SECONDS),
                    "jobs.posting.post_ready",
                    org_id,
                    include_failed,
                    job_id=later_job_id(org_id, holder, "after-busy"),
                    unique=True,
                    result_ttl=0,
                )
            return {
                "org": org_id,
                "skipped": f"busy ({busy.job_id})",
                "retry_in": BUSY_RETRY_SECONDS,
            }
        except sync.NotReady as why:
            return {"org": org_id, "skipped": str(why)}
        except XeroNeedsReconnect as stop:  # the org is marked; its jobs pause until reconnect
            return {"org": org_id, "skipped": stop.message}
        except XeroConnectionRevoked:
            with job_context() as other:
                org = other.get(sync.Organisation, org_id)
                if org is not None:
                    access = xero_tokens(org_id).access_token()
                    organisations.confirm_revoked(other, org, xero_identity(), access)
            return {"org": org_id, "skipped": "disconnected in Xero"}
        except (XeroRateLimited, XeroUnavailable, XeroServerError, XeroConnectionLost) as pause:
            # A 500 or a lost connection that escapes a run comes from a read (contact, chart,
            # look-ups): writes settle theirs as unknown batches. Come back soon, not next hour.
            delay = getattr(pause, "retry_after", None) or (
                300 if isinstance(pause, XeroUnavailable) else 60
            )
            get_queue("default", app).enqueue_in(
                timedelta(seconds=float(delay) + 1),
                "jobs.posting.post_ready",
                org_id,
                job_id=later_job_id(org_id, holder),
                result_ttl=0,
            )
            return {"org": org_id, "requeued_in": delay, "why": pause.message}
        return {
            "org": org_id,
            "posted": counts.posted,
            "failed": counts.failed,
            "held": counts.held,
            "recovered": counts.recovered,
            "batches": counts.batches,
        }
