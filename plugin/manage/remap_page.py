"""The "correct posted documents to the mapping" page: which documents the current mapping
would post differently, and exactly how (``ledger.remaps``); starting the correction (a
background job: ``plugin.work.remaps``). The chart comes from the cache only (a page never
calls Xero): when it is not cached, the page says to open the mapping page first."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlmodel import Session

from plugin.infra.keys import remap_job_ids
from plugin.infra.queues import get_redis
from plugin.ledger.remaps import remap_preview
from plugin.manage.actions import queue_job
from plugin.mapping.chart import cached_parts
from plugin.mapping.chart import chart_from_document
from plugin.mapping.chart import with_contact
from plugin.mapping.store import load_mapping
from plugin.models import Organisation
from plugin.work.posting_run import posting_context

KINDS = {"BankTransactions": "Bank transaction", "Invoices": "Bill"}


def remap_context(session: Session, app: Flask, org: Organisation) -> dict[str, Any]:
    """What the page shows: the documents that would change, or why it cannot tell."""
    org_id = int(org.id or 0)
    parts = cached_parts(get_redis(app), org_id)
    if parts is None:
        return {"lines": [], "no_chart": True, "kinds": KINDS}
    chart = chart_from_document(with_contact(parts, org))
    mapping = load_mapping(session, org_id)
    lines = remap_preview(session, org_id, mapping, chart, posting_context(app, org))
    return {"lines": lines, "no_chart": False, "kinds": KINDS}


def start_remap(app: Flask, org_id: int, transaction_ids: list[str], actor: str) -> bool | None:
    """Queue the correction job (True queued, False already queued, None Redis is down)."""
    job_id = remap_job_ids(org_id)[0]
    return queue_job(app, "jobs.corrections.remap_posted", job_id, org_id, transaction_ids, actor)
