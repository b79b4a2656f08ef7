"""Issue 13 point 1 end to end: a purchase made at 23:30 UTC on 30 June, imported from the
sandbox's Amazon and posted to the sandbox's Xero, is dated by the organisation's calendar,
whose zone the app reads from the sandbox's ``GET /Organisation`` (``Timezone``): 1 July for a
London or Berlin org, 30 June for a New York org. A 30 June lock date (which the sandbox
enforces as Xero does) therefore stops only the New York one.

The org is the sandbox's Thames Stationery with its ``Timezone`` (and lock date) set as Xero's
settings would have them before the app is connected, and the sandbox's euro-zone Beispiel GmbH
(Berlin) buying on amazon.de."""

from __future__ import annotations

from datetime import date

import pytest

from plugin.db import session_scope
from plugin.models import EntryState
from plugin.models import Organisation
from plugin.xero.wiring import xero_client
from sandbox.xero.xerojson import ms_date
from tests.common.amazon_payloads import DE_MARKETPLACE
from tests.common.amazon_payloads import uk_card_charge
from tests.common.purchases_e2e import BEISPIEL
from tests.common.purchases_e2e import buy_and_post
from tests.common.purchases_e2e import connected
from tests.common.purchases_e2e import connected_thames
from tests.common.purchases_e2e import documents_of
from tests.common.tax_orgs import BANK
from tests.common.tax_orgs import item
from tests.common.tax_orgs import purchase

LATE_ON_30_JUNE = "2026-06-30T23:30:00.000Z"
TRANSACTION = "LateJune2330UtcTx01"
ZONES = {
    "london": ("GMTSTANDARDTIME", date(2026, 7, 1)),
    "berlin": ("W.EUROPESTANDARDTIME", date(2026, 7, 1)),
    "new-york": ("EASTERNSTANDARDTIME", date(2026, 6, 30)),
}


def buy_late_in_june(app, org, sandbox, run_jobs):
    """The late-June purchase, bought on Amazon, imported for its week and posted."""
    raw = uk_card_charge(
        transaction_id=TRANSACTION,
        date=LATE_ON_30_JUNE,
        order_id="203-0630233-0000001",
        invoice_number="GBLATEJUNE01",
    )
    raw["feedDate"] = "2026-07-01T02:00:00.000Z"
    return buy_and_post(app, org, sandbox, run_jobs, raw, date(2026, 6, 28), date(2026, 7, 3))


def _posted(sandbox, org):
    return documents_of(sandbox, org, "BankTransactions", TRANSACTION)


@pytest.mark.parametrize("place", list(ZONES))
def test_a_late_utc_purchase_is_dated_by_the_orgs_calendar_in_xero(
    app_config, make_app, sandbox, monkeypatch, run_jobs, place
):
    timezone, day = ZONES[place]
    app, org = connected_thames(app_config, make_app, sandbox, monkeypatch, timezone)
    with session_scope(app) as db:
        assert db.get(Organisation, org.id).timezone == timezone  # read from GET /Organisation
    entry = buy_late_in_june(app, org, sandbox, run_jobs)
    assert entry.state == EntryState.POSTED, entry.reason
    [document] = _posted(sandbox, org)
    assert document["Date"] == ms_date(day)


@pytest.mark.parametrize("place", list(ZONES))
def test_a_30_june_lock_date_stops_only_the_org_whose_day_is_30_june(
    app_config, make_app, sandbox, monkeypatch, run_jobs, place
):
    timezone, day = ZONES[place]
    lock = date(2026, 6, 30)
    app, org = connected_thames(app_config, make_app, sandbox, monkeypatch, timezone, lock=lock)
    entry = buy_late_in_june(app, org, sandbox, run_jobs)
    if day > lock:
        assert entry.state == EntryState.POSTED, entry.reason
        assert [t["Date"] for t in _posted(sandbox, org)] == [ms_date(day)]
        return
    assert entry.state == EntryState.HELD
    assert "lock" in str(entry.reason).lower(), entry.reason
    assert _posted(sandbox, org) == []
    # And Xero (the sandbox) would have refused it: the same body, sent anyway.
    with session_scope(app) as db:
        stored = db.get(Organisation, org.id)
        xero = xero_client(stored, app)
        body = {
            "Type": "SPEND",
            "Contact": {"Name": "Amazon Business"},
            "BankAccount": {"Code": "800"},
            "Date": day.isoformat(),
            "Reference": f"lock test {TRANSACTION}",
            "LineAmountTypes": "Exclusive",
            "LineItems": [
                {"Description": "Pencils", "Quantity": 1, "UnitAmount": 1, "AccountCode": "429"}
            ],
        }
        [result] = xero.create_documents("BankTransactions", [body], "lock-date-probe")
    assert not result.ok
    assert any("lock date" in m for m in result.messages), result.messages


@pytest.mark.parametrize("lock", [None, date(2026, 6, 30)])
def test_the_euro_zone_org_dates_a_late_utc_purchase_1_july_even_past_a_30_june_lock(
    app_config, make_app, sandbox, monkeypatch, run_jobs, lock
):
    """Beispiel GmbH (EUR, Berlin: Timezone as the sandbox seeds it) buying on amazon.de."""
    app, org = connected(app_config, make_app, sandbox, monkeypatch, BEISPIEL, lock=lock)
    assert org.timezone == "W.EUROPESTANDARDTIME"
    raw = purchase("DE", BANK, [item("100.00", "19.00", "0.19")])
    raw.update(
        {
            "transactionId": TRANSACTION,
            "marketplaceId": DE_MARKETPLACE,
            "transactionDate": LATE_ON_30_JUNE,
            "feedDate": "2026-07-01T02:00:00.000Z",
            "invoiceNumber": "DELATEJUNE01",
        }
    )
    entry = buy_and_post(
        app, org, sandbox, run_jobs, raw, date(2026, 6, 28), date(2026, 7, 3), store="DE"
    )
    assert entry.state == EntryState.POSTED, entry.reason
    [document] = _posted(sandbox, org)
    assert document["Date"] == ms_date(date(2026, 7, 1))
    assert document["CurrencyCode"] == "EUR"
