"""Posting while an import is still fetching (issue 17 point 1).

Xero's 60 calls a minute, not Amazon's pages, set how long a large import takes to reach Xero:
waiting for the last page before the first batch leaves the organisation's minute window idle
for the whole import. So an import that posts when it ends anyway (``posts_after_import``:
scheduled syncs and the history import, set-up done) posts as it goes: after each page it
stores (once a full batch has been fetched: a small import costs no extra call), it readies the
new entries and sends the *full* batches it can without waiting for the window
(``XeroRateLimiter.free_now``), and goes on fetching. After the last page it sends the
part-filled batches too, if the window has room, with the bank-feed guard it loaded once for the
import's whole range. The posting run the import queues when it ends sends the rest (what the
window had no room for, card-bill payments) as before.

It runs inside the import job, under the organisation's lock the import holds, with the same
ledger calls as the posting run (``ledger.evaluate``, ``ledger.post_ready``): one run per
organisation and the batches' claims are unchanged. It never fails the import: a Xero or
Amazon error stops it for the rest of this import (the posting run after it deals with it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask
from sqlalchemy import func
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin import ledger
from plugin.infra.queues import get_redis
from plugin.ledger import post as ledger_post
from plugin.ledger.bank_feed_guard import BankFeedGuard
from plugin.ledger.post import PostCounts
from plugin.models import EntryState
from plugin.models import ImportRun
from plugin.models import ImportTrigger
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.models import RunState
from plugin.work.bank_feed_cache import RedisFeedCache
from plugin.work.posting_runs import PostingRunRecord
from plugin.work.readiness import ready_to_post
from plugin.xero.contact import refresh_contact_status
from plugin.xero.errors import XeroRateLimited
from plugin.xero.wiring import xero_client

log = logging.getLogger(__name__)

POSTING_TRIGGERS = (ImportTrigger.SCHEDULED, ImportTrigger.HISTORICAL)

SLOT_WAIT_SECONDS = 2.0  # a slot the window showed free may be taken meanwhile: wait a little


def posts_after_import(session: Session, run: ImportRun) -> bool:
    """Whether a finished import queues the organisation's posting run by itself.

    Scheduled syncs do. So does the history import: set-up usually ends while it runs (the
    finishing step queues a posting run, which waits for the import's lock), and one resumed
    after a crash has nobody else to post it. A manual import waits for the user to see how
    many are new ("Post N new" in Manage Integrations; otherwise they post with the next sync).
    Only a successful import of an organisation that may post now.
    """
    if run.state != RunState.SUCCEEDED:
        return False
    if run.trigger not in POSTING_TRIGGERS:
        return False
    org = session.get(Organisation, run.organisation_id)
    return org is not None and ready_to_post(org) is None


class PostingAlongside:
    """Called after each page an import stores; posts the full batches the window allows."""

    def __init__(
        self, session: Session, app: Flask, run: ImportRun, org: Organisation, holder: str
    ) -> None:
        self.session, self.app, self.org, self.run = session, app, org, run
        self.org_id = int(org.id or 0)
        self.enabled = run.trigger in POSTING_TRIGGERS
        self.started = False
        self.counts = PostCounts()
        # The posting history's row for what this import posts (issue 14: a run rolled back
        # from the history takes these batches too); made with the first batch sent.
        self.record = PostingRunRecord(session, self.org_id, holder)

    @property
    def posted(self) -> int:
        return self.counts.posted

    def finish(self, error: str | None = None) -> None:
        """Close the history's row with what was posted (``error``: the import stopped)."""
        try:
            self.record.finish(self.counts, error=error)
        except Exception:  # the next posting run closes a row left running as interrupted
            self.session.rollback()
            log.exception("Could not close the posting record of org %s's import", self.org_id)

    def __call__(self, keep_alive: Callable[[], None], last: bool = False) -> None:
        """After a page (``last``: after the import's last page, when part-filled batches go
        too, with the guard this import already loaded: the run after it then has nothing to
        look up again unless the window was full)."""
        if not self.enabled:
            return
        try:
            self._step(keep_alive, last)
        except XeroRateLimited:
            pass  # the window filled meanwhile: after the next page
        except Exception:  # never the import's failure: the posting run after it takes over
            self.session.rollback()
            self.enabled = False
            log.exception("Posting alongside the import of org %s stopped", self.org_id)

    def _start(self) -> bool:
        """The once-per-import checks and reads of a posting run; False: not now."""
        # Imported here: posting_run needs the app's Xero wiring, loaded once it runs.
        from plugin.work.posting_run import load_rules
        from plugin.work.posting_run import posting_context

        self.session.refresh(self.org)
        if ready_to_post(self.org) is not None:
            return False
        refresh_contact_status(self.session, self.org, xero_client(self.org, self.app))
        if ready_to_post(self.org) is not None:
            return False
        self.client, self.mapping, self.chart = load_rules(
            self.app, self.session, self.org, SLOT_WAIT_SECONDS
        )
        self.context = posting_context(self.app, self.org)
        self.record.close_interrupted()  # we hold the lock: a row left running was killed
        self.guard = BankFeedGuard(  # one read per card account for the import's whole range
            self.session,
            self.org_id,
            self.client,
            RedisFeedCache(get_redis(self.app), self.org_id),
            span=(self.run.range_start.date(), self.run.range_end.date()),
        )
        return True

    def _fetched(self) -> int:
        return self.session.exec(
            select(func.count()).where(
                col(LedgerEntry.organisation_id) == self.org_id,
                col(LedgerEntry.state) == EntryState.FETCHED,
            )
        ).one()

    def _free(self) -> int:
        return self.client.limiter.free_now(self.client.tenant_id)

    def _step(self, keep_alive: Callable[[], None], last: bool) -> None:
        from plugin.work.settlements import fill_due_dates

        if not self.started:
            if self._fetched() < ledger_post.BATCH_SIZE:
                return  # a small import costs no extra call: the run after it posts it all
            self.started = True
            if not self._start():
                self.enabled = False
                return
        if self._free() < 1:
            return
        fill_due_dates(self.session, self.app, self.org_id, (EntryState.FETCHED,))
        ledger.evaluate(
            self.session, self.org_id, self.mapping, self.chart, self.context, (EntryState.FETCHED,)
        )
        counts = ledger.post_ready(
            self.session,
            self.org_id,
            self.client,
            self.mapping,
            self.chart,
            self.context,
            max_batches=self._free(),
            on_batch=keep_alive,
            guard=self.guard,
            more_coming=not last,
            posting_run=self.record,
        )
        for name in ("posted", "failed", "held", "batches"):
            setattr(self.counts, name, getattr(self.counts, name) + getattr(counts, name))
