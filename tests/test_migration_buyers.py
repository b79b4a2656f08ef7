"""Migration 0016: ``purchase_orders`` and ``buyer_name`` filled in from the payloads already
stored (distinct PO numbers, blank ones left out), and nothing for a payload without them."""

from __future__ import annotations

import json

from sqlalchemy import text

from plugin.db import make_engine
from plugin.db import upgrade

NOW = "2026-01-01 00:00:00"
PAYLOADS = {
    7: {
        "buyer": {"id": "b", "name": " Jane Buyer "},
        "transactionLineItems": [
            {"purchaseOrderNumber": "PO-1"},
            {"purchaseOrderNumber": ""},
            {"purchaseOrderNumber": "PO-2"},
            {"purchaseOrderNumber": "PO-1"},
        ],
    },
    8: {"transactionLineItems": []},
}


def test_existing_entries_get_their_purchase_orders_and_buyer(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0012")
    engine = make_engine(url, pooled=False)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO organisation (id, xero_tenant_id, name, country, base_currency, "
                "timezone, xero_scopes, status, sync_enabled, onboarding_step, created_at, "
                "updated_at) VALUES (5, 't-5', 'Org', '', '', '', '', 'active', 1, 'done', "
                ":now, :now)"
            ),
            {"now": NOW},
        )
        for entry_id, payload in PAYLOADS.items():
            connection.execute(
                text(
                    "INSERT INTO ledger_entry (id, organisation_id, amazon_transaction_id, "
                    "transaction_type, amount, currency, raw_payload, payload_hash, state, "
                    "needs_review, attempts, duplicate_cleared, created_at, updated_at) VALUES "
                    "(:id, 5, :tx, 'CHARGE', 1, 'GBP', :payload, 'h', 'fetched', 0, 0, 0, :now, "
                    ":now)"
                ),
                {"id": entry_id, "tx": f"TX{entry_id}", "payload": json.dumps(payload), "now": NOW},
            )
    engine.dispose()
    upgrade(url)
    engine = make_engine(url, pooled=False)
    with engine.begin() as connection:
        rows = connection.execute(
            text("SELECT id, purchase_orders, buyer_name FROM ledger_entry ORDER BY id")
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [(7, "PO-1 PO-2", "Jane Buyer"), (8, None, None)]
