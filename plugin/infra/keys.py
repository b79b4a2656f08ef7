"""Every RQ job id and Redis key the app uses, in one place (as rq keeps its own in rq/keys.py).

Running deployments hold these keys and ids in Redis: changing a format here orphans what is
there (a lock nobody will release, a unique job queued twice), so the formats are pinned by
tests/test_keys.py. Job ids contain only letters, digits, ``-`` and ``_``.
"""

from __future__ import annotations

# --- RQ job ids: one unique job per organisation (or run) and purpose --------------------------

RESUME_JOB_ID = "resume-interrupted"
IMPORT_JOB_PREFIX = "import-"


def import_job_id(run_id: int) -> str:
    """The job of an ``ImportRun`` (the id is on the row before the job is queued)."""
    return f"{IMPORT_JOB_PREFIX}{run_id}"


def import_resume_job_id(run_id: int, attempt: int) -> str:
    """The job that resumes an interrupted import, one per attempt."""
    return f"{IMPORT_JOB_PREFIX}{run_id}-resume-{attempt}"


def import_later_job_ids(run_id: int) -> tuple[str, str]:
    """The two ids an import that found its organisation busy may wait under, to try again
    (``plugin.infra.queues.enqueue_later`` takes the one no running job holds)."""
    later = f"{IMPORT_JOB_PREFIX}{run_id}-later"
    return later, f"{later}-again"


def rollback_job_ids(run_id: int) -> tuple[str, str]:
    """The rollback of an import run (``plugin.work.rollbacks``), and the id it waits under
    when its organisation is busy."""
    return f"rollback-{run_id}", f"rollback-{run_id}-later"


def posting_rollback_job_ids(run_id: int) -> tuple[str, str]:
    """The rollback of a posting run (``plugin.ledger.posting_run_model``), and the id it waits
    under when its organisation is busy."""
    return f"rollback-posting-{run_id}", f"rollback-posting-{run_id}-later"


def remap_job_ids(org_id: int) -> tuple[str, str]:
    """Correcting posted documents to a changed mapping (``plugin.work.remaps``), and the id it
    waits under when its organisation is busy."""
    return f"remap-{org_id}", f"remap-{org_id}-later"


def run_id_of_job(job_id: str) -> int | None:
    """The ``ImportRun`` id of a first import job (``import-<run>``), else None."""
    if not job_id.startswith(IMPORT_JOB_PREFIX):
        return None
    try:
        return int(job_id.removeprefix(IMPORT_JOB_PREFIX))
    except ValueError:
        return None


def post_job_id(org_id: int) -> str:
    """The organisation's posting run (after an import, set-up, reconnect, recovery)."""
    return f"post-{org_id}"


def retry_job_id(org_id: int) -> str:
    """The posting run that also retries entries Xero refused (after a mapping change)."""
    return f"retry-{org_id}"


def post_later_job_ids(org_id: int, kind: str = "later") -> tuple[str, str]:
    """The two ids a posting run queued for later may wait under: ``post-<kind>-<org>`` and its
    ``-again`` twin. Two, because RQ deletes a finished job's key (``result_ttl=0``): a retry
    scheduled under the id of the job running now would be deleted with it (found by
    scripts/bench_import.py: 10,000 transactions left 4,017 entries ``ready``), so
    ``plugin.infra.queues.enqueue_later`` takes the one no running job holds. ``kind`` is
    ``later`` after a rate limit or outage, ``after-busy`` when the organisation was busy,
    ``lookup`` when a batch whose answer was lost can be looked up in Xero."""
    later = f"post-{kind}-{org_id}"
    return later, f"{later}-again"


def follow_up_job_id(job_id: str) -> str:
    """The one job queued to run after ``job_id`` when new work came while it ran
    (``plugin.infra.queues.enqueue_once(follow_up=True)``)."""
    return f"{job_id}-next"


def post_lookup_job_ids(org_id: int) -> tuple[str, str]:
    """Both ids a posting run waiting to look up a batch still in doubt may be waiting under."""
    return post_later_job_ids(org_id, "lookup")


