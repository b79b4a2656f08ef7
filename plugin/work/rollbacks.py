"""Rolling back an import run or a posting run in the background (``ledger.rollbacks``): under the
organisation's work lock, record a rollback correction for each document the run's entries
posted (an import) or the run created (a posting run), then make every pending correction
(``ledger.corrections``: read the document, leave it if reconciled or paid, else delete or void
it with a key committed before the call). A busy organisation, a rate limit or an outage: the
job comes back later; the corrections recorded meanwhile are also made by any posting run, and
recovery queues one for them after a crash.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from sqlmodel import Session

from plugin.infra.keys import posting_rollback_job_ids
from plugin.infra.keys import rollback_job_ids
from plugin.infra.locks import AlreadyRunning
from plugin.infra.locks import lock_seconds
from plugin.infra.locks import org_lock
from plugin.infra.queues import enqueue_later
from plugin.infra.queues import get_redis
from plugin.ledger.corrections import apply_corrections
from plugin.ledger.posting_run_model import PostingRun
from plugin.ledger.rollbacks import Run
from plugin.ledger.rollbacks import record_rollback
from plugin.models import AuditEvent
from plugin.models import ImportRun
from plugin.models import Organisation
from plugin.work.posting_run import load_rules
from plugin.work.posting_run import posting_context
from plugin.xero.errors import XeroConnectionLost
from plugin.xero.errors import XeroRateLimited
from plugin.xero.errors import XeroServerError
from plugin.xero.errors import XeroUnavailable

log = logging.getLogger(__name__)

BUSY_RETRY_SECONDS = 30
IMPORT = "import"
POSTING = "posting"


def rollback_run(
    session: Session,
    app: Flask,
    org_id: int,
    run_id: int,
    actor: str,
    holder: str,
    kind: str = IMPORT,
    hold_after: bool = False,
) -> dict[str, Any]:
    """Roll the run back (module doc): ``kind`` says an import or a posting run; ``hold_after``
    holds the entries afterwards. A small dict of what was done."""
    org = session.get(Organisation, org_id)
    run: Run | None = (
        session.get(PostingRun, run_id) if kind == POSTING else session.get(ImportRun, run_id)
    )
    if org is None or run is None or run.organisation_id != org_id:
        return {"run": run_id, "skipped": "no such run"}
    try:
        with org_lock(get_redis(app), org_id, holder, lock_seconds(app)):
            recorded = record_rollback(session, run, actor, hold_after)
            if recorded:
                session.add(
                    AuditEvent(
                        organisation_id=org_id,
                        actor=actor,
                        action="rollback_started",
                        detail={
                            "run": run_id,
                            "kind": kind,
                            "documents": recorded,
                            "hold_after": hold_after,
                        },
                    )
                )
                session.commit()
            client, mapping, chart = load_rules(app, session, org)
            counts = apply_corrections(
                session, org_id, client, mapping, chart, posting_context(app, org)
            )
    except AlreadyRunning:
        return _later(app, (org_id, run_id, actor, kind, hold_after), BUSY_RETRY_SECONDS, "busy")
    except (XeroRateLimited, XeroUnavailable, XeroServerError, XeroConnectionLost) as pause:
        delay = float(getattr(pause, "retry_after", None) or 60)
        return _later(app, (org_id, run_id, actor, kind, hold_after), delay, pause.message)
    log.info("Rollback of run %s: %s", run_id, counts)
    return {
        "run": run_id,
        "applied": counts.applied,
        "held": counts.held,
        "unknown": counts.unknown,
    }


def _later(
    app: Flask, args: tuple[int, int, str, str, bool], seconds: float, why: str
) -> dict[str, Any]:
    """Come back to the rollback (the job's own arguments) in ``seconds``."""
    run_id, kind = args[1], args[3]
    ids = posting_rollback_job_ids(run_id) if kind == POSTING else rollback_job_ids(run_id)
    enqueue_later(
        "high", seconds + 1, "jobs.corrections.rollback_run", *args, job_ids=ids[1:], app=app
    )
    return {"run": run_id, "skipped": why, "retry_in": seconds}
