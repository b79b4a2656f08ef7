"""Posting latency (``abx_posting_latency_seconds``): observed once per entry when its batch is
recorded, as the time from its arrival in the ledger to its posting."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from sqlmodel import select

from plugin import ledger
from plugin.infra import metrics
from plugin.models import LedgerEntry
from tests.ledger.test_ledger import FakeXero
from tests.ledger.test_ledger import charges
from tests.ledger.test_ledger import record
from tests.ledger.test_ledger import rules  # noqa: F401 - the fixture

NAME = "abx_posting_latency_seconds"


def sample(name: str, **labels: str) -> float:
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(metrics.multiprocess_dir()))
    return registry.get_sample_value(name, labels) or 0.0


def test_each_posted_entry_is_observed_with_its_wait(app, db_session, org, rules):  # noqa: F811
    mapping, chart, context = rules
    record(db_session, org, charges(60))
    ledger_entries = list(
        db_session.exec(select(LedgerEntry).where(LedgerEntry.organisation_id == org.id))
    )
    two_hours_ago = ledger_entries[0].created_at - timedelta(hours=2)
    for entry in ledger_entries[:10]:
        entry.created_at = two_hours_ago
        db_session.add(entry)
    db_session.commit()
    ledger.evaluate(db_session, org.id, mapping, chart, context)
    count, slow = sample(NAME + "_count"), sample(NAME + "_bucket", le="3600.0")
    hours = sample(NAME + "_bucket", le="14400.0")

    counts = ledger.post_ready(db_session, org.id, FakeXero(), mapping, chart, context)

    assert counts.posted == 60
    assert sample(NAME + "_count") == count + 60
    assert sample(NAME + "_bucket", le="3600.0") == slow + 50  # all but the ten 2-hour waits
    assert sample(NAME + "_bucket", le="14400.0") == hours + 60
