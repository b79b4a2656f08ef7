"""Orgs and purchases for the tax tests: a euro-zone (DE) org beside tests/common/charts.py's UK
and US ones, and a purchase of given items paid by card (a bank transaction) or by invoice."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from plugin.posting import Document
from tests.common.amazon_payloads import line_item
from tests.common.amazon_payloads import transaction
from tests.common.charts import tax_rate
from tests.common.charts import uk_chart
from tests.common.charts import uk_mapping
from tests.common.posting import document
from tests.common.posting import post_uk
from tests.common.posting import post_us

D = Decimal
CENT = D("0.01")
BANK = ("Visa", "4242")
BILL = ("Pay by Invoice", None)


def de_chart() -> dict[str, Any]:
    """A German org (EUR): Vorsteuer 19% and 7%, the UK chart's accounts otherwise."""
    chart = uk_chart(eur_enabled=False)
    chart["Organisation"] |= {"Name": "Beispiel GmbH", "BaseCurrency": "EUR", "CountryCode": "DE"}
    chart["Currencies"] = [{"Code": "EUR", "Description": "Euro"}]
    chart["TaxRates"] = [
        tax_rate("TAX001", "19% Vorsteuer", "19.0000"),
        tax_rate("TAX002", "7% Vorsteuer", "7.0000"),
        tax_rate("NONE", "Keine Steuer", "0.0000"),
    ]
    return chart


def de_mapping() -> dict[str, Any]:
    """The DE org's mapping: 19% and 7% Vorsteuer, 0% to NONE."""
    return uk_mapping(
        tax_rates=[
            {"rate": "0.19", "tax_type": "TAX001"},
            {"rate": "0.07", "tax_type": "TAX002"},
            {"rate": "0.00", "tax_type": "NONE"},
        ]
    )


def post(org: str, raw: dict[str, Any]) -> Document:
    """Translate ``raw`` for the ``UK``, ``US`` or ``DE`` org; it must post."""
    if org == "US":
        return document(post_us(raw))
    if org == "DE":
        return document(post_uk(raw, chart=de_chart(), mapping=de_mapping()))
    return document(post_uk(raw))


CURRENCY = {"UK": "GBP", "DE": "EUR", "US": "USD"}


def purchase(org: str, how: tuple[str, str | None], items: list[dict[str, Any]]) -> dict:
    """A charge in the org's currency of ``items`` (``item(...)``), paid as ``how`` says."""
    currency = CURRENCY[org]
    lines = [
        line_item(currency=currency, order_line_item_id=str(i), **item)
        for i, item in enumerate(items, start=1)
    ]
    instrument, last4 = how
    return transaction(
        currency=currency, lines=lines, instrument=instrument, last4=last4, invoice_number="INV1"
    )


def item(principal: str, tax: str, rate: str, **extras: Any) -> dict[str, Any]:
    """One line item's amounts (quantity 1 unless given)."""
    return {"principal": principal, "tax": tax, "tax_rate": rate, "quantity": 1, **extras}
