"""Helpers shared by the wizard, mapping and entry view tests (no tests of its own).

The org's chart is put straight into the chart cache in Redis, so pages are built without any
Xero call; ledger entries are recorded from Amazon-shaped payloads with the ledger's own code.
"""

from __future__ import annotations

import json
import re
from typing import Any

from plugin import ledger
from plugin.amazon.models import parse_transactions_page
from plugin.db import session_scope
from plugin.infra.keys import chart_cache_key
from plugin.mapping.chart import XERO_PARTS
from plugin.mapping.files import load_mapping
from plugin.mapping.store import record_payment_methods
from plugin.mapping.store import save_mapping
from plugin.models import AmazonConnection
from plugin.models import OnboardingStep
from plugin.models import Organisation
from tests.common.amazon_payloads import uk_card_charge
from tests.common.amazon_payloads import uk_card_refund
from tests.common.charts import UK_CONTACT_ID
from tests.common.charts import uk_chart
from tests.common.charts import uk_mapping

HX = {"HX-Request": "true"}


def seed_chart(redis_client: Any, org_id: int, chart: dict[str, Any] | None = None) -> None:
    """Put a CHART.json-shaped org into the chart cache (as if just read from Xero)."""
    document = chart or uk_chart()
    parts = {name: document.get(name, []) for name in XERO_PARTS}
    redis_client.set(chart_cache_key(org_id), json.dumps(parts), ex=3600)


def make_org(
    make_member: Any,
    db_session: Any,
    step: OnboardingStep = OnboardingStep.MAP_ACCOUNTS,
    user: str = "alice",
    tenant: str = "tenant-uk",
    amazon: bool = True,
) -> tuple[Any, Organisation]:
    """A member and their UK org at ``step``, with an Amazon Business UK store connected."""
    member, org = make_member(
        user,
        tenant,
        "Acme Widgets Ltd",
        base_currency="GBP",
        amazon_contact_id=UK_CONTACT_ID,
        onboarding_step=step,
    )
    if amazon:
        db_session.add(
            AmazonConnection(
                organisation_id=org.id, name="Amazon Business UK", store="UK", region="EU"
            )
        )
        db_session.commit()
    return member, org


def uk_transactions() -> list[dict[str, Any]]:
    """A small UK ledger: card charge and refund, Pay by Invoice, an unmapped Amex, a new rate."""
    return [
        uk_card_charge(transaction_id="TX-CARD-1"),
        uk_card_refund(transaction_id="TX-REFUND-1"),
        uk_card_charge(
            transaction_id="TX-PBI-1",
            instrument="Pay by Invoice",
            last4=None,
            invoice_number="GB1PBI0001",
        ),
        uk_card_charge(transaction_id="TX-AMEX-1", instrument="American Express", last4="1005"),
        uk_card_charge(transaction_id="TX-CARD-2", date="2026-03-06T10:00:00.000Z"),
    ]


def record(app: Any, org_id: int, transactions: list[dict[str, Any]]) -> None:
    """Record Amazon transactions in the org's ledger and register their payment methods."""
    page = parse_transactions_page({"transactions": transactions}, "test page")
    with session_scope(app) as session:
        ledger.record_page(session, org_id, None, page)
        record_payment_methods(session, org_id, page.transactions)
        session.commit()


def save_uk_mapping(app: Any, org_id: int, **overrides: Any) -> None:
    """Save the UK test mapping for the org."""
    with session_scope(app) as session:
        save_mapping(session, org_id, load_mapping(uk_mapping(**overrides), "test"), "test")


def text_of(response: Any) -> str:
    """The response body as text."""
    return str(response.get_data(as_text=True))


def field_error(page: str, field_id: str) -> str:
    """The error message shown under a field ('' when none)."""
    match = re.search(
        rf'<p id="{re.escape(field_id)}-error" class="field-error">(.*?)</p>', page, re.S
    )
    return match.group(1).strip() if match else ""


def selected(page: str, field_id: str) -> str | None:
    """The value selected in a <select> (None when nothing is selected)."""
    match = re.search(rf'<select id="{re.escape(field_id)}".*?</select>', page, re.S)
    assert match, f"no select {field_id}"
    chosen = re.search(r'<option value="([^"]*)" selected>', match.group(0))
    return chosen.group(1) if chosen else None


def option_values(page: str, field_id: str) -> list[str]:
    """The values offered by a <select>."""
    match = re.search(rf'<select id="{re.escape(field_id)}".*?</select>', page, re.S)
    assert match, f"no select {field_id}"
    return re.findall(r'<option value="([^"]*)"', match.group(0))
