"""An entry's corrections in plain words, for its page: each change Amazon (or a person) asked
for, when and by whom, the versions before and after (amount and lines), and what became of it
in Xero (applied, waiting, or left as it is with what the bookkeeper should do)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from typing import Final

from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.amazon.models import Transaction
from plugin.amazon.models import parse_transaction
from plugin.ledger.correction_advice import amount_text
from plugin.ledger.correction_advice import review_note
from plugin.ledger.correction_model import Correction
from plugin.ledger.correction_model import CorrectionState
from plugin.ledger.corrections import corrections_of
from plugin.ledger.remaps import differences
from plugin.models import LedgerEntry
from plugin.posting import money_text

STATES: Final = {
    CorrectionState.PENDING: ("Waiting", "Will be made in Xero on the next posting run."),
    CorrectionState.SENT: ("Sent", "Sent to Xero; its answer is checked on the next run."),
    CorrectionState.APPLIED: ("Made in Xero", ""),
    CorrectionState.HELD: ("Left as it is", ""),
    CorrectionState.SUPERSEDED: ("Replaced", "A later change replaced this one."),
}
CAUSES: Final = {
    "amazon_changed": "Amazon changed the amount or the lines",
    "amazon_cancelled": "Amazon cancelled it",
    "rollback": "The run that posted it was rolled back",
    "remap": "Corrected to the new mapping",
}
ACTIONS: Final = {
    "update": "Xero document updated in place",
    "void": "Xero bill voided",
    "delete": "Xero bank transaction deleted",
}


@dataclass(frozen=True)
class VersionLine:
    """One Amazon line of a version."""

    title: str
    quantity: str
    total: str


@dataclass(frozen=True)
class CorrectionView:
    """One correction as the entry page shows it."""

    id: int
    when: str
    who: str
    cause: str
    state: str
    state_label: str
    state_help: str
    action: str | None
    before_amount: str
    after_amount: str
    before_lines: tuple[VersionLine, ...]
    after_lines: tuple[VersionLine, ...]
    advice: str | None
    recorded: str | None
    from_amazon: bool = True
    changes: tuple[str, ...] = ()  # a remap's changes of accounts and tax, in words


def _lines(payload: dict[str, Any] | None) -> tuple[VersionLine, ...]:
    item = parse_transaction(payload or {})
    if not isinstance(item, Transaction):
        return ()
    return tuple(
        VersionLine(
            title=line.product_title or line.asin or "(no title)",
            quantity=str(line.item_quantity) if line.item_quantity is not None else "",
            total=money_text(line.total_amount.amount) if line.total_amount else "",
        )
        for line in item.line_items
    )


def describe_correction(correction: Correction) -> CorrectionView:
    """A correction as its entry's page shows it."""
    label, help_text = STATES.get(CorrectionState(correction.state), (str(correction.state), ""))
    return CorrectionView(
        id=int(correction.id or 0),
        when=correction.created_at.strftime("%Y-%m-%d %H:%M UTC"),
        who=correction.actor or "this app",
        cause=CAUSES.get(str(correction.cause), str(correction.cause)),
        state=str(correction.state),
        state_label=label,
        state_help=help_text,
        action=ACTIONS.get(correction.action or "") if correction.action else None,
        before_amount=amount_text(correction.before_payload),
        after_amount=amount_text(correction.after_payload),
        before_lines=_lines(correction.before_payload),
        after_lines=_lines(correction.after_payload),
        advice=correction.reason,
        from_amazon=str(correction.cause).startswith("amazon"),
        changes=tuple(differences(correction.before_document or {}, correction.body or {}))
        if str(correction.cause) == "remap"
        else (),
        recorded=(
            correction.recorded_at.strftime("%Y-%m-%d %H:%M UTC")
            if correction.recorded_at
            else None
        ),
    )


def latest_changes(session: Session, entry_ids: Iterable[int]) -> dict[int, Correction]:
    """Entry id -> its latest correction that is not replaced (one query), for
    ``review_note``."""
    wanted = list(entry_ids)
    if not wanted:
        return {}
    found = session.exec(
        select(Correction)
        .where(
            col(Correction.ledger_entry_id).in_(wanted),
            col(Correction.state) != CorrectionState.SUPERSEDED,
        )
        .order_by(col(Correction.id))
    )
    return {c.ledger_entry_id: c for c in found}


def review_of(session: Session, entry: LedgerEntry) -> str | None:
    """What the entry page says about Amazon's change after posting (None: no change)."""
    if not entry.needs_review:
        return None
    latest = latest_changes(session, [int(entry.id or 0)]).get(int(entry.id or 0))
    return review_note(str(entry.state), entry.reason_code, entry.reason, latest)


def entry_corrections(session: Session, entry_id: int) -> list[CorrectionView]:
    """The entry's corrections, newest first."""
    return [describe_correction(c) for c in reversed(corrections_of(session, entry_id))]
