"""Saving one section of the mapping page: read the post, check it against the chart, save it
or say exactly which field is wrong, and (once set-up is finished) re-check held entries.

A section is refused (nothing saved) when the form or ``validate_mapping`` finds a problem in
*that* section; problems of other sections are theirs to report when they are saved (and the
review page shows what posting would hold).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace
from typing import Final

from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.infra.queues import enqueue_once
from plugin.ledger.counts import counts_by_state
from plugin.mapping.chart_checks import validate_mapping
from plugin.mapping.field_errors import errors_for
from plugin.mapping.files import MappingFileError
from plugin.mapping.forms import SectionForm
from plugin.mapping.forms import SectionPost
from plugin.mapping.json_text import read_json
from plugin.mapping.page import MappingInputs
from plugin.mapping.page import MappingPage
from plugin.mapping.page import build_page
from plugin.mapping.page import stored_mapping
from plugin.mapping.store import MappingRejected
from plugin.mapping.store import import_mapping
from plugin.mapping.store import payment_method_rows
from plugin.mapping.store import save_mapping
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import OnboardingStep
from plugin.models import Organisation
from plugin.models import PaymentMethod

SAVED: Final = {
    "payment-methods": "Payment methods saved.",
    "expenses": "Expense accounts saved.",
    "taxes": "Tax rates saved.",
    "line-types": "Line-item accounts saved.",
    "tracking": "Tracking categories saved.",
}


@dataclass
class SectionResult:
    """The page to show after a section post, its status and how many entries are re-checked."""

    page: MappingPage
    status: int
    rechecking: int | None = None


def check_section(
    inputs: MappingInputs, section: str, form: SectionForm
) -> tuple[SectionPost, list[str]]:
    """Read a section post; return it with field errors filled in and section-wide messages."""
    post = form.read(inputs.stored)
    problems = validate_mapping(
        post.mapping, inputs.chart, payments_enabled=inputs.payments_enabled
    )
    fields, general = errors_for(problems, section, post.mapping, inputs.methods)
    for where, message in fields.items():
        post.errors.setdefault(where, message)
    return post, general


def acknowledge(session: Session, org_id: int, ids: Sequence[int]) -> None:
    """Mark the given payment methods as seen by a person (no longer flagged as new)."""
    if not ids:
        return
    rows = session.exec(
        select(PaymentMethod).where(
            PaymentMethod.organisation_id == org_id, col(PaymentMethod.id).in_(list(ids))
        )
    )
    for row in rows:
        if not row.acknowledged:
            row.acknowledged = True
            session.add(row)
    session.commit()


def entries_to_recheck(session: Session, org_id: int) -> int:
    """Return how many held or failed entries a mapping change will re-check."""
    return len(
        session.exec(
            select(LedgerEntry.id).where(
                LedgerEntry.organisation_id == org_id,
                col(LedgerEntry.state).in_([EntryState.HELD, EntryState.FAILED]),
            )
        ).all()
    )


def recheck_after_change(session: Session, org: Organisation) -> int | None:
    """Once set-up is finished, queue posting of held and failed entries; return how many."""
    if org.onboarding_step != OnboardingStep.DONE:
        return None
    enqueue_once("high", "jobs.posting.post_ready", f"remap-{org.id}", org.id, True)
    return entries_to_recheck(session, int(org.id or 0))


def _refreshed(session: Session, inputs: MappingInputs, org_id: int) -> MappingInputs:
    stored, unreadable = stored_mapping(session, org_id)
    methods = tuple(payment_method_rows(session, org_id))
    return replace(inputs, stored=stored, stored_unreadable=unreadable, methods=methods)


def save_section(
    session: Session,
    org: Organisation,
    inputs: MappingInputs,
    section: str,
    form: SectionForm,
    actor: str,
) -> SectionResult:
    """Check and save one section; the page shows the outcome next to the fields."""
    org_id = int(org.id or 0)
    post, general = check_section(inputs, section, form)
    if post.errors or general:
        return _refused(inputs, section, post, general)
    try:
        save_mapping(session, org_id, post.mapping, actor, detail={"section": section})
    except MappingRejected as rejected:
        return _refused(inputs, section, post, [p.message for p in rejected.problems])
    acknowledge(session, org_id, form.acknowledged())
    rechecking = recheck_after_change(session, org)
    page = build_page(_refreshed(session, inputs, org_id))
    page.saved[section] = SAVED[section]
    if org.onboarding_step == OnboardingStep.DONE:  # the offer to correct what was posted
        page.posted_before = counts_by_state(session, org_id).get(EntryState.POSTED, 0)
        page.org_id = org_id
    return SectionResult(page, 200, rechecking)


def _refused(
    inputs: MappingInputs, section: str, post: SectionPost, general: list[str]
) -> SectionResult:
    page = build_page(inputs, shown=post.mapping)
    page.errors = dict(post.errors)
    page.general[section] = general
    return SectionResult(page, 422)


# --- Mapping file import ---------------------------------------------------------------------


@dataclass
class FileImport:
    """The outcome of importing a mapping file: success, or every reason it was refused."""

    ok: bool
    messages: list[str]
    rechecking: int | None = None


def import_file(
    session: Session,
    org: Organisation,
    inputs: MappingInputs,
    source: str,
    raw: bytes,
    actor: str,
) -> FileImport:
    """Check an uploaded mapping file against the chart and save it, or say why not."""
    try:
        change = import_mapping(
            session,
            int(org.id or 0),
            read_json(raw, source, MappingFileError),
            source,
            inputs.chart,
            actor=actor,
            payments_enabled=inputs.payments_enabled,
        )
    except MappingFileError as exc:
        return FileImport(False, [str(exc)])
    except MappingRejected as rejected:
        return FileImport(False, [str(rejected), *(str(p) for p in rejected.problems)])
    return FileImport(
        True,
        [f"Mapping imported from {source}: {change.describe()}."],
        recheck_after_change(session, org),
    )
