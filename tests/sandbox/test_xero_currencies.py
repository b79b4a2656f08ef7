"""Foreign currencies as Xero handles them: spend money only in the bank account's currency,
foreign-currency bills only in an enabled currency, and payments of them from a base-currency
account converted at the rate given or Xero's own for the payment's date."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sandbox.xero.rates import to_base
from sandbox.xero.rates import xero_rate
from tests.sandbox.test_xero_bills import bill
from tests.sandbox.test_xero_bills import create
from tests.sandbox.test_xero_bills import credit_note
from tests.sandbox.test_xero_bills import first_message
from tests.sandbox.test_xero_bills import pay
from tests.sandbox.xero_support import HUDSON
from tests.sandbox.xero_support import xero  # noqa: F401
from tests.sandbox.xero_support import xero_app  # noqa: F401


def eur_bill(xero, **overrides):  # noqa: F811
    return create(
        xero, "Invoices", bill(xero.contact_id("Amazon Business"), CurrencyCode="EUR", **overrides)
    )


def test_the_rate_table_is_xeros_way_round_and_moves_by_day() -> None:
    may = xero_rate("GBP", "EUR", date(2026, 5, 1))
    assert Decimal("1.15") < may < Decimal("1.18")  # 1 GBP buys about 1.16 EUR
    assert may == xero_rate("GBP", "EUR", date(2026, 5, 1))
    assert may != xero_rate("GBP", "EUR", date(2026, 5, 2))
    assert xero_rate("GBP", "GBP", date(2026, 5, 1)) == 1
    assert to_base(Decimal("116.00"), Decimal("1.160000")) == Decimal("100.00")


def test_a_spend_money_in_another_currency_than_its_account_is_refused(xero):  # noqa: F811
    amazon = xero.contact_id("Amazon Business")
    answer = xero.put(
        "BankTransactions?summarizeErrors=false",
        json={
            "BankTransactions": [
                {
                    "Type": "SPEND",
                    "Contact": {"ContactID": amazon},
                    "BankAccount": {"Code": "800"},
                    "CurrencyCode": "EUR",
                    "Date": "2026-05-01",
                    "LineItems": [
                        {
                            "Description": "Ordner",
                            "Quantity": 1,
                            "UnitAmount": 10,
                            "AccountCode": "429",
                            "TaxType": "NONE",
                        }
                    ],
                }
            ]
        },
    )
    assert "does not match the currency GBP of the bank account" in first_message(
        answer, "BankTransactions"
    )


def test_a_foreign_bill_takes_xeros_rate_for_its_date_unless_given(xero):  # noqa: F811
    created = eur_bill(xero)
    assert created["CurrencyCode"] == "EUR"
    assert Decimal(str(created["CurrencyRate"])) == xero_rate("GBP", "EUR", date(2026, 5, 1))
    given = eur_bill(xero, InvoiceNumber="GB-INV-0002", CurrencyRate=1.2)
    assert given["CurrencyRate"] == 1.2


def test_a_bill_in_a_currency_not_enabled_is_refused(xero):  # noqa: F811
    answer = xero.put(
        "Invoices?summarizeErrors=false",
        json={
            "Invoices": [
                bill(
                    xero.contact_id("Staples", tenant=xero.tenants[HUDSON]),
                    CurrencyCode="CAD",
                    LineItems=[
                        {
                            "Description": "Desk",
                            "Quantity": 1,
                            "UnitAmount": 100,
                            "AccountCode": "6050",
                            "TaxType": "NONE",
                        }
                    ],
                )
            ]
        },
        tenant=xero.tenants[HUDSON],
    )
    assert first_message(answer, "Invoices") == "Organisation is not subscribed to currency CAD"


def test_paying_a_eur_bill_from_a_gbp_account_converts_at_xeros_rate(xero):  # noqa: F811
    invoice = eur_bill(xero)
    answer = pay(xero, invoice["InvoiceID"], 720.0, account="800", Date="2026-05-02")
    payment = answer.json["Payments"][0]
    assert payment["StatusAttributeString"] == "OK", payment
    rate = xero_rate("GBP", "EUR", date(2026, 5, 2))
    assert Decimal(str(payment["CurrencyRate"])) == rate
    assert Decimal(str(payment["BankAmount"])) == to_base(Decimal("720.00"), rate)
    assert payment["Amount"] == 720.0
    paid = xero.get(f"Invoices/{invoice['InvoiceID']}").json["Invoices"][0]
    assert (paid["Status"], paid["AmountDue"]) == ("PAID", 0.0)
    assert paid["Payments"][0]["BankAmount"] == payment["BankAmount"]


def test_a_rate_or_bank_amount_given_is_used(xero):  # noqa: F811
    first = eur_bill(xero)
    given = pay(xero, first["InvoiceID"], 720.0, account="800", CurrencyRate=1.2).json["Payments"][
        0
    ]
    assert (given["CurrencyRate"], given["BankAmount"]) == (1.2, 600.0)
    second = eur_bill(xero, InvoiceNumber="GB-INV-0003")
    banked = pay(xero, second["InvoiceID"], 720.0, account="800", BankAmount=640.0).json[
        "Payments"
    ][0]
    assert (banked["CurrencyRate"], banked["BankAmount"]) == (1.125, 640.0)


def test_paying_from_an_account_in_the_bills_currency_needs_no_conversion(xero):  # noqa: F811
    invoice = eur_bill(xero)
    payment = pay(xero, invoice["InvoiceID"], 720.0, account="092").json["Payments"][0]
    assert payment["BankAmount"] == 720.0


def test_a_eur_credit_note_is_refunded_to_a_gbp_card(xero):  # noqa: F811
    note = create(
        xero,
        "CreditNotes",
        credit_note(xero.contact_id("Amazon Business"), CurrencyCode="EUR"),
    )
    refund = {
        "CreditNote": {"CreditNoteID": note["CreditNoteID"]},
        "Account": {"Code": "800"},
        "Date": "2026-05-10",
        "Amount": 144.0,
    }
    answer = xero.put("Payments?summarizeErrors=false", json={"Payments": [refund]})
    payment = answer.json["Payments"][0]
    assert payment["StatusAttributeString"] == "OK", payment
    assert payment["PaymentType"] == "APCREDITPAYMENT"
    rate = xero_rate("GBP", "EUR", date(2026, 5, 10))
    assert Decimal(str(payment["BankAmount"])) == to_base(Decimal("144.00"), rate)
    again = xero.put("Payments?summarizeErrors=false", json={"Payments": [refund]})
    assert first_message(again, "Payments") == (
        "Payments can only be made against Authorised documents."
    )  # fully refunded: PAID
