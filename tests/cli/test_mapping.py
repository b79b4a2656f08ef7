"""The `flask preview`, `mapping-export` and `mapping-import` commands, as an operator runs them."""

from __future__ import annotations

import json
import socket
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from plugin.auth.token_store import save_xero_token
from plugin.mapping.preview import preview as preview_plan
from plugin.mapping.store import export_mapping
from plugin.mapping.store import load_mapping
from plugin.mapping.store import save_mapping
from plugin.posting import Mapping
from tests.common.amazon_payloads import transaction
from tests.common.amazon_payloads import uk_card_charge
from tests.common.amazon_payloads import uk_card_refund
from tests.common.amazon_payloads import uk_line
from tests.common.amazon_payloads import us_card_charge
from tests.common.amazon_payloads import us_card_refund
from tests.common.amazon_payloads import us_pbi_charge
from tests.common.amazon_payloads import us_pbi_refund
from tests.common.charts import account_id
from tests.common.charts import mapping_of
from tests.common.charts import uk_chart
from tests.common.charts import uk_mapping
from tests.common.charts import us_chart
from tests.common.charts import us_mapping
from tests.common.xero import API
from tests.common.xero import XERO_URL
from tests.common.xero import mock_chart


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """Point the app's Xero at the mocked API."""
    return {
        **app_config,
        "XERO_API_URL": XERO_URL,
        "XERO_IDENTITY_URL": "https://identity.xero.test",
        "XERO_CLIENT_ID": "cid",
        "XERO_CLIENT_SECRET": "secret",
    }


@pytest.fixture
def run(app):
    """Invoke a command of ours the way `flask --app wsgi ...` does (create_app registers them)."""
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=[str(a) for a in args])


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def files(tmp_path: Path, transactions: list, mapping: dict, chart: dict) -> list[str]:
    return [
        "--transactions",
        str(write(tmp_path / "TX.json", {"transactions": transactions})),
        "--mapping",
        str(write(tmp_path / "MAP.json", mapping)),
        "--chart",
        str(write(tmp_path / "CHART.json", chart)),
    ]


# --- preview ---------------------------------------------------------------------------------

UK_INPUT = [
    uk_card_charge(),
    uk_card_refund(),
    transaction(
        transaction_id="DiscoverT1",
        currency="GBP",
        instrument="Discover",
        last4="1111",
        lines=[uk_line()],
    ),
    {"transactionId": "BrokenT1", "amount": "not money"},
    uk_card_charge(),  # the same transaction again
]
US_INPUT = [us_card_charge(), us_card_refund(), us_pbi_charge(), us_pbi_refund()]


@pytest.mark.parametrize(
    ("transactions", "mapping", "chart", "endpoints", "held"),
    [
        (
            UK_INPUT,
            uk_mapping(),
            uk_chart(),
            ["BankTransactions", "BankTransactions"],
            ["DiscoverT1", "BrokenT1", "1x47pVc03Ffs71cjjCct"],
        ),
        (
            US_INPUT,
            us_mapping(),
            us_chart(),
            ["BankTransactions", "BankTransactions", "Invoices", "CreditNotes"],
            [],
        ),
    ],
    ids=["uk", "us"],
)
def test_preview_prints_designs_json(run, tmp_path, transactions, mapping, chart, endpoints, held):
    result = run("preview", *files(tmp_path, transactions, mapping, chart))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    out = json.loads(result.stdout, parse_float=Decimal)  # amounts exact, as posting makes them
    assert list(out) == ["documents", "held"]
    assert all(list(d) == ["endpoint", "amazon_transaction_id", "body"] for d in out["documents"])
    assert all(list(h) == ["amazon_transaction_id", "reason"] for h in out["held"])
    assert [d["endpoint"] for d in out["documents"]] == endpoints
    assert [h["amazon_transaction_id"] for h in out["held"]] == held
    # every input transaction appears exactly once, in one list or the other
    ids_in = Counter(t["transactionId"] for t in transactions)
    ids_out = Counter(e["amazon_transaction_id"] for e in out["documents"] + out["held"])
    assert ids_out == ids_in
    # the bodies are exactly what posting would send
    expected = preview_plan({"transactions": transactions}, mapping, chart)
    assert [d["body"] for d in out["documents"]] == [d["body"] for d in expected["documents"]]