def post_after_busy_job_ids(org_id: int) -> tuple[str, str]:
    """Both ids a posting run that found the organisation busy may be waiting under."""
    return post_later_job_ids(org_id, "after-busy")


def org_work_job_ids(org_id: int) -> tuple[str, ...]:
    """Every job that is, or is about to be, working for the organisation now (not the ones
    waiting out a rate limit: those are shown as such)."""
    return (
        sync_job_id(org_id),
        post_job_id(org_id),
        follow_up_job_id(post_job_id(org_id)),
        retry_job_id(org_id),
        *post_after_busy_job_ids(org_id),
    )


def sync_job_id(org_id: int) -> str:
    """The organisation's scheduled (or "sync now") import-and-post."""
    return f"sync-{org_id}"


def settle_job_id(org_id: int) -> str:
    """The organisation's Pay by Invoice settlement run."""
    return f"settle-{org_id}"


def settle_later_job_ids(org_id: int) -> tuple[str, str]:
    """The two ids the settlement run queued for later (rate limit, outage, busy organisation,
    a send still in flight) may wait under (as ``post_later_job_ids``)."""
    later = f"settle-later-{org_id}"
    return later, f"{later}-again"


def attach_job_id(org_id: int) -> str:
    """The organisation's PDF attachment run."""
    return f"attach-{org_id}"


def contact_check_job_id(org_id: int) -> str:
    """The organisation's Amazon Business contact check."""
    return f"contact-check-{org_id}"


def resume_job_id(suffix: str | None = None) -> str:
    """The recovery look (``resume-interrupted``), or its follow-up (``-later``, ``-again``)."""
    return f"{RESUME_JOB_ID}-{suffix}" if suffix else RESUME_JOB_ID


# --- Redis keys ------------------------------------------------------------------------------


def org_lock_key(purpose: str, org_id: int) -> str:
    """One of the organisation's locks (``work``: imports, posting, settlements; ``attach``)."""
    return f"lock:org-{purpose}:{org_id}"


def resume_import_key(run_id: int) -> str:
    """How many times recovery has resumed an import run."""
    return f"resume:import:{run_id}"


def chart_cache_key(org_id: int) -> str:
    """An organisation's cached Xero chart (accounts, tax rates, organisation)."""
    return f"chart:v1:{org_id}"


def oauth_used_key(state: str) -> str:
    """Marks an OAuth ``state`` as used (each one is accepted once)."""
    return f"oauth:used:{state}"


def webhook_seen_key(digest: str) -> str:
    """Marks a Xero webhook payload (by digest) as seen, for de-duplication."""
    return f"webhook:xero:{digest}"


def xero_token_lock_key(group: str | None, org_id: int) -> str:
    """The lock held while refreshing a Xero token: per token group, else per organisation."""
    return f"lock:xero-token:{group or f'org-{org_id}'}"


RATELIMIT_PREFIX = "ratelimit"


def xero_limit_key(*parts: str) -> str:
    """One of Xero's rate-limit counters (``day``/``minute``/``inflight``/``blocked`` + tenant,
    or the app-wide ``appminute``/``blocked:app``)."""
    return ":".join((RATELIMIT_PREFIX, "xero", *parts))


def amazon_limit_key(connection_id: int | None, operation: str) -> str:
    """The token bucket name of one Amazon operation on one store connection."""
    return f"amazon:{connection_id}:{operation}"


def bucket_key(name: str) -> str:
    """The Redis key of a token bucket (``name`` as from ``amazon_limit_key``)."""
    return f"{RATELIMIT_PREFIX}:bucket:{name}"


def bank_feed_cache_key(org_id: int, account: str) -> str:
    """What the bank-feed guard last saw of one card account (``plugin.work.bank_feed_cache``)."""
    return f"bank-feed:{org_id}:{account}"


def jobs_ended_key(org_id: int) -> str:
    """How many jobs of the organisation have ended (``plugin.manage.change_signal``)."""
    return f"jobs-ended:{org_id}"


def part_cache_key(org_id: int, part: str, version: str) -> str:
    """A rendered part of Manage Integrations, as it was at one version of what it shows
    (``plugin.manage.part_cache``); the organisation's id is part of every such key."""
    return f"manage-part:{org_id}:{part}:{version}"
