"""Creating the tracking options a mapping allows creating (``TrackingMapping.create_missing``):
before posting, the values of purchases held as ``tracking_option_to_create`` become options in
Xero, then the chart is read again and those purchases post by themselves.

At most ``MAX_PER_RUN`` options per run (each is a Xero call within the org's limits). An option
Xero refuses (a name it already has under another spelling, the 100-option limit, a missing
``accounting.settings`` scope) is logged and audited; its purchases stay held with their reason.
"""

from __future__ import annotations

import logging
from typing import Final

from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin import posting
from plugin.amazon.models import Transaction
from plugin.ledger.record import parsed
from plugin.models import AuditEvent
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.xero.client import XeroClient
from plugin.xero.errors import XeroValidationError
from plugin.xero.tracking import create_tracking_option

__all__ = ["MAX_PER_RUN", "create_missing_options", "options_wanted"]

log = logging.getLogger(__name__)

MAX_PER_RUN: Final = 50
WAITING: Final = "tracking_option_to_create"


def options_wanted(
    session: Session, org_id: int, mapping: posting.Mapping, chart: posting.Chart
) -> list[tuple[str, str]]:
    """(category, option) pairs the org's held purchases wait for, in order, once each."""
    if not any(entry.create_missing for entry in mapping.tracking):
        return []
    held = session.exec(
        select(LedgerEntry)
        .where(
            LedgerEntry.organisation_id == org_id,
            LedgerEntry.state == EntryState.HELD,
            LedgerEntry.reason_code == WAITING,
        )
        .order_by(col(LedgerEntry.id))
    )
    wanted: list[tuple[str, str]] = []
    for entry in held:
        transaction = parsed(entry)
        if not isinstance(transaction, Transaction):
            continue
        for pair in posting.options_to_create(transaction, mapping, chart):
            if pair not in wanted:
                wanted.append(pair)
    return wanted


def create_missing_options(
    session: Session,
    org_id: int,
    client: XeroClient,
    mapping: posting.Mapping,
    chart: posting.Chart,
) -> list[tuple[str, str]]:
    """Create in Xero the options held purchases wait for; return those created."""
    created: list[tuple[str, str]] = []
    for category_name, name in options_wanted(session, org_id, mapping, chart)[:MAX_PER_RUN]:
        category = chart.tracking_category(category_name)
        if category is None or not category.category_id:
            continue
        try:
            option = create_tracking_option(client, category.category_id, name)
        except XeroValidationError as exc:
            log.warning(
                "Xero refused option %r of %r for org %s: %s", name, category_name, org_id, exc
            )
            session.add(
                AuditEvent(
                    organisation_id=org_id,
                    actor="posting",
                    action="tracking_option_refused",
                    detail={"category": category_name, "option": name, "error": str(exc)[:500]},
                )
            )
            continue
        created.append((category_name, option.name or name))
        session.add(
            AuditEvent(
                organisation_id=org_id,
                actor="posting",
                action="tracking_option_created",
                detail={"category": category_name, "option": option.name or name},
            )
        )
    session.commit()
    return created
