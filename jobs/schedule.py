"""RQ's cron configuration (run by ``flask --app wsgi cron``, one process per deployment).

RQ 3 ships its own cron scheduler (``rq.cron``): it only enqueues, and the workers run the jobs
with their own retries and unique ids. Interval jobs also fire once when the scheduler starts.
"""

from __future__ import annotations

from rq import cron

from jobs.housekeeping import fold_ledger_counts
from jobs.notifications import send_digests
from jobs.recovery import resume_interrupted
from jobs.sync import sync_all
from jobs.xero import check_all_contacts
from jobs.xero import check_memberships
from plugin.config import load_settings

SYNC_EVERY_SECONDS = int(load_settings()["SYNC_INTERVAL_MINUTES"]) * 60

cron.register(sync_all, "default", interval=SYNC_EVERY_SECONDS, job_timeout=300, result_ttl=3600)
cron.register(check_all_contacts, "default", cron="15 3 * * *", job_timeout=300, result_ttl=3600)
cron.register(check_memberships, "default", cron="45 3 * * *", job_timeout=600, result_ttl=3600)
cron.register(send_digests, "low", cron="0 7 * * *", job_timeout=600, result_ttl=3600)
cron.register(resume_interrupted, "high", interval=300, job_timeout=300, result_ttl=0)
cron.register(fold_ledger_counts, "default", interval=120, job_timeout=120, result_ttl=0)
