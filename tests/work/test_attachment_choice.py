"""Which Amazon document an entry asks for (spec §9 item 2: North American order summaries)."""

from __future__ import annotations

import pytest

from plugin.amazon.regions import store_for
from plugin.models import LedgerEntry
from plugin.work.attachment_choice import ORDER_SUMMARY_NOTE
from plugin.work.attachment_choice import Wanted
from plugin.work.attachment_choice import invoice_file_name
from plugin.work.attachment_choice import is_pay_by_invoice
from plugin.work.attachment_choice import order_summary_file_name
from plugin.work.attachment_choice import wanted_documents


def entry(kind="CHARGE", method="Visa:1881", invoice="US1AB2", order="114-3941689-8772232"):
    return LedgerEntry(
        organisation_id=1,
        amazon_transaction_id="T1",
        transaction_type=kind,
        payment_method_key=method,
        invoice_number=invoice,
        order_id=order,
    )


@pytest.mark.parametrize(
    ("store", "made", "wanted"),
    [
        ("US", entry(), Wanted(None, True)),
        ("CA", entry(method="Gift Card Balance:"), Wanted(None, True)),
        ("MX", entry(), Wanted(None, True)),
        ("US", entry(method="Pay by Invoice:"), Wanted("Invoice", True)),
        ("US", entry(method="Pay by Invoice:", invoice=None), Wanted(None, True)),
        ("US", entry(order=None), Wanted("Invoice", False)),
        ("US", entry(kind="REFUND"), Wanted("Credits", False)),
        ("US", entry(kind="REFUND", invoice=None), Wanted(None, False)),
        ("UK", entry(), Wanted("Invoice", False)),
        ("DE", entry(method="Pay by Invoice:"), Wanted("Invoice", False)),
        ("JP", entry(kind="OVERREFUND"), Wanted("Credits", False)),
    ],
)
def test_na_card_orders_ask_for_the_order_summary_others_for_the_invoice(store, made, wanted):
    assert wanted_documents(made, store_for(store)) == wanted


def test_names_say_what_the_file_is():
    made = entry()
    assert invoice_file_name(made) == "Amazon-US1AB2.pdf"
    assert (
        order_summary_file_name(made)
        == "Amazon-OrderSummary-114-3941689-8772232-not-a-tax-invoice.pdf"
    )
    assert ORDER_SUMMARY_NOTE == "Order summary (not a tax invoice)"
    assert is_pay_by_invoice("Pay by Invoice:")
    assert not is_pay_by_invoice("Visa:4242")
    assert not is_pay_by_invoice(None)
