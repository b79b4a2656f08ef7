"""Correcting posted documents after a mapping change, end to end against the live sandbox
(issue 14 point 3): the preview lists exactly the documents whose account would change and how;
confirming corrects them in place in Xero (same documents, line ids kept), a reconciled one is
left with the reason, and a second look finds nothing left to correct."""

from __future__ import annotations

import re

import pytest
import requests
from sqlmodel import select

from plugin.db import session_scope
from plugin.infra.queues import get_queue
from plugin.ledger.correction_model import Correction
from plugin.mapping import files as mapping_file
from plugin.mapping.store import save_mapping
from plugin.models import EntryState
from tests.common.pipeline import assert_exactly_once
from tests.common.pipeline import finish_setup
from tests.common.pipeline import import_days
from tests.common.pipeline import ledger_entries
from tests.common.pipeline import sandbox_documents
from tests.common.pipeline import thames_mapping


@pytest.fixture
def sandbox_config():
    """Enough Xero calls a minute for every document of the import to be corrected at once."""
    return {"SANDBOX_AMAZON_TRANSACTIONS": 60, "SANDBOX_XERO_MINUTE_LIMIT": 1000}


@pytest.fixture
def app_config(app_config):
    app_config["XERO_MINUTE_LIMIT"] = 1000
    return app_config


def bank_documents(sandbox, org) -> dict[str, dict]:
    return {d["BankTransactionID"]: d for d in sandbox_documents(sandbox, org)["BankTransactions"]}


def test_a_changed_expense_account_is_corrected_in_posted_documents(pipeline, sandbox, run_jobs):
    app, client, org = pipeline
    import_days(app, org, days=30)
    run_jobs()
    finish_setup(app, org, include_new_card=True)
    get_queue("high", app).enqueue("jobs.posting.post_ready", org.id)
    run_jobs()
    # The posting run left the chart in the cache: the page reads it from there.
    assert "Nothing to correct" in client.get(f"/orgs/{org.id}/manage/remap").get_data(as_text=True)
    changed = thames_mapping(include_new_card=True)
    changed["expense_default_account_code"] = "461"
    with session_scope(app) as db:
        save_mapping(db, org.id, mapping_file.load_mapping(changed, "test"), actor="test")

    page = client.get(f"/orgs/{org.id}/manage/remap").get_data(as_text=True)
    listed = sorted(set(re.findall(r'name="transaction_id" value="([^"]+)"', page)))
    assert "account 429 → 461" in page
    entries = {e.amazon_transaction_id: e for e in ledger_entries(app, org)}
    on_default = [entries[t] for t in listed if entries[t].xero_document_type == "BankTransactions"]
    assert len(on_default) >= 3
    posted = [e for e in entries.values() if e.state == EntryState.POSTED]
    assert len(listed) < len(posted)  # lines under the GL-code rule keep their account
    reconciled = on_default[0]
    requests.post(
        f"{sandbox.url}/_sandbox/xero/documents/{reconciled.xero_document_id}/reconcile",
        json={},
        timeout=10,
    ).raise_for_status()
    before = bank_documents(sandbox, org)
    answer = client.post(
        f"/orgs/{org.id}/manage/remap",
        data={"transaction_id": listed},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200
    assert f"Correcting {len(listed)} documents" in answer.get_data(as_text=True)
    run_jobs()

    after = bank_documents(sandbox, org)
    entries = {e.amazon_transaction_id: e for e in ledger_entries(app, org)}
    for entry in on_default[1:]:
        document, old = after[entry.xero_document_id], before[entry.xero_document_id]
        codes = [line["AccountCode"] for line in document["LineItems"]]
        assert codes != [line["AccountCode"] for line in old["LineItems"]]
        assert "461" in codes
        assert [line["LineItemID"] for line in document["LineItems"]] == [
            line["LineItemID"] for line in old["LineItems"]
        ]
        assert document["Total"] == old["Total"]
    assert after[reconciled.xero_document_id] == before[reconciled.xero_document_id] | {
        "UpdatedDateUTC": after[reconciled.xero_document_id]["UpdatedDateUTC"]
    }
    assert entries[reconciled.amazon_transaction_id].reason_code == "remap_held"
    with session_scope(app) as db:
        states = sorted(str(c.state) for c in db.exec(select(Correction)))
    assert states.count("held") >= 1
    assert states.count("applied") >= len(on_default) - 1
    assert_exactly_once(app, sandbox, org)
    text = client.get(f"/orgs/{org.id}/entries/{on_default[1].amazon_transaction_id}").get_data(
        as_text=True
    )
    assert "Corrected to the new mapping" in text
    assert re.search(r"Line \d+: account 429 → 461", text)
    # The held one is still listed (it still differs); the corrected ones are not.
    again = client.get(f"/orgs/{org.id}/manage/remap").get_data(as_text=True)
    still = set(re.findall(r'name="transaction_id" value="([^"]+)"', again))
    assert reconciled.amazon_transaction_id in still
    assert still <= {t for t, e in entries.items() if e.reason_code == "remap_held"}
