"""The record of a posting run (``plugin.ledger.posting_run_model``): made when the run opens its
first batch, so a run with nothing to post leaves no row; closed with what the run did, or why
it stopped. A run found still ``running`` by the next one (its worker was killed: the next run
holds the organisation's lock, so that one is not running) is closed as interrupted.
"""

from __future__ import annotations

from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.ledger.post import PostCounts
from plugin.ledger.posting_run_model import PostingRun
from plugin.ledger.posting_run_model import cause_of_job
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import RunState
from plugin.models import utcnow

INTERRUPTED = "Interrupted (the worker stopped); the next run finished its work."


class PostingRunRecord:
    """The ``PostingRun`` row of one run: call it for the row's id (made on the first call)."""

    def __init__(self, session: Session, org_id: int, job_id: str) -> None:
        self.session = session
        self.org_id = org_id
        self.job_id = job_id
        self.run: PostingRun | None = None

    def close_interrupted(self) -> int:
        """Close the organisation's runs left ``running`` by a killed worker, with what their
        batches posted (commits); how many."""
        left = list(
            self.session.exec(
                select(PostingRun).where(
                    PostingRun.organisation_id == self.org_id,
                    PostingRun.state == RunState.RUNNING,
                )
            )
        )
        for run in left:
            counts = self._so_far(run)
            run.batches, run.posted, run.failed = counts.batches, counts.posted, counts.failed
            run.state, run.error, run.finished_at = RunState.FAILED, INTERRUPTED, utcnow()
            self.session.add(run)
        self.session.commit()
        return len(left)

    def __call__(self) -> int:
        if self.run is None:
            now = utcnow()
            self.run = PostingRun(
                organisation_id=self.org_id,
                cause=cause_of_job(self.job_id),
                rq_job_id=self.job_id[:128],
                state=RunState.RUNNING,
                started_at=now,
                created_at=now,
            )
            self.session.add(self.run)
            self.session.commit()
        return int(self.run.id or 0)

    def finish(self, counts: PostCounts, error: str | None = None) -> None:
        """Record what the run did (``error``: why it stopped before the end)."""
        if self.run is None:
            return
        run = self.session.get(PostingRun, self.run.id)
        if run is None:
            return
        if error:  # stopped inside the ledger: what its batches posted so far
            counts = self._so_far(run)
        run.batches, run.posted = counts.batches, counts.posted
        run.held, run.failed = counts.held, counts.failed
        run.state = RunState.PAUSED if error else RunState.SUCCEEDED
        run.error = error
        run.finished_at = utcnow()
        self.session.add(run)
        self.session.commit()

    def _so_far(self, run: PostingRun) -> PostCounts:
        from plugin.ledger.rollbacks import batches_of_posting_run

        batches = batches_of_posting_run(self.session, run)
        states = self.session.exec(
            select(LedgerEntry.state).where(col(LedgerEntry.batch_id).in_(batches))
        ).all()
        return PostCounts(
            posted=sum(1 for s in states if s == EntryState.POSTED),
            failed=sum(1 for s in states if s == EntryState.FAILED),
            batches=len(batches),
        )


def posting_history(session: Session, org_id: int, limit: int = 20) -> list[PostingRun]:
    """The organisation's latest posting runs, newest first."""
    return list(
        session.exec(
            select(PostingRun)
            .where(PostingRun.organisation_id == org_id)
            .order_by(col(PostingRun.id).desc())
            .limit(limit)
        )
    )


def posting_run_of(session: Session, org_id: int, run_id: int) -> PostingRun | None:
    """The organisation's posting run ``run_id`` (None when it is another's, or none)."""
    run = session.get(PostingRun, run_id)
    return run if run is not None and run.organisation_id == org_id else None
