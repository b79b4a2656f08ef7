"""Housekeeping the cron runs every few minutes: folding the ledger's count rows
(``plugin.ledger.counts``)."""

from __future__ import annotations

from typing import Any

from jobs.context import job_app
from plugin import ledger
from plugin.work.context import work_context


def fold_ledger_counts() -> dict[str, Any]:
    """Fold the count rows of every organisation that has gathered many."""
    with work_context(job_app()) as session:
        return ledger.fold_counts(session)
