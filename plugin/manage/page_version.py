"""What the whole Manage Integrations page shows beyond its status and entries parts, read in
one statement so that the page can be kept in Redis like its parts (``plugin.manage.part_cache``,
issue 17 point 2): the import and posting history (how many runs, the newest, how many in each
state, the sums of their counts and the lengths of their errors, their latest start and end),
the organisation's audit trail (its newest event: "Post N new" pressed, a rollback asked) and
the signed-in member's digest setting.

The history is summarised, not read row by row: a change to a run the page shows changes its
state, a count, an error or a time, and so one of these figures (a change that left every sum
as it was would be seen within ``part_cache.TTL_SECONDS``).
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Integer
from sqlalchemy import bindparam
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import true
from sqlmodel import Session
from sqlmodel import col

from plugin.ledger.posting_run_model import PostingRun
from plugin.models import AuditEvent
from plugin.models import ImportRun
from plugin.models import Membership
from plugin.models import RunState

LEADING_FIGURES = 5  # count, newest id, latest start, latest end, error lengths; then per state


def _summary(table: Any, org_id: Any, counts: tuple[str, ...]) -> Any:
    """One row of figures over the organisation's runs (one scan of them)."""
    mine = col(table.organisation_id) == org_id
    figures: list[Any] = [
        func.count(),
        func.max(table.id),
        func.max(table.started_at),
        func.max(table.finished_at),
        func.sum(func.length(func.coalesce(table.error, ""))),
        *(func.sum(case((col(table.state) == state, 1), else_=0)) for state in RunState),
        *(func.sum(getattr(table, name)) for name in counts),
    ]
    return select(*figures).where(mine).subquery()


@functools.cache
def _statement() -> Any:
    org_id = bindparam("org_id", type_=Integer)
    user_id = bindparam("user_id", type_=Integer)
    imports = _summary(
        ImportRun, org_id, ("fetched", "new", "posted", "held", "failed", "already_known")
    )
    postings = _summary(PostingRun, org_id, ("batches", "posted", "held", "failed"))
    member = (col(Membership.organisation_id) == org_id) & (col(Membership.user_id) == user_id)
    return select(
        *imports.c,
        *postings.c,
        select(func.max(AuditEvent.id))
        .where(col(AuditEvent.organisation_id) == org_id)
        .scalar_subquery(),
        select(col(Membership.notify)).where(member).scalar_subquery(),
    ).select_from(imports.join(postings, true()))


def page_figures(session: Session, org_id: int, user_id: int) -> tuple[Any, ...]:
    """The figures above for one organisation and member (one round trip)."""
    return tuple(session.execute(_statement(), {"org_id": org_id, "user_id": user_id}).one())


def imports_under_way(figures: tuple[Any, ...]) -> bool:
    """Whether ``page_figures`` counts an import queued or running (the first summary is the
    import runs', its per-state counts after its leading figures, in ``RunState``'s order)."""
    states = list(RunState)
    return any(
        figures[LEADING_FIGURES + states.index(state)]
        for state in (RunState.QUEUED, RunState.RUNNING)
    )
