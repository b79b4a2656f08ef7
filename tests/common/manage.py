"""Shared set-up for the Manage Integrations view tests."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from typing import Any

from plugin.models import AmazonConnection
from plugin.models import LedgerEntry
from plugin.models import OnboardingStep

HTMX = {"HX-Request": "true"}


def ready_org(make_member: Any, db_session: Any, **fields: Any) -> tuple[Any, Any]:
    """A member and an organisation that finished set-up, with one active UK store."""
    fields.setdefault("onboarding_step", OnboardingStep.DONE)
    fields.setdefault("sync_enabled", True)
    user, org = make_member(**fields)
    db_session.add(
        AmazonConnection(organisation_id=org.id, name="Amazon Business UK", store="UK", region="EU")
    )
    db_session.commit()
    return user, org


def add_entries(
    db_session: Any,
    org: Any,
    count: int,
    state: str = "held",
    reason_code: str | None = "payment_method_unmapped",
    reason: str | None = "No Xero account is mapped for Visa ending 9911.",
    **fields: Any,
) -> list[LedgerEntry]:
    """``count`` ledger entries of one state for the organisation."""
    start = datetime(2026, 3, 1, tzinfo=UTC)
    prefix = fields.pop("prefix", state)
    rows = [
        LedgerEntry(
            organisation_id=org.id,
            amazon_transaction_id=f"{prefix}-{org.id}-{i}",
            transaction_type="CHARGE",
            transaction_date=start + timedelta(hours=i),
            amount=Decimal("12.50"),
            currency="GBP",
            payment_method_key="Visa:9911",
            order_id=f"204-{i:07d}",
            state=state,
            reason_code=reason_code if state in ("held", "failed") else None,
            reason=reason if state in ("held", "failed") else None,
            **fields,
        )
        for i in range(count)
    ]
    db_session.add_all(rows)
    db_session.commit()
    return rows
