"""Two recovery races of issue 17 point 3 (plugin/work/recovery.py), each built by hand with a
real Redis and a real database, as tests/work/test_recovery.py builds the others.

- Two recovery jobs judge the same interrupted run at once (``resume-interrupted`` and
  ``resume-interrupted-again`` run on two workers started together, or the cron's run meets a
  worker's): each used to queue its own copy (``-resume-1`` and ``-resume-2``). Only the one
  whose claim on the run's job id lands queues a copy now.
- A run's job queues itself again under a new id (``import-<run>-later``: its organisation was
  busy) between recovery's look at the old job and its re-read of the row: the old job has
  ended, so the run looked interrupted and a second copy was queued beside the waiting one.
  The verdict is now taken on the job id the row holds when it is re-read.
"""

from __future__ import annotations

from plugin.db import session_scope
from plugin.infra.keys import import_later_job_ids
from plugin.infra.queues import enqueue_later
from plugin.infra.queues import get_queue
from plugin.infra.queues import get_redis
from plugin.models import ImportRun
from plugin.models import RunState
from plugin.work import recovery
from tests.work.test_recovery import add_run


def waiting_imports(app) -> list[str]:
    """Import jobs queued now or scheduled for later, on the user's queue."""
    queue = get_queue("high", app)
    ids = [*queue.job_ids, *queue.scheduled_job_registry.get_job_ids()]
    return sorted(j for j in ids if j.startswith("import-"))


def test_two_recoveries_judging_one_interrupted_run_queue_one_copy(app, db_session, org):
    run = add_run(db_session, org, age_seconds=600, state=RunState.RUNNING)
    client = get_redis(app)
    # Both recovery jobs have read the run and judged it interrupted.
    assert recovery.interrupted(db_session, client, run) == "interrupted"
    with session_scope(app) as other:
        theirs = other.get(ImportRun, run.id)
        assert recovery.interrupted(other, client, theirs) == "interrupted"
        first = recovery._queue_again(other, app, client, theirs)
    # The slower one queues nothing: the run's job is no longer the one it judged.
    second = recovery._queue_again(db_session, app, client, run)
    assert waiting_imports(app) == [f"import-{run.id}-resume-1"]
    assert (first, second) == ("queued", "taken")
    db_session.refresh(run)
    assert run.rq_job_id == f"import-{run.id}-resume-1"


def test_a_run_whose_job_queued_itself_again_meanwhile_is_left_alone(app, db_session, org):
    run = add_run(db_session, org, age_seconds=600)  # its first job has ended (not in Redis)
    client = get_redis(app)
    assert run.rq_job_id == f"import-{run.id}"
    # Recovery has read the row; now the job, having met a busy organisation, waits under a
    # new id for 30 s and records it on the run (``imports._try_again_later``).
    with session_scope(app) as other:
        moved = other.get(ImportRun, run.id)
        later = enqueue_later(
            "high",
            30,
            "jobs.imports.import_range",
            run.id,
            job_ids=import_later_job_ids(run.id),
            app=app,
        )
        moved.rq_job_id = later
        other.add(moved)
        other.commit()
    assert run.rq_job_id == f"import-{run.id}"  # recovery's copy of the row is stale
    assert recovery.interrupted(db_session, client, run) == "alive"
    assert recovery.resume_interrupted(app)["imports"] == []
    assert waiting_imports(app) == [f"import-{run.id}-later"]
