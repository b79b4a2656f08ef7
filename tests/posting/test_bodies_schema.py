"""Every document we emit validates against Xero's official Accounting OpenAPI schema."""

from __future__ import annotations

from datetime import date

import pytest

from plugin.amazon.models import parse_transaction
from plugin.posting import Document
from plugin.posting import PostingContext
from plugin.posting import translate_all
from plugin.posting import url_template
from tests.common.amazon_payloads import eur_line
from tests.common.amazon_payloads import line_item
from tests.common.amazon_payloads import spec_example_page
from tests.common.amazon_payloads import transaction
from tests.common.amazon_payloads import uk_card_charge
from tests.common.amazon_payloads import uk_card_refund
from tests.common.amazon_payloads import uk_line
from tests.common.amazon_payloads import us_card_charge
from tests.common.amazon_payloads import us_card_refund
from tests.common.amazon_payloads import us_pbi_charge
from tests.common.amazon_payloads import us_pbi_refund
from tests.common.amazon_payloads import us_taxed_line
from tests.common.charts import chart_of
from tests.common.charts import mapping_of
from tests.common.charts import uk_chart
from tests.common.charts import uk_mapping
from tests.common.charts import us_chart
from tests.common.charts import us_mapping
from tests.common.xero_schema import errors_for
from tests.common.xero_schema import schema_errors

CONTEXT = PostingContext(
    entry_url=url_template("https://app.example.com/entries/{transaction_id}"),
    bill_due_dates={"US1PBI0000417": date(2026, 4, 30)},
)


def us_documents(unreclaimable: str) -> tuple[Document, ...]:
    raws = [
        us_card_charge(),
        us_card_refund(),
        us_pbi_charge(),
        us_pbi_refund(),
        transaction(
            transaction_id="ALLEXTRAS",
            lines=[
                us_taxed_line(
                    "0.08875",
                    "59.97",
                    quantity=3,
                    shipping="6.99",
                    gift_wrap="3.99",
                    regulatory_fee="0.25",
                    discount="-6.00",
                ),
                line_item(order_id="114-0000000-0000002", order_line_item_id="2"),
            ],
        ),
        transaction(transaction_type="OVERREFUND", transaction_id="OVR", lines=[], amount="-5.00"),
    ]
    plan = translate_all(
        [parse_transaction(r) for r in raws],
        mapping_of(us_mapping(unreclaimable_tax=unreclaimable)),
        chart_of(us_chart()),
        CONTEXT,
    )
    assert plan.held == ()
    return plan.documents


def uk_documents() -> tuple[Document, ...]:
    raws = [
        *spec_example_page()["transactions"],
        uk_card_charge(transaction_id="UKC2"),
        uk_card_refund(transaction_id="UKR2"),
        transaction(
            transaction_id="EURCARD",
            currency="EUR",
            lines=[eur_line()],
            instrument="Mastercard",
            last4="7777",
        ),
        us_pbi_charge(
            transaction_id="UKPBI",
            currency="GBP",
            invoice_number="GB1PBI0042",
            lines=[uk_line("0.05", "18.40"), uk_line("0.00", "9.99", order_line_item_id="9")],
        ),
        us_pbi_refund(
            transaction_id="UKPBIR",
            currency="GBP",
            invoice_number="GB2PBI0042",
            lines=[uk_line("0.20", "-35.98", quantity=2)],
        ),
    ]
    plan = translate_all(
        [parse_transaction(r) for r in raws],
        mapping_of(uk_mapping()),
        chart_of(uk_chart()),
        CONTEXT,
    )
    assert plan.held == ()
    return plan.documents


def all_documents() -> list[Document]:
    return [
        *us_documents("separate_line"),
        *us_documents("fold_into_item"),
        *uk_documents(),
    ]


def labelled_documents() -> list[object]:
    groups = {
        "us-separate": us_documents("separate_line"),
        "us-fold": us_documents("fold_into_item"),
        "uk": uk_documents(),
    }
    return [
        pytest.param(doc, id=f"{group}-{doc.kind}-{doc.amazon_transaction_id}")
        for group, docs in groups.items()
        for doc in docs
    ]


def test_scenarios_cover_every_endpoint_and_kind() -> None:
    docs = all_documents()
    assert {d.endpoint for d in docs} == {"BankTransactions", "Invoices", "CreditNotes"}
    assert {d.kind for d in docs} == {"spend_money", "receive_money", "bill", "credit_note"}


@pytest.mark.parametrize("doc", labelled_documents())
def test_document_body_validates_against_xeros_schema(doc: Document) -> None:
    assert schema_errors(doc.endpoint, doc.body) == []


def test_the_checker_does_catch_a_bad_body() -> None:
    """Guard against a vacuous schema check."""
    check = errors_for()
    bad = {"Type": "SPENDING", "LineItems": [{"Quantity": "two"}]}
    errors = check("BankTransaction", bad)
    assert any("BankAccount" in e for e in errors)
    assert any("SPENDING" in e for e in errors)
    assert any("Quantity" in e for e in errors)
