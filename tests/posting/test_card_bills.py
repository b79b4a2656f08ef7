"""Foreign-currency purchases on a base-currency card: a bill in the purchase's currency and its
payment from the card's account (``posting.card_bills``), per payment method, for a UK org buying
in EUR, a US org buying in CAD and a euro-zone org buying in GBP; and the holds that remain."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from plugin.amazon.models import parse_transaction
from plugin.mapping.files import MappingFileError
from plugin.mapping.files import dump_mapping
from plugin.posting import Document
from plugin.posting import PaymentIntent
from plugin.posting import payment_body
from plugin.posting import translate
from tests.common.amazon_payloads import eur_line
from tests.common.amazon_payloads import line_item
from tests.common.amazon_payloads import transaction
from tests.common.amazon_payloads import uk_line
from tests.common.charts import account_id
from tests.common.charts import bank
from tests.common.charts import chart_of
from tests.common.charts import mapping_of
from tests.common.charts import uk_chart
from tests.common.charts import uk_mapping
from tests.common.charts import us_chart
from tests.common.charts import us_mapping
from tests.common.xero_schema import schema_errors

CHOICE = "bill_paid_from_account"


def with_choice(mapping: dict[str, Any], index: int = 0, choice: str = CHOICE) -> dict[str, Any]:
    mapping["payment_methods"][index]["foreign_currency"] = choice
    return mapping


def us_chart_with_cad(enabled: bool = True) -> dict[str, Any]:
    chart = us_chart()
    if enabled:
        chart["Currencies"].append({"Code": "CAD", "Description": "Canadian Dollar"})
    return chart


def eurozone_chart() -> dict[str, Any]:
    """A German org (EUR) with GBP enabled and a EUR company card."""
    chart = uk_chart()
    chart["Organisation"].update(Name="Rhein GmbH", BaseCurrency="EUR", CountryCode="DE")
    chart["Currencies"] = [
        {"Code": "EUR", "Description": "Euro"},
        {"Code": "GBP", "Description": "British Pound"},
    ]
    chart["Accounts"] = [a for a in chart["Accounts"] if a["Code"] not in ("800", "810")] + [
        bank("800", "Firmen-Visa 4242"),
        bank("810", "Sterling card 7777", CurrencyCode="GBP"),
    ]
    return chart


def cad_line() -> dict[str, Any]:
    return line_item(currency="CAD", principal="45.00", tax="0.00", order_id="701-1111111-2222222")


def gbp_line() -> dict[str, Any]:
    return uk_line("0.00", "35.98", order_id="203-1234567-7654321")


@dataclass
class Org:
    raw: dict[str, Any]
    mapping: dict[str, Any]
    chart: dict[str, Any]
    currency: str
    account_code: str
    account_currency: str


ORGS = {
    "uk-buys-eur": Org(
        transaction(currency="EUR", lines=[eur_line()], invoice_number="DE1ABC"),
        with_choice(uk_mapping()),
        uk_chart(),
        "EUR",
        "800",
        "GBP",
    ),
    "us-buys-cad": Org(
        transaction(currency="CAD", lines=[cad_line()], invoice_number=None),
        with_choice(us_mapping()),
        us_chart_with_cad(),
        "CAD",
        "1090",
        "USD",
    ),
    "eurozone-buys-gbp": Org(
        transaction(currency="GBP", lines=[gbp_line()], date="2026-03-04T10:15:42.120Z"),
        with_choice(uk_mapping()),
        eurozone_chart(),
        "GBP",
        "800",
        "EUR",
    ),
}


def refund_of(raw: dict[str, Any]) -> dict[str, Any]:
    refund = {**raw, "transactionType": "REFUND", "transactionId": "REFUND-" + raw["transactionId"]}
    refund["amount"] = {**raw["amount"], "amount": "-" + raw["amount"]["amount"]}
    items = []
    for item in raw["transactionLineItems"]:
        negated = dict(item)
        for key, value in item.items():
            if isinstance(value, dict) and "amount" in value and key != "unitPrice":
                amount = Decimal(value["amount"])
                negated[key] = {**value, "amount": str(-amount) if amount else value["amount"]}
        items.append(negated)
    refund["transactionLineItems"] = items
    return refund


def run(raw: dict[str, Any], mapping: dict[str, Any], chart: dict[str, Any]) -> Any:
    return translate(parse_transaction(raw), mapping_of(mapping), chart_of(chart))


@pytest.mark.parametrize("org", ORGS.values(), ids=ORGS.keys())
def test_a_charge_is_a_bill_in_its_currency_paid_from_the_card(org: Org) -> None:
    doc = run(org.raw, org.mapping, org.chart)
    assert isinstance(doc, Document), doc
    tid = org.raw["transactionId"]
    assert doc.endpoint == "Invoices"
    assert doc.kind == "bill"
    body = doc.body
    assert body["Type"] == "ACCPAY"
    assert body["CurrencyCode"] == org.currency
    assert body["Status"] == "AUTHORISED"
    assert body["InvoiceNumber"].endswith(tid)  # found again by the recovery
    assert tid in body["LineItems"][0]["Description"]
    assert body["DueDate"] == body["Date"] == "2026-03-04"
    total = sum(
        (Decimal(line["LineAmount"]) + Decimal(line["TaxAmount"]) for line in body["LineItems"]),
        Decimal(0),
    )
    assert total == doc.total == Decimal(org.raw["amount"]["amount"])
    intent = doc.payment
    assert intent == PaymentIntent(
        target="Invoices",
        account={"AccountID": account_id(org.account_code)},
        date="2026-03-04",
        amount=doc.total,
        currency=org.currency,
        account_currency=org.account_currency,
        reference=body["InvoiceNumber"],
    )
    assert PaymentIntent.from_json(intent.as_json()) == intent
    assert schema_errors("Invoices", body) == []


@pytest.mark.parametrize("org", ORGS.values(), ids=ORGS.keys())
def test_a_refund_is_a_credit_note_refunded_to_the_card(org: Org) -> None:
    raw = refund_of(org.raw)
    doc = run(raw, org.mapping, org.chart)
    assert isinstance(doc, Document), doc
    assert doc.endpoint == "CreditNotes"
    assert doc.body["Type"] == "ACCPAYCREDIT"
    assert doc.body["CurrencyCode"] == org.currency
    assert doc.body["CreditNoteNumber"].endswith(raw["transactionId"])
    assert doc.payment is not None
    assert doc.payment.target == "CreditNotes"
    assert doc.payment.amount == doc.total == -Decimal(raw["amount"]["amount"])
    assert schema_errors("CreditNotes", doc.body) == []


@pytest.mark.parametrize("org", ORGS.values(), ids=ORGS.keys())
def test_the_payment_body_pays_the_whole_total_at_xeros_rate(org: Org) -> None:
    doc = run(org.raw, org.mapping, org.chart)
    assert isinstance(doc, Document)
    assert doc.payment is not None
    body = payment_body(doc.payment, "0f1e2d3c-0000-4000-8000-000000000001")
    assert body == {
        "Invoice": {"InvoiceID": "0f1e2d3c-0000-4000-8000-000000000001"},
        "Account": {"AccountID": account_id(org.account_code)},
        "Date": "2026-03-04",
        "Amount": doc.total,
        "Reference": doc.body["InvoiceNumber"],
    }
    assert "CurrencyRate" not in body  # Xero applies its own rate for the day
    assert schema_errors("Payments", body) == []


@pytest.mark.parametrize("org", ORGS.values(), ids=ORGS.keys())
def test_by_default_it_is_held_saying_what_to_choose(org: Org) -> None:
    mapping = org.mapping
    for method in mapping["payment_methods"]:
        method.pop("foreign_currency", None)
    held = run(org.raw, mapping, org.chart)
    assert not isinstance(held, Document)
    assert held.code == "bank_account_currency"
    assert f"in {org.currency} but account {org.account_code}" in held.reason
    assert '"Bill in the purchase currency, paid from this account"' in held.reason


def test_an_account_in_its_own_currency_stays_spend_money() -> None:
    raw = transaction(currency="EUR", lines=[eur_line()], instrument="Mastercard", last4="7777")
    doc = run(raw, with_choice(uk_mapping(), index=1), uk_chart())
    assert isinstance(doc, Document)
    assert doc.endpoint == "BankTransactions"
    assert doc.payment is None


def test_an_org_without_multi_currency_is_held_saying_to_turn_it_on() -> None:
    held = run(
        transaction(currency="CAD", lines=[cad_line()]),
        with_choice(us_mapping()),
        us_chart_with_cad(enabled=False),
    )
    assert not isinstance(held, Document)
    assert held.code == "currency_not_enabled"
    assert "Turn on multi-currency in Xero" in held.reason
    assert "add CAD under Settings > Currencies" in held.reason


def test_a_currency_not_added_is_held_saying_to_add_it() -> None:
    chart = us_chart_with_cad()
    chart["Currencies"] = [{"Code": "USD"}, {"Code": "EUR"}]
    held = run(transaction(currency="CAD", lines=[cad_line()]), with_choice(us_mapping()), chart)
    assert not isinstance(held, Document)
    assert held.code == "currency_not_enabled"
    assert held.reason.count("Add CAD under Settings > Currencies") == 1


def test_an_account_in_a_third_currency_cannot_pay_it() -> None:
    chart = uk_chart()
    chart["Currencies"].append({"Code": "USD"})
    chart["Accounts"].append(bank("820", "Dollar card 4242", CurrencyCode="USD"))
    mapping = with_choice(uk_mapping())
    mapping["payment_methods"][0]["account_code"] = "820"
    held = run(transaction(currency="EUR", lines=[eur_line()]), mapping, chart)
    assert not isinstance(held, Document)
    assert held.code == "bank_account_currency"
    assert "only from a EUR account or one in the base currency (GBP)" in held.reason


def test_the_mapping_file_carries_the_choice() -> None:
    mapping = mapping_of(with_choice(uk_mapping()))
    assert mapping.payment_methods[0].foreign_currency == CHOICE
    assert mapping.payment_methods[1].foreign_currency == "hold"
    dumped = dump_mapping(mapping)
    assert dumped["payment_methods"][0]["foreign_currency"] == CHOICE
    assert "foreign_currency" not in dumped["payment_methods"][1]
    assert mapping_of(dumped) == mapping


@pytest.mark.parametrize(
    ("index", "value", "message"),
    [
        (2, CHOICE, "is only for spend_money payment methods"),
        (0, "convert", "must be one of 'hold', 'bill_paid_from_account'"),
    ],
)
def test_the_mapping_file_refuses_a_wrong_choice(index: int, value: str, message: str) -> None:
    with pytest.raises(MappingFileError) as refused:
        mapping_of(with_choice(uk_mapping(), index=index, choice=value))
    assert f"$.payment_methods[{index}].foreign_currency: {message}" in str(refused.value)
