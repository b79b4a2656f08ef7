"""The review step: the mapping in words, and what posting would create right now.

The preview runs the posting rules exactly as a posting run does (``posting.translate_all`` over
the org's not-yet-posted entries, with the posting context of ``sync.posting_context`` and what
the ledger knows about refunds and due dates) and summarises with ``posting.summarise``, the
code behind ``flask preview``. Nothing is sent anywhere and nothing in the ledger changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from flask import Flask
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin import ledger
from plugin import posting
from plugin.manage.entry_names import purchase_name
from plugin.manage.held_groups import Cause
from plugin.manage.held_groups import cause_of
from plugin.manage.held_groups import label_of
from plugin.mapping.page import LINE_TYPE_LABELS
from plugin.mapping.page import RULE_FIELDS
from plugin.mapping.page import TREATMENT_LABELS
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.models import PaymentMethod
from plugin.posting import SAME_AS_ITEM
from plugin.work.posting_run import posting_context

PENDING: Final = (
    EntryState.FETCHED,
    EntryState.HELD,
    EntryState.REVIEW,
    EntryState.READY,
    EntryState.FAILED,
)
KIND_LABELS: Final = {
    "spend_money": "Spend money",
    "receive_money": "Receive money",
    "bill": "Bills",
    "credit_note": "Credit notes",
}
EXAMPLES: Final = 3
PENDING_CONTACT: Final = "00000000-0000-0000-0000-000000000000"
"""Stands in for the "Amazon Business" contact, which the first posting run sets up in Xero."""


@dataclass(frozen=True)
class KindCount:
    """How many documents of one kind, with totals per currency."""

    kind: str
    label: str
    count: int
    totals: tuple[tuple[str, Decimal], ...]


@dataclass(frozen=True)
class HeldGroup:
    """Held entries sharing one cause: how many, its label and a few example reasons."""

    code: str
    gloss: str
    count: int
    examples: tuple[tuple[str, str, str], ...]  # (transaction id, purchase name, reason)


@dataclass(frozen=True)
class Preview:
    """What Finish would post now, and what it would hold."""

    entries: int
    kinds: tuple[KindCount, ...]
    held: tuple[HeldGroup, ...]
    summary: posting.Summary
    contact_pending: bool = False


@dataclass(frozen=True)
class SummaryLine:
    """One line of the mapping summary."""

    section: str
    what: str
    to: str


def pending_entries(session: Session, org_id: int) -> list[LedgerEntry]:
    """Return the org's entries not posted yet (fetched, held, in review, ready, failed),
    oldest first."""
    return list(
        session.exec(
            select(LedgerEntry)
            .where(LedgerEntry.organisation_id == org_id, col(LedgerEntry.state).in_(PENDING))
            .order_by(col(LedgerEntry.id))
        )
    )


def plan_for(
    app: Flask,
    session: Session,
    org: Organisation,
    mapping: posting.Mapping,
    chart: posting.Chart,
) -> tuple[posting.Plan, list[LedgerEntry]]:
    """Return (the posting plan of the org's pending entries, those entries)."""
    entries = pending_entries(session, int(org.id or 0))
    context = ledger.context_for(session, int(org.id or 0), entries, posting_context(app, org))
    plan = posting.translate_all((ledger.parsed(e) for e in entries), mapping, chart, context)
    return plan, entries


def kinds_of(summary: posting.Summary) -> tuple[KindCount, ...]:
    """Return one line per document kind (all four, zero included) with per-currency totals."""
    found = []
    for kind in posting.DOCUMENT_KINDS:
        rows = [r for r in summary.rows if r.kind == kind]
        found.append(
            KindCount(
                kind,
                KIND_LABELS[kind],
                sum(r.count for r in rows),
                tuple((r.currency, r.total) for r in rows),
            )
        )
    return tuple(found)


def held_groups(
    held: Sequence[posting.Held], names: Mapping[str, str] | None = None
) -> tuple[HeldGroup, ...]:
    """Group held entries by their real cause (``plugin.manage.held_groups``: the payment method,
    the tax rate, …), largest group first, each labelled from its own members and with a few of
    them as examples, each named as the entry page names it (``names``: by transaction id) and
    with its own reason."""
    names = names or {}
    by_cause: dict[Cause, list[posting.Held]] = {}
    for entry in held:
        by_cause.setdefault(cause_of(entry.code, None, entry.reason), []).append(entry)
    groups = [
        HeldGroup(
            cause.code,
            label_of(cause, [i.reason for i in items])[0],
            len(items),
            tuple(
                (
                    i.amazon_transaction_id or "(no id)",
                    names.get(i.amazon_transaction_id or "") or i.amazon_transaction_id or "",
                    i.reason,
                )
                for i in items[:EXAMPLES]
            ),
        )
        for cause, items in by_cause.items()
    ]
    return tuple(sorted(groups, key=lambda g: (-g.count, g.code, g.gloss)))


def preview(
    app: Flask, session: Session, org: Organisation, mapping: posting.Mapping, chart: posting.Chart
) -> Preview:
    """Return what posting would create for the org now.

    Before the first posting run the org has no "Amazon Business" contact yet (Finish sets it
    up: ``xero.contact.refresh_contact_status``), so the preview stands a placeholder in for it
    rather than holding everything for a contact that will exist.
    """
    contact_pending = chart.contact_id is None
    if contact_pending:
        chart = dataclasses.replace(chart, contact_id=PENDING_CONTACT)
    plan, entries = plan_for(app, session, org, mapping, chart)
    summary = posting.summarise(plan)
    held_ids = {h.amazon_transaction_id for h in plan.held}
    names = {
        e.amazon_transaction_id: purchase_name(e).line
        for e in entries
        if e.amazon_transaction_id in held_ids
    }
    groups = held_groups(plan.held, names)
    return Preview(len(entries), kinds_of(summary), groups, summary, contact_pending)


def _account(chart: posting.Chart, code: str | None) -> str:
    if not code:
        return "Not mapped"
    if code == SAME_AS_ITEM:
        return "Same account as the item"
    account = chart.account(code)
    return account.label if account is not None else f"{code} (not in Xero)"


def _tax(chart: posting.Chart, tax_type: str) -> str:
    rate = chart.tax_rate(tax_type)
    return f"{rate.name} ({tax_type})" if rate is not None else f"{tax_type} (not in Xero)"


def mapping_summary(
    mapping: posting.Mapping, chart: posting.Chart, methods: Sequence[PaymentMethod]
) -> list[SummaryLine]:
    """Return the mapping in words, section by section; unmapped payment methods included."""
    lines = []
    for method in methods:
        entry = mapping.payment_method(method.key)
        if entry is None:
            lines.append(SummaryLine("Payment methods", method.label, "Not mapped: held"))
        elif entry.treatment == "bill":
            paid_from = _account(chart, entry.payment_account_code)
            to = f"{TREATMENT_LABELS['bill']}, paid from {paid_from}"
            lines.append(SummaryLine("Payment methods", method.label, to))
        else:
            to = f"{TREATMENT_LABELS['spend_money']} on {_account(chart, entry.account_code)}"
            if entry.foreign_currency == posting.BILL_PAID_FROM_ACCOUNT:
                to += "; other currencies as bills paid from it"
            lines.append(SummaryLine("Payment methods", method.label, to))
    lines.append(
        SummaryLine(
            "Expenses", "Default account", _account(chart, mapping.expense_default_account_code)
        )
    )
    for rule in mapping.expense_rules:
        what = RULE_FIELDS.get(rule.field, rule.field)
        match = f"{rule.key} = {rule.value}" if rule.key else rule.value
        lines.append(
            SummaryLine("Expenses", f"{what}: {match}", _account(chart, rule.account_code))
        )
    for tax in mapping.tax_rates:
        lines.append(
            SummaryLine(
                "Taxes", f"Amazon {posting.percent_text(tax.rate)}", _tax(chart, tax.tax_type)
            )
        )
    for name, (label, _help) in LINE_TYPE_LABELS.items():
        lines.append(
            SummaryLine("Line items", label, _account(chart, getattr(mapping.line_types, name)))
        )
    return lines
