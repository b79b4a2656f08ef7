"""Posting while an import is still fetching (plugin/work/import_posting.py, issue 17 point 1),
against the live sandbox with real RQ jobs."""

from __future__ import annotations

import pytest
from sqlmodel import select

from plugin.db import session_scope
from plugin.ledger import post as ledger_post
from plugin.ledger.posting_run_model import PostingRun
from plugin.ledger.rollbacks import batches_of_posting_run
from plugin.models import EntryState
from plugin.models import ImportRun
from plugin.models import ImportTrigger
from plugin.models import RunState
from plugin.work import import_posting
from tests.common.pipeline import assert_exactly_once
from tests.common.pipeline import finish_setup
from tests.common.pipeline import import_days
from tests.common.pipeline import ledger_entries


@pytest.fixture
def sandbox_config():
    return {"SANDBOX_AMAZON_TRANSACTIONS": 120}


@pytest.fixture
def steps(monkeypatch):
    """(run state, documents posted so far) after each page the import stored."""
    seen: list[tuple[str, int]] = []
    step = import_posting.PostingAlongside.__call__

    def spy(self, keep_alive, last=False):
        step(self, keep_alive, last)
        with session_scope(self.app) as db:
            run = db.exec(select(ImportRun).where(ImportRun.organisation_id == self.org_id)).one()
        seen.append((str(run.state), self.posted))

    monkeypatch.setattr(import_posting.PostingAlongside, "__call__", spy)
    monkeypatch.setattr(ledger_post, "BATCH_SIZE", 5)  # full batches within a few pages
    return seen


def test_a_history_import_posts_full_batches_while_it_fetches(pipeline, sandbox, run_jobs, steps):
    app, _client, org = pipeline
    finish_setup(app, org, include_new_card=True)
    import_days(app, org, days=90, trigger=ImportTrigger.HISTORICAL)
    run_jobs()  # the import, then the posting run it queues for the rest
    assert steps, "the import stored no page"
    running = [posted for state, posted in steps if state == RunState.RUNNING]
    assert running, steps
    assert max(running) > 0, steps  # documents in Xero before the last page was stored
    entries = ledger_entries(app, org)
    assert not [e for e in entries if e.state in (EntryState.FETCHED, EntryState.READY)]
    assert_exactly_once(app, sandbox, org)
    # What the import posted is in the posting history like any run's (so a rollback of the
    # run from the history reaches it), closed with what it posted.
    posted_batches = {e.batch_id for e in entries if e.state == EntryState.POSTED}
    with session_scope(app) as db:
        runs = list(db.exec(select(PostingRun).where(PostingRun.organisation_id == org.id)))
        recorded = {b for run in runs for b in batches_of_posting_run(db, run)}
        import_rows = [r for r in runs if (r.rq_job_id or "").startswith("import-")]
    assert posted_batches <= recorded, posted_batches - recorded
    assert len(import_rows) == 1, [(r.rq_job_id, r.state) for r in runs]
    assert import_rows[0].state == RunState.SUCCEEDED
    assert import_rows[0].posted == max(posted for _state, posted in steps) > 0


def test_a_manual_import_posts_nothing_while_it_fetches(pipeline, sandbox, run_jobs, steps):
    app, _client, org = pipeline
    finish_setup(app, org, include_new_card=True)
    import_days(app, org, days=90, trigger=ImportTrigger.MANUAL)
    run_jobs()
    assert steps
    assert all(posted == 0 for _state, posted in steps), steps
    # Its entries wait for the user ("Post N new" in Manage Integrations).
    assert {e.state for e in ledger_entries(app, org)} == {EntryState.FETCHED}