def test_preview_reasons_say_what_to_do(run, tmp_path) -> None:
    out = json.loads(run("preview", *files(tmp_path, UK_INPUT, uk_mapping(), uk_chart())).stdout)
    reasons = {h["amazon_transaction_id"]: h["reason"] for h in out["held"]}
    assert "Payment method Discover ending 1111 is not mapped" in reasons["DiscoverT1"]
    assert reasons["BrokenT1"].startswith("Amazon sent a transaction we could not read")


def test_preview_of_a_spend_money_charge(run, tmp_path) -> None:
    out = json.loads(
        run("preview", *files(tmp_path, [uk_card_charge()], uk_mapping(), uk_chart())).stdout
    )
    body = out["documents"][0]["body"]
    assert (body["Type"], body["BankAccount"], body["CurrencyCode"]) == (
        "SPEND",
        {"AccountID": account_id("800")},
        "GBP",
    )
    assert body["Contact"] == {"ContactID": uk_chart()["Contact"]["ContactID"]}


def test_preview_of_a_eur_card_bill_shows_its_payment(run, tmp_path) -> None:
    """A EUR purchase on the GBP Visa mapped bill_paid_from_account: the bill and its payment."""
    from tests.common.amazon_payloads import eur_line

    mapping = uk_mapping()
    mapping["payment_methods"][0]["foreign_currency"] = "bill_paid_from_account"
    eur = transaction(currency="EUR", lines=[eur_line()], transaction_id="EURTX")
    out = json.loads(run("preview", *files(tmp_path, [eur], mapping, uk_chart())).stdout)
    (document,) = out["documents"]
    assert document["endpoint"] == "Invoices"
    assert (document["body"]["Type"], document["body"]["CurrencyCode"]) == ("ACCPAY", "EUR")
    assert document["payment"] == {
        "target": "Invoices",
        "account": {"AccountID": account_id("800")},
        "date": "2026-03-04",
        "amount": eur["amount"]["amount"],
        "currency": "EUR",
        "account_currency": "GBP",
        "reference": document["body"]["InvoiceNumber"],
        "currency_rate": None,
    }
    held = json.loads(run("preview", *files(tmp_path, [eur], uk_mapping(), uk_chart())).stdout)[
        "held"
    ]
    assert len(held) == 1
    assert "Bill in the purchase currency, paid from this account" in held[0]["reason"]


def bad_file(tmp_path: Path, name: str, content: bytes | None) -> Path:
    path = tmp_path / name
    if content is None:
        return path  # does not exist
    if content == b"<dir>":
        path.mkdir()
        return path
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("which", "content", "message"),
    [
        ("transactions", None, "TX.json: $: file not found"),
        ("mapping", b"<dir>", "MAP.json: $: is a directory, not a file"),
        ("chart", b"", "CHART.json: $: the file is empty"),
        ("mapping", b'{"version": 1,\n "payment_methods": [}', "MAP.json: line 2 column"),
        ("transactions", b"{\xff\xfe}", "TX.json: line 1 column 2: not UTF-8 text"),
        ("transactions", b'{"transactions": 5}', "TX.json: $: 'transactions' should be a list"),
        ("transactions", b"[]", "TX.json: $: the response should be an object"),
        ("mapping", b'{"version": 3}', "MAP.json: $.version: should be 1 or 2, got 3"),
        (
            "mapping",
            json.dumps(uk_mapping(expense_rule=[])).encode(),
            "MAP.json: $.expense_rule: unknown key",
        ),
        (
            "chart",
            json.dumps(uk_chart(Organisation={"Name": "x"})).encode(),
            "CHART.json: $.Organisation.BaseCurrency: is missing",
        ),
        (
            "chart",
            json.dumps(uk_chart(TaxRates=[{"TaxType": "INPUT2", "Status": "ACTIVE"}])).encode(),
            "CHART.json: $.TaxRates[0].EffectiveRate: is missing",
        ),
    ],
)
def test_malformed_input_exits_2_with_one_line_naming_the_file(
    run, tmp_path, which, content, message
) -> None:
    args = files(tmp_path, [uk_card_charge()], uk_mapping(), uk_chart())
    name = {"transactions": "TX.json", "mapping": "MAP.json", "chart": "CHART.json"}[which]
    index = args.index(f"--{which}") + 1
    (tmp_path / name).unlink()
    args[index] = str(bad_file(tmp_path, name, content))
    result = run("preview", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.output.splitlines()) == 1, result.output
    line = result.stderr.strip()
    assert line.startswith(str(tmp_path / name) + ": ")
    assert message.split(": ", 1)[1] in line
    assert "Traceback" not in result.output


