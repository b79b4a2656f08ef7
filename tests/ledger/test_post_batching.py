"""Full batches when a scan of ready entries mixes endpoints (issue 17 point 1): part-filled
batches wait for the next scan instead of each costing a call."""

from __future__ import annotations

import pytest

from plugin import ledger
from plugin.ledger import post as ledger_post
from plugin.posting import PostingContext
from tests.common.amazon_payloads import uk_card_charge
from tests.common.charts import chart_of
from tests.common.charts import mapping_of
from tests.common.charts import uk_chart
from tests.common.charts import uk_mapping
from tests.ledger.test_ledger import FakeXero
from tests.ledger.test_ledger import entries
from tests.ledger.test_ledger import record


@pytest.fixture
def rules():
    return mapping_of(uk_mapping()), chart_of(uk_chart()), PostingContext()


def card_and_bill_purchases(count: int) -> list[dict]:
    """``count`` card purchases (spend money) and ``count`` Pay by Invoice ones (bills), one
    of each a day, so every scan holds both."""
    made = []
    for i in range(count):
        date = f"2026-03-{1 + i // 24:02d}T{i % 24:02d}:15:00.000Z"
        made.append(uk_card_charge(transaction_id=f"CARD{i:03d}", date=date))
        made.append(
            uk_card_charge(
                transaction_id=f"BILL{i:03d}",
                date=date,
                instrument="Pay by Invoice",
                last4=None,
                invoice_number=f"GB1BILL{i:05d}",
            )
        )
    return made


def test_a_scan_mixing_endpoints_sends_full_batches(db_session, org, rules, monkeypatch):
    monkeypatch.setattr(ledger_post, "BATCH_SIZE", 5)
    monkeypatch.setattr(ledger_post, "SCAN", 12)  # 6 of each endpoint: one full, one over
    mapping, chart, context = rules
    record(db_session, org, card_and_bill_purchases(15))
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    xero = FakeXero()
    counts = ledger.post_ready(db_session, org.id, xero, mapping, chart, context)
    assert counts.posted == 30
    endpoints = sorted(d["endpoint"] for d in xero.documents.values())
    assert endpoints == ["BankTransactions"] * 15 + ["Invoices"] * 15
    assert xero.calls == 6  # 3 + 3 full batches (each scan used to send 5 + 1 per endpoint)
    assert all(e.xero_document_id for e in entries(db_session, org))


def test_a_scan_without_a_full_batch_still_sends(db_session, org, rules, monkeypatch):
    monkeypatch.setattr(ledger_post, "BATCH_SIZE", 5)
    monkeypatch.setattr(ledger_post, "SCAN", 8)  # 4 of each: never a full batch
    mapping, chart, context = rules
    record(db_session, org, card_and_bill_purchases(6))
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    counts = ledger.post_ready(db_session, org.id, FakeXero(), mapping, chart, context)
    assert counts.posted == 12
