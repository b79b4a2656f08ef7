"""Correcting documents posted under a mapping that has changed since (issue 14 point 3).

``remap_preview`` translates every posted bank transaction and bill again with the current
mapping and compares it with the body that was sent (the posting batch's, or the last
correction's): each document whose accounts, tax types or bank account would change is listed
with exactly what changes. ``record_remap`` turns the ones the member confirms into pending
corrections (cause ``remap``), made like Amazon's changes (``ledger.corrections``): the document
is read first, a reconciled or paid one is left and listed with the reason, the others are
updated in place with their line ids, a key committed before each call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin import posting
from plugin.ledger.correction_model import Correction
from plugin.ledger.correction_model import CorrectionCause
from plugin.ledger.correction_model import CorrectionState
from plugin.ledger.evaluation import context_for
from plugin.ledger.record import parsed
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import PostingBatch

REMAPPABLE = ("BankTransactions", "Invoices")


@dataclass(frozen=True)
class RemapLine:
    """One posted document the current mapping would post differently."""

    transaction_id: str
    date: str
    document_type: str
    amount: str
    changes: tuple[str, ...]


def posted_body(session: Session, entry: LedgerEntry) -> dict[str, Any] | None:
    """The body the entry's document was last sent with (a correction's, else its batch's)."""
    corrected = session.exec(
        select(Correction)
        .where(
            Correction.ledger_entry_id == entry.id,
            Correction.state == CorrectionState.APPLIED,
            Correction.action == "update",
        )
        .order_by(col(Correction.id).desc())
    ).first()
    if corrected is not None and corrected.body:
        return corrected.body
    batch = session.get(PostingBatch, entry.batch_id) if entry.batch_id else None
    summary = (batch.request_summary or {}) if batch else {}
    ids = list(summary.get("transaction_ids") or [])
    bodies = list(summary.get("bodies") or [])
    if entry.amazon_transaction_id in ids:
        index = ids.index(entry.amazon_transaction_id)
        return bodies[index] if index < len(bodies) else None
    return None


def _code(reference: Any) -> str:
    return str((reference or {}).get("Code") or (reference or {}).get("AccountID") or "")


def _same_account(old: Any, new: Any) -> bool:
    """The same account, named by id on both sides if it can be, else by code."""
    old, new = old or {}, new or {}
    if old.get("AccountID") and new.get("AccountID"):
        return str(old["AccountID"]).lower() == str(new["AccountID"]).lower()
    return _code(old) == _code(new)


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What the new body changes in the old one, line by line, in words."""
    found = []
    if (
        "BankAccount" in new
        and "BankAccount" in old  # an older audit summary of the document kept none
        and not _same_account(old["BankAccount"], new["BankAccount"])
    ):
        found.append(
            f"bank account {_code(old.get('BankAccount'))} → {_code(new.get('BankAccount'))}"
        )
    old_lines, new_lines = old.get("LineItems") or [], new.get("LineItems") or []
    if len(old_lines) != len(new_lines):
        found.append(f"{len(old_lines)} lines → {len(new_lines)} lines")
    for number, (before, after) in enumerate(zip(old_lines, new_lines, strict=False), start=1):
        for field, label in (("AccountCode", "account"), ("TaxType", "tax")):
            if str(before.get(field) or "") != str(after.get(field) or ""):
                found.append(f"line {number}: {label} {before.get(field)} → {after.get(field)}")
    return found


def _open_corrections(session: Session, org_id: int) -> set[int]:
    states = [CorrectionState.PENDING, CorrectionState.SENT]
    rows = session.exec(
        select(Correction.ledger_entry_id).where(
            Correction.organisation_id == org_id, col(Correction.state).in_(states)
        )
    )
    return set(rows)


def remap_preview(
    session: Session,
    org_id: int,
    mapping: posting.Mapping,
    chart: posting.Chart,
    context: posting.PostingContext,
) -> list[RemapLine]:
    """Every posted document the current mapping would post differently (module doc)."""
    busy = _open_corrections(session, org_id)
    entries = [
        e
        for e in session.exec(
            select(LedgerEntry)
            .where(
                LedgerEntry.organisation_id == org_id,
                LedgerEntry.state == EntryState.POSTED,
                col(LedgerEntry.xero_document_type).in_(REMAPPABLE),
            )
            .order_by(col(LedgerEntry.transaction_date), col(LedgerEntry.id))
        )
        if e.id not in busy
    ]
    if not entries:
        return []
    now_context = context_for(session, org_id, entries, context)
    lines = []
    for entry in entries:
        old = posted_body(session, entry)
        outcome = posting.translate(parsed(entry), mapping, chart, now_context)
        if old is None or not isinstance(outcome, posting.Document):
            continue
        if outcome.endpoint != entry.xero_document_type:
            continue
        changes = differences(old, outcome.body)
        if changes:
            lines.append(
                RemapLine(
                    transaction_id=entry.amazon_transaction_id,
                    date=entry.transaction_date.date().isoformat()
                    if entry.transaction_date
                    else "",
                    document_type=str(entry.xero_document_type),
                    amount=f"{entry.currency} {entry.amount:.2f}",
                    changes=tuple(changes),
                )
            )
    return lines


def record_remap(session: Session, org_id: int, transaction_ids: list[str], actor: str) -> int:
    """A pending ``remap`` correction for each of the given posted entries; commits."""
    busy = _open_corrections(session, org_id)
    entries = session.exec(
        select(LedgerEntry).where(
            LedgerEntry.organisation_id == org_id,
            col(LedgerEntry.amazon_transaction_id).in_(transaction_ids),
            LedgerEntry.state == EntryState.POSTED,
        )
    )
    added = 0
    for entry in entries:
        if entry.id in busy:
            continue
        session.add(
            Correction(
                organisation_id=org_id,
                ledger_entry_id=int(entry.id or 0),
                cause=CorrectionCause.REMAP,
                actor=actor,
                endpoint=entry.xero_document_type,
                xero_document_id=entry.xero_document_id,
                before_payload=entry.raw_payload,
                after_payload=entry.raw_payload,
                after_hash=entry.payload_hash,
            )
        )
        added += 1
    session.commit()
    return added
