"""Xero's answers read into typed models: money exact as Decimal, /Date(...)/ dates, optional
fields, and a malformed answer raising XeroMalformedResponse (never a KeyError in a caller)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from plugin.xero.errors import XeroMalformedResponse
from plugin.xero.errors import XeroServerError
from plugin.xero.models import XeroAccount
from plugin.xero.models import XeroContact
from plugin.xero.models import XeroCreditNote
from plugin.xero.models import XeroInvoice
from plugin.xero.models import XeroOrganisation
from plugin.xero.models import XeroPayment
from plugin.xero.models import XeroTaxRate
from plugin.xero.models import XeroTrackingCategory
from plugin.xero.models import element_results
from plugin.xero.models import parse_item
from plugin.xero.models import parse_items
from plugin.xero.wire import dumps
from plugin.xero.wire import loads


def test_money_is_read_from_the_json_text_as_exact_decimals() -> None:
    body = loads(
        b'{"Invoices": [{"InvoiceID": "inv-1", "AmountDue": 0.30, "Total": 1234567.89,'
        b' "LineItems": [{"Description": "x", "LineAmount": 0.1}]}]}'
    )
    (invoice,) = parse_items(XeroInvoice, body, "Invoices")
    assert invoice.amount_due == Decimal("0.30")
    assert str(invoice.amount_due) == "0.30"  # the digits Xero wrote, not 0.299999...
    assert invoice.total == Decimal("1234567.89")
    assert invoice.line_items[0].line_amount == Decimal("0.1")
    assert isinstance(invoice.amount_due, Decimal)


def test_integers_and_numeric_text_are_amounts_too() -> None:
    note = parse_item(
        XeroCreditNote, {"CreditNoteID": "cn-1", "RemainingCredit": 0, "Total": "12.50"}, "CN"
    )
    assert note.remaining_credit == Decimal(0)
    assert note.total == Decimal("12.50")


def test_a_float_amount_is_refused_rather_than_trusted() -> None:
    with pytest.raises(XeroMalformedResponse, match=r"Invoices\[0\] is malformed: AmountDue"):
        parse_items(XeroInvoice, {"Invoices": [{"InvoiceID": "i", "AmountDue": 0.3}]}, "Invoices")


def test_dates_go_through_the_one_parser_offset_kept() -> None:
    invoice = parse_item(
        XeroInvoice,
        {
            "InvoiceID": "inv-1",
            "AmountDue": 1,
            "Date": "/Date(1769810400000+1300)/",  # 11:00 UTC on the 30th: the 31st in NZ
            "DueDate": "2026-02-28T00:00:00",
        },
        "Invoices[0]",
    )
    assert invoice.date == date(2026, 1, 31)
    assert invoice.due_date == date(2026, 2, 28)
    organisation = parse_item(
        XeroOrganisation,
        {"BaseCurrency": "GBP", "PeriodLockDate": "/Date(1738281600000+0000)/"},
        "Organisations[0]",
    )
    assert organisation.period_lock_date == date(2025, 1, 31)
    assert organisation.end_of_year_lock_date is None


def test_missing_optional_fields_have_their_defaults() -> None:
    contact = parse_item(XeroContact, {"ContactID": "c-1"}, "Contacts[0]")
    assert (contact.name, contact.contact_status, contact.merged_to_contact_id) == (
        None,
        "ACTIVE",
        None,
    )
    payment = parse_item(XeroPayment, {"PaymentID": "p-1"}, "Payments[0]")
    assert (payment.status, payment.amount, payment.date) == ("AUTHORISED", None, None)
    assert parse_item(XeroOrganisation, {}, "Organisations[0]").base_currency is None
    assert parse_items(XeroAccount, {"Accounts": None}, "Accounts") == []
    assert parse_items(XeroAccount, {}, "Accounts") == []


def test_unknown_fields_are_ignored_and_not_kept() -> None:
    account = parse_item(
        XeroAccount,
        {"Code": "090", "Type": "BANK", "Status": "ACTIVE", "BankAccountNumber": "12345678"},
        "Accounts[0]",
    )
    assert account.document() == {"Code": "090", "Type": "BANK", "Status": "ACTIVE"}


@pytest.mark.parametrize(
    ("model", "item", "message"),
    [
        (XeroInvoice, {"AmountDue": 1}, r"Invoices\[0\] is malformed: InvoiceID: Field required"),
        (XeroInvoice, {"InvoiceID": "i"}, r"AmountDue: Field required"),
        (XeroInvoice, {"InvoiceID": "i", "AmountDue": "lots"}, r"AmountDue: 'lots' is not an"),
        (XeroInvoice, {"InvoiceID": "i", "AmountDue": 1, "Date": "31/01/2026"}, r"Date: .*not a"),
        (XeroContact, {"ContactID": 42}, r"ContactID: Input should be a valid string"),
        (XeroContact, ["not", "an", "object"], r"Invoices\[0\] is not a JSON object"),
        (XeroTaxRate, {"EffectiveRate": True}, r"EffectiveRate: True is not an amount"),
        (XeroTaxRate, {"TaxComponents": [{"Rate": "x"}]}, r"TaxComponents\.0\.Rate"),
    ],
)
def test_malformed_answers_raise_the_clear_error(model, item, message: str) -> None:
    with pytest.raises(XeroMalformedResponse, match=message):
        parse_item(model, item, "Invoices[0]")


def test_a_list_that_is_not_a_list_is_malformed_and_counts_as_a_server_error() -> None:
    with pytest.raises(XeroMalformedResponse, match="Xero's Invoices is not a list") as error:
        parse_items(XeroInvoice, {"Invoices": {"InvoiceID": "i"}}, "Invoices")
    assert isinstance(error.value, XeroServerError)  # a write may have happened: as for a 500
    with pytest.raises(XeroMalformedResponse, match="not a JSON object"):
        parse_items(XeroInvoice, ["Invoices"], "Invoices")


def test_tax_rates_keep_decimal_rates_and_their_components() -> None:
    body = loads(
        '{"TaxRates": [{"TaxType": "INPUT2", "Status": "ACTIVE", "EffectiveRate": 20.0000,'
        ' "CanApplyToExpenses": true, "TaxComponents": [{"Name": "VAT", "Rate": 20.0000,'
        ' "IsCompound": false}]}]}'
    )
    (rate,) = parse_items(XeroTaxRate, body, "TaxRates")
    assert rate.effective_rate == Decimal("20.0000")
    assert rate.tax_components is not None
    assert rate.tax_components[0].rate == Decimal("20.0000")
    assert dumps(rate.document()) == (
        '{"TaxType": "INPUT2", "Status": "ACTIVE", "CanApplyToExpenses": true, '
        '"EffectiveRate": 20.0000, "TaxComponents": [{"Name": "VAT", "Rate": 20.0000, '
        '"IsCompound": false}]}'
    )


def test_the_chart_document_writes_lock_dates_as_iso_dates() -> None:
    organisation = parse_item(
        XeroOrganisation,
        {"Name": "Acme", "BaseCurrency": "GBP", "PeriodLockDate": "/Date(1738281600000+0000)/"},
        "Organisations[0]",
    )
    assert organisation.document() == {
        "Name": "Acme",
        "BaseCurrency": "GBP",
        "PeriodLockDate": "2025-01-31",
    }


def test_tracking_categories_and_their_options() -> None:
    body = {
        "TrackingCategories": [
            {
                "TrackingCategoryID": "tc-1",
                "Name": "Region",
                "Status": "ACTIVE",
                "Options": [{"TrackingOptionID": "o-1", "Name": "North", "Status": "ACTIVE"}],
            }
        ]
    }
    (category,) = parse_items(XeroTrackingCategory, body, "TrackingCategories")
    assert [option.name for option in category.options] == ["North"]


def test_batch_results_are_per_element_and_a_count_mismatch_is_malformed() -> None:
    body = {
        "Payments": [
            {"PaymentID": "p-1", "StatusAttributeString": "OK"},
            {"StatusAttributeString": "ERROR", "ValidationErrors": [{"Message": "Too much"}]},
        ]
    }
    first, second = element_results(body, "Payments", "PaymentID", 2)
    assert (first.ok, first.xero_id, second.ok, second.messages) == (
        True,
        "p-1",
        False,
        ["Too much"],
    )
    with pytest.raises(XeroMalformedResponse, match="Xero returned 2 results for 3 Payments"):
        element_results(body, "Payments", "PaymentID", 3)
    with pytest.raises(XeroMalformedResponse, match="returned 0 results"):
        element_results(None, "Payments", "PaymentID", 1)
