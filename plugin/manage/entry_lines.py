"""The lines of an entry's Xero document, for its page: each line's account and tax.

A posted entry shows the lines exactly as they were sent (the body committed with its posting
batch). An entry not posted yet shows the lines it would be posted with now, from the current
mapping and the cached chart (no call to Xero from a page); when the chart is not cached, or
the entry cannot post, there are no Xero lines to show and the page keeps Amazon's own lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any

from flask import Flask
from sqlmodel import Session

from plugin import ledger
from plugin import posting
from plugin.amazon.models import Transaction
from plugin.infra.queues import get_redis
from plugin.ledger.remaps import posted_body
from plugin.manage.status import REDIS_ERRORS
from plugin.mapping.chart import cached_parts
from plugin.mapping.chart import chart_from_document
from plugin.mapping.chart import with_contact
from plugin.mapping.chart_file import ChartFileError
from plugin.mapping.store import load_mapping
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.work.posting_run import posting_context

POSTED_STATES = (EntryState.POSTED, EntryState.POSTING)


@dataclass(frozen=True)
class XeroLine:
    """One line of the Xero document in words."""

    description: str
    quantity: str
    amount: str
    account: str
    tax: str
    tax_amount: str
    tracking: str = ""  # "Department: Office, Cost Centre: FAC-01"


@dataclass(frozen=True)
class XeroLines:
    """The document's lines and whether they are as posted or as they would post now."""

    posted: bool
    lines: tuple[XeroLine, ...]


def _text(value: Any) -> str:
    if value is None:
        return ""
    try:
        return posting.money_text(Decimal(str(value)))
    except InvalidOperation:
        return str(value)


def _account(chart: posting.Chart | None, code: Any) -> str:
    if not code:
        return ""
    account = chart.account(str(code)) if chart else None
    return account.label if account else str(code)


def _tax(chart: posting.Chart | None, tax_type: Any) -> str:
    if not tax_type:
        return ""
    if tax_type == "NONE":
        return "No tax"
    rate = chart.tax_rate(str(tax_type)) if chart else None
    if rate is None:
        return str(tax_type)
    if "%" in rate.name:  # "20% (VAT on Expenses)" already says its rate
        return rate.name
    return f"{rate.name} ({rate.effective_rate.normalize():f}%)"


def _tracking(value: Any) -> str:
    entries = value if isinstance(value, list) else []
    return ", ".join(f"{t.get('Name')}: {t.get('Option')}" for t in entries if isinstance(t, dict))


def lines_of(body: dict[str, Any], chart: posting.Chart | None) -> tuple[XeroLine, ...]:
    """A Xero document body's ``LineItems`` in words (pure)."""
    return tuple(
        XeroLine(
            description=str(item.get("Description") or ""),
            quantity=str(item.get("Quantity") or ""),
            amount=_text(item.get("LineAmount")),
            account=_account(chart, item.get("AccountCode")),
            tax=_tax(chart, item.get("TaxType")),
            tax_amount=_text(item.get("TaxAmount")),
            tracking=_tracking(item.get("Tracking")),
        )
        for item in body.get("LineItems") or []
        if isinstance(item, dict)
    )


def cached_chart_of(app: Flask, org: Organisation) -> posting.Chart | None:
    """The org's chart if it is cached (None: not cached, unreadable, or Redis down)."""
    try:
        parts = cached_parts(get_redis(app), int(org.id or 0))
    except REDIS_ERRORS:
        return None
    if parts is None:
        return None
    try:
        return chart_from_document(with_contact(parts, org))
    except ChartFileError:
        return None


def sent_body(session: Session, entry: LedgerEntry) -> dict[str, Any] | None:
    """The body the entry's document was last sent to Xero with: its latest correction made in
    Xero (an amount change, a remap), else its batch's (``ledger.remaps.posted_body``)."""
    body = posted_body(session, entry)
    return body if isinstance(body, dict) else None


def xero_lines(
    session: Session, app: Flask, org: Organisation, entry: LedgerEntry
) -> XeroLines | None:
    """The entry's Xero lines, as posted or as they would post now (None: nothing to show)."""
    chart = cached_chart_of(app, org)
    if entry.state in POSTED_STATES or entry.xero_document_id:
        body = sent_body(session, entry)
        return XeroLines(True, lines_of(body, chart)) if body else None
    if chart is None or entry.state == EntryState.BY_HAND:
        return None
    org_id = int(org.id or 0)
    context = ledger.context_for(session, org_id, [entry], posting_context(app, org))
    outcome = posting.translate(ledger.parsed(entry), load_mapping(session, org_id), chart, context)
    if not isinstance(outcome, posting.Document):
        return None
    return XeroLines(False, lines_of(outcome.body, chart))


@dataclass(frozen=True)
class MappedLine:
    """Where one Amazon line item goes under the mapping as it is now (account and tax type)."""

    account: str
    tax: str


def mapped_lines(session: Session, org: Organisation, entry: LedgerEntry) -> tuple[MappedLine, ...]:
    """For each Amazon line item of the entry, its account and tax type under the current
    mapping (codes only: names need the chart), "Not mapped" where the mapping has none."""
    transaction = ledger.parsed(entry)
    if not isinstance(transaction, Transaction):
        return ()
    mapping = load_mapping(session, int(org.id or 0))
    found = []
    for item in transaction.line_items:
        code = next(
            (
                rule.account_code
                for rule in mapping.expense_rules
                if posting.rule_matches(rule, transaction, item)
            ),
            mapping.expense_default_account_code,
        )
        tax_type = mapping.tax_type_for(item.tax_rate) if item.tax_rate is not None else None
        found.append(MappedLine(code or "Not mapped", tax_type or "Not mapped"))
    return tuple(found)
