"""The table of posting runs (``posting_run``, migration 0020): one row per posting run that sent
something to Xero ("Sync now", a retry, a mapping change, the run after an import...), so that
it shows in the history and can be rolled back (issue 14 point 4,
``plugin.ledger.rollbacks``).

The row is made when the run opens its first batch (a run with nothing to post leaves none),
and each batch it opens names it (``request_summary["posting_run"]``): the run's documents are
those of its batches, whoever recovered them later. Runs of an organisation never overlap
(its work lock). Kept out of ``plugin.models`` only because that module is at its size limit
(``plugin.work.tables`` registers it with the others).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlmodel import Field
from sqlmodel import SQLModel

from plugin.models import NEVER_REUSE_IDS
from plugin.models import RunState
from plugin.models import _created
from plugin.models import _state
from plugin.models import _text
from plugin.models import _ts


class PostingCause(enum.StrEnum):
    """What started a posting run, as the history says it."""

    SYNC = "sync"  # "Sync now", set-up finished, after an import, a reconnect, recovery
    RETRY = "retry"  # a retry of held or refused purchases, "post it" on a duplicate
    MAPPING = "mapping"  # a mapping change re-checked the held and refused purchases
    LATER = "later"  # a run that came back after a rate limit, an outage or a busy moment


CAUSE_LABELS = {
    PostingCause.SYNC: "Sync",
    PostingCause.RETRY: "Retry",
    PostingCause.MAPPING: "Mapping change",
    PostingCause.LATER: "Resumed",
}


def cause_of_job(job_id: str) -> PostingCause:
    """The cause of a posting job, from its id (``plugin.infra.keys``: ``retry-<org>``,
    ``remap-<org>`` for a mapping change, ``post-later-…``/``post-after-busy-…``/
    ``post-lookup-…`` for a run come back, ``post-<org>`` and its follow-up otherwise)."""
    if job_id.startswith("retry-"):
        return PostingCause.RETRY
    if job_id.startswith("remap-"):
        return PostingCause.MAPPING
    if job_id.startswith(("post-later-", "post-after-busy-", "post-lookup-")):
        return PostingCause.LATER
    return PostingCause.SYNC


class PostingRun(SQLModel, table=True):
    """One posting run that sent at least one batch to Xero, with what it did."""

    __tablename__ = "posting_run"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    cause: PostingCause = _state(PostingCause, PostingCause.SYNC, 16)
    rq_job_id: str | None = Field(default=None, max_length=128)
    state: RunState = _state(RunState, RunState.RUNNING, 16)
    batches: int = 0
    posted: int = 0
    held: int = 0
    failed: int = 0
    error: str | None = _text()
    created_at: datetime = _created()
    started_at: datetime | None = _ts()
    finished_at: datetime | None = _ts()