def test_preview_needs_no_database_and_no_network(run, tmp_path, app, monkeypatch) -> None:
    def refuse(*args: Any) -> None:
        raise AssertionError("preview opened a connection")

    args = files(tmp_path, US_INPUT, us_mapping(), us_chart())
    engine = app.extensions["db_engine"]
    app.extensions["db_engine"] = None  # any database use fails loudly
    monkeypatch.setattr(socket.socket, "connect", refuse)
    try:
        result = run("preview", *args)
    finally:
        app.extensions["db_engine"] = engine
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["documents"]) == 4


# --- mapping-export --------------------------------------------------------------------------


def test_export_prints_the_mapping(run, db_session, org) -> None:
    save_mapping(db_session, org.id, mapping_of(uk_mapping()), "user:alice")
    result = run("mapping-export", "--org", org.id)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == export_mapping(db_session, org.id)


def test_export_writes_a_file_by_tenant_id(run, db_session, org, tmp_path) -> None:
    save_mapping(db_session, org.id, mapping_of(uk_mapping()), "user:alice")
    out = tmp_path / "mapping.json"
    result = run("mapping-export", "--org", "tenant-uk", "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert mapping_of(json.loads(out.read_text())) == mapping_of(uk_mapping())


def test_export_of_an_unknown_org_is_one_line(run, org) -> None:
    result = run("mapping-export", "--org", "404")
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "--org 404: no organisation with that id or Xero tenant id"
    ]


# --- mapping-import --------------------------------------------------------------------------


@pytest.fixture
def connected(app, org, db_session):
    save_xero_token(
        app.extensions["token_cipher"],
        org,
        {"access_token": "acc", "refresh_token": "ref", "expires_at": time.time() + 900},
    )
    db_session.add(org)
    db_session.commit()
    return org


def test_import_checks_against_xero_and_saves(run, http, connected, db_session, tmp_path) -> None:
    mock_chart(http)
    path = write(tmp_path / "map.json", uk_mapping())
    result = run("mapping-import", "--org", connected.id, path)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Imported {path} for Acme Widgets Ltd: changed payment")
    assert http.calls[0].request.headers["Authorization"] == "Bearer acc"
    db_session.expire_all()
    assert load_mapping(db_session, connected.id) == mapping_of(uk_mapping())


def test_import_refuses_listing_every_problem(run, http, connected, db_session, tmp_path) -> None:
    mock_chart(http)
    data = uk_mapping(
        expense_default_account_code="200",
        tax_rates=[{"rate": "0.20", "tax_type": "OUTPUT2"}],
        line_types={"shipping": "999"},
    )
    path = write(tmp_path / "map.json", data)
    result = run("mapping-import", "--org", connected.id, path)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0] == f"{path}: the mapping was not saved (3 problems)"
    assert [line.split(": ")[1] for line in lines[1:]] == [
        "$.expense_default_account_code",
        "$.line_types.shipping",
        "$.tax_rates[0].tax_type",
    ]
    assert "Pick an active expense account, such as" in lines[1]
    db_session.expire_all()
    assert load_mapping(db_session, connected.id) == Mapping()


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, ": $: file not found"),
        (b"{", ": line 1 column 2: not valid JSON"),
        (json.dumps({"version": 1, "tax_rates": [{"rate": 0.2}]}).encode(), "$.tax_rates[0]"),
    ],
)
def test_import_of_a_malformed_file_is_one_line(run, http, connected, tmp_path, content, says):
    # the file is read and checked before anything is asked of Xero (``http`` has no mocks)
    path = bad_file(tmp_path, "map.json", content)
    result = run("mapping-import", "--org", connected.id, path)
    assert result.exit_code == 2
    assert len(result.output.splitlines()) == 1, result.output
    assert result.stderr.startswith(str(path))
    assert says in result.stderr


def test_import_when_xero_fails_is_one_line(run, http, connected, tmp_path) -> None:
    http.get(f"{API}/Organisation", status=500, json={"Message": "oops"})
    result = run("mapping-import", "--org", connected.id, write(tmp_path / "m.json", uk_mapping()))
    assert result.exit_code == 1
    assert len(result.output.splitlines()) == 1, result.output
    assert result.stderr.startswith("could not read the chart of accounts from Xero: ")
