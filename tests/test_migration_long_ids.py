"""Migrations 0008 and 0009: order ids and invoice numbers up to 255 characters, and
``charge_identifier`` taken from the payloads already stored, with every row kept (SQLite copies
``ledger_entry``; its children must not lose a row)."""

from __future__ import annotations

import json

from sqlalchemy import text

from plugin.db import make_engine
from plugin.db import upgrade

NOW = "2026-01-01 00:00:00"
LONG_ORDER = "203-" + "9" * 251


def test_rows_are_kept_and_charge_identifiers_filled(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0007_settle")
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
        for entry_id, payload in ((7, {"chargeIdentifier": "RA5RE0N60"}), (8, {})):
            connection.execute(
                text(
                    "INSERT INTO ledger_entry (id, organisation_id, amazon_transaction_id, "
                    "transaction_type, amount, currency, raw_payload, payload_hash, state, "
                    "needs_review, attempts, created_at, updated_at) VALUES (:id, 5, :tx, "
                    "'CHARGE', 1, 'GBP', :payload, 'h', 'fetched', 0, 0, :now, :now)"
                ),
                {"id": entry_id, "tx": f"TX{entry_id}", "payload": json.dumps(payload), "now": NOW},
            )
    engine.dispose()
    upgrade(url)
    engine = make_engine(url, pooled=False)
    with engine.begin() as connection:
        rows = connection.execute(
            text("SELECT id, charge_identifier FROM ledger_entry ORDER BY id")
        ).all()
        connection.execute(
            text("UPDATE ledger_entry SET order_id = :order WHERE id = 7"), {"order": LONG_ORDER}
        )
        kept = connection.execute(text("SELECT order_id FROM ledger_entry WHERE id = 7")).scalar()
    engine.dispose()
    assert [tuple(r) for r in rows] == [(7, "RA5RE0N60"), (8, None)]
    assert kept == LONG_ORDER
