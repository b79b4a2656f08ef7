"""Document shapes: spend/receive money for cards, bills and credit notes for Pay by Invoice."""

from __future__ import annotations

from datetime import date
from datetime import timedelta
from datetime import timezone
from decimal import Decimal

import pytest

from plugin.amazon.models import Transaction
from plugin.amazon.models import parse_transaction
from plugin.posting import PostingContext
from plugin.posting import url_template
from tests.common.amazon_payloads import eur_line
from tests.common.amazon_payloads import line_item
from tests.common.amazon_payloads import transaction
from tests.common.amazon_payloads import uk_card_charge
from tests.common.amazon_payloads import uk_card_refund
from tests.common.amazon_payloads import us_card_charge
from tests.common.amazon_payloads import us_card_refund
from tests.common.amazon_payloads import us_pbi_charge
from tests.common.amazon_payloads import us_pbi_refund
from tests.common.charts import UK_CONTACT_ID
from tests.common.charts import US_CONTACT_ID
from tests.common.charts import account_id
from tests.common.charts import uk_chart
from tests.common.charts import us_mapping
from tests.common.posting import amounts
from tests.common.posting import document
from tests.common.posting import held
from tests.common.posting import post_uk
from tests.common.posting import post_us

URLS = PostingContext(entry_url=url_template("https://app.example.com/entries/{transaction_id}"))


def test_us_card_charge_is_spend_money_with_the_exact_body() -> None:
    doc = document(post_us(us_card_charge(), context=URLS))
    assert doc.endpoint == "BankTransactions"
    assert doc.kind == "spend_money"
    assert doc.amazon_transaction_id == "1x47pVc03Ffs71cjjCct"
    assert doc.total == Decimal("26.80")
    assert doc.body == {
        "Type": "SPEND",
        "BankAccount": {"AccountID": account_id("1090")},
        "Reference": "114-3941689-8772232 1x47pVc03Ffs71cjjCct",
        "Contact": {"ContactID": US_CONTACT_ID},
        "Date": "2026-03-04",
        "CurrencyCode": "USD",
        "LineAmountTypes": "Exclusive",
        "Status": "AUTHORISED",
        "Url": "https://app.example.com/entries/1x47pVc03Ffs71cjjCct",
        "LineItems": [
            {
                "Description": "Logitech MK270 Wireless Keyboard and Mouse Combo "
                "(ASIN B079JLY5M5, order 114-3941689-8772232, bought by Jane Buyer)",
                "Quantity": 1,
                "UnitAmount": Decimal("24.99"),
                "LineAmount": Decimal("24.99"),
                "AccountCode": "6000",
                "TaxType": "INPUT",
                "TaxAmount": Decimal("0.00"),
            },
            {
                "Description": "Tax at 7.25% charged by Amazon (not reclaimable)",
                "Quantity": 1,
                "UnitAmount": Decimal("1.81"),
                "LineAmount": Decimal("1.81"),
                "AccountCode": "6050",
                "TaxType": "NONE",
                "TaxAmount": Decimal("0.00"),
            },
        ],
    }


def test_uk_card_charge_is_spend_money_with_vat() -> None:
    doc = document(post_uk(uk_card_charge()))
    assert doc.body["Type"] == "SPEND"
    assert doc.body["CurrencyCode"] == "GBP"
    assert doc.body["Contact"] == {"ContactID": UK_CONTACT_ID}
    assert doc.body["BankAccount"] == {"AccountID": account_id("800")}
    assert amounts(doc, "LineAmount") == [Decimal("35.98"), Decimal("2.99"), Decimal("-2.99")]
    assert amounts(doc, "TaxType") == ["INPUT2", "INPUT2", "INPUT2"]
    assert amounts(doc, "TaxAmount") == [Decimal("7.20"), Decimal("0.60"), Decimal("-0.60")]
    assert doc.total == Decimal("43.18")


@pytest.mark.parametrize(
    ("raw", "post", "total"),
    [
        (us_card_refund(), post_us, Decimal("26.80")),
        (uk_card_refund(), post_uk, Decimal("21.59")),
        # Amazon's refund sign is UNCONFIRMED: positive amounts post the same way.
        (
            us_card_refund(
                lines=[line_item(principal="24.99", tax="1.81", tax_rate="0.0725")],
            ),
            post_us,
            Decimal("26.80"),
        ),
    ],
    ids=["us-negative", "uk-negative", "us-positive"],
)
def test_card_refund_is_receive_money_on_the_same_account(raw: dict, post, total: Decimal) -> None:
    doc = document(post(raw))
    charge = document(post(us_card_charge() if post is post_us else uk_card_charge()))
    assert doc.endpoint == "BankTransactions"
    assert doc.kind == "receive_money"
    assert doc.body["Type"] == "RECEIVE"
    assert doc.body["BankAccount"] == charge.body["BankAccount"]
    assert doc.total == total
    assert all(amount >= 0 for amount in amounts(doc, "LineAmount"))
    assert doc.body["LineItems"][0]["Description"].startswith("Refund")


def test_refund_uses_the_charge_lines_expense_account() -> None:
    """The refund line lacks businessOrderInfo; the charge line's GL code still decides."""
    refund = document(post_uk(uk_card_refund()))
    assert refund.body["LineItems"][0]["AccountCode"] == "429"  # default: nothing to match
    original = document(post_uk(uk_card_charge()))
    charge = parse_transaction(uk_card_charge())
    assert isinstance(charge, Transaction)
    item = charge.line_items[0]
    context = PostingContext(original_line_items={(item.order_id, item.order_line_item_id): item})
    refund = document(post_uk(uk_card_refund(), context=context))
    assert refund.body["LineItems"][0]["AccountCode"] == "461"
    assert original.body["LineItems"][0]["AccountCode"] == "461"
    assert refund.body["LineItems"][0]["Description"].startswith(
        "Refund: Damaged item - Pencils, #2, 18-Count"
    )


def test_over_refund_with_lines_is_receive_money() -> None:
    raw = uk_card_refund(transaction_type="OVERREFUND", transaction_id="OVR1")
    doc = document(post_uk(raw))
    assert doc.body["Type"] == "RECEIVE"
    assert doc.kind == "receive_money"


def test_over_refund_without_lines_is_one_untaxed_line_to_the_default_account() -> None:
    raw = transaction(
        transaction_type="OVERREFUND",
        transaction_id="OVR2",
        lines=[],
        amount="-10.00",
    )
    doc = document(post_us(raw))
    assert doc.body["Type"] == "RECEIVE"
    assert doc.body["Reference"] == "OVR2"
    assert doc.body["LineItems"] == [
        {
            "Description": "Amazon over-refund (goodwill credit)",
            "Quantity": 1,
            "UnitAmount": Decimal("10.00"),
            "LineAmount": Decimal("10.00"),
            "AccountCode": "6000",
            "TaxType": "NONE",
            "TaxAmount": Decimal("0.00"),
        }
    ]


def test_pay_by_invoice_charge_is_an_authorised_bill_due_when_amazon_says() -> None:
    context = PostingContext(
        entry_url=URLS.entry_url, bill_due_dates={"US1PBI0000417": date(2026, 4, 30)}
    )
    doc = document(post_us(us_pbi_charge(), context=context))
    assert doc.endpoint == "Invoices"
    assert doc.kind == "bill"
    body = doc.body
    assert body["Type"] == "ACCPAY"
    assert body["Status"] == "AUTHORISED"
    assert body["InvoiceNumber"] == "US1PBI0000417"
    assert body["Date"] == "2026-03-04"
    assert body["DueDate"] == "2026-04-30"
    assert body["Contact"] == {"ContactID": US_CONTACT_ID}
    assert body["Url"] == "https://app.example.com/entries/PbI7c03Ffs71cjjXyz01"
    assert "BankAccount" not in body
    assert "Reference" not in body
    assert body["LineItems"][0]["Description"].endswith("[Amazon transaction PbI7c03Ffs71cjjXyz01]")
    assert body["LineItems"][0]["Quantity"] == 2
    assert body["LineItems"][0]["UnitAmount"] == Decimal("179.99")
    assert doc.total == Decimal("391.93")


@pytest.mark.parametrize(
    ("bill_due_days", "due"),
    [(None, "2026-04-03"), (14, "2026-03-18"), (0, "2026-03-04")],
)
def test_bill_due_date_falls_back_to_the_configured_terms(bill_due_days, due: str) -> None:
    mapping = us_mapping()
    if bill_due_days is not None:
        mapping["bill_due_days"] = bill_due_days
    other = PostingContext(bill_due_dates={"SOME-OTHER-INVOICE": date(2027, 1, 1)})
    doc = document(post_us(us_pbi_charge(), mapping=mapping, context=other))
    assert doc.body["DueDate"] == due


def test_pay_by_invoice_refund_is_an_authorised_supplier_credit_note() -> None:
    doc = document(post_us(us_pbi_refund(), context=URLS))
    assert doc.endpoint == "CreditNotes"
    assert doc.kind == "credit_note"
    body = doc.body
    assert body["Type"] == "ACCPAYCREDIT"
    assert body["Status"] == "AUTHORISED"
    assert body["CreditNoteNumber"] == "US2CRPBI00009"
    assert "Url" not in body  # CreditNote has no Url in Xero's schema
    assert "DueDate" not in body
    assert body["LineItems"][0]["Description"].startswith("Refund: Damaged item - HON Ignition")
    assert body["LineItems"][0]["Description"].endswith("[Amazon transaction PbIRf03Ffs71cjjXyz02]")
    assert amounts(doc, "LineAmount") == [Decimal("179.99"), Decimal("15.97")]
    assert doc.total == Decimal("195.96")


def test_eur_purchase_on_a_eur_card_posts_in_eur() -> None:
    raw = transaction(currency="EUR", lines=[eur_line()], instrument="Mastercard", last4="7777")
    doc = document(post_uk(raw))
    assert doc.body["CurrencyCode"] == "EUR"
    assert doc.currency == "EUR"
    assert doc.body["BankAccount"] == {"AccountID": account_id("810")}
    assert amounts(doc, "LineAmount") == [Decimal("39.90"), Decimal("7.58")]
    assert amounts(doc, "TaxType") == ["NONE", "NONE"]


def test_eur_pay_by_invoice_bill_posts_in_eur_when_enabled() -> None:
    raw = us_pbi_charge(currency="EUR", lines=[eur_line()], invoice_number="DE1PBI77")
    doc = document(post_uk(raw))
    assert doc.endpoint == "Invoices"
    assert doc.body["CurrencyCode"] == "EUR"


def test_eur_purchase_is_held_when_eur_is_not_enabled() -> None:
    raw = us_pbi_charge(currency="EUR", lines=[eur_line()], invoice_number="DE1PBI77")
    result = held(post_uk(raw, chart=uk_chart(eur_enabled=False)))
    assert result.code == "currency_not_enabled"
    assert "EUR" in result.reason
    assert "GBP" in result.reason


def test_bank_account_without_account_id_is_referenced_by_code() -> None:
    chart = uk_chart()
    for entry in chart["Accounts"]:
        if entry["Code"] == "800":
            del entry["AccountID"]
    doc = document(post_uk(uk_card_charge(), chart=chart))
    assert doc.body["BankAccount"] == {"Code": "800"}


@pytest.mark.parametrize(
    ("order_ids", "expected"),
    [
        (["114-1"], "114-1 TX1"),
        (["114-1", "114-2", "114-1"], "114-1 114-2 TX1"),
        ([None], "TX1"),
    ],
)
def test_reference_is_the_distinct_order_ids_then_the_transaction_id(order_ids, expected) -> None:
    lines = [line_item(order_id=o, order_line_item_id=f"L{i}") for i, o in enumerate(order_ids)]
    doc = document(post_us(transaction(transaction_id="TX1", lines=lines)))
    assert doc.body["Reference"] == expected


def test_reference_stays_within_255_characters_and_keeps_the_transaction_id() -> None:
    lines = [
        line_item(order_id=f"114-{i:07d}-{i:07d}", order_line_item_id=f"L{i}") for i in range(30)
    ]
    doc = document(post_us(transaction(transaction_id="TXLONG", lines=lines)))
    reference = doc.body["Reference"]
    assert len(reference) <= 255
    assert reference.endswith(" more TXLONG")
    assert reference.startswith("114-0000000-0000000 114-0000001-0000001")


@pytest.mark.parametrize(
    ("context", "url"),
    [
        (PostingContext(), None),
        (PostingContext(entry_url=lambda _: None), None),
        (
            PostingContext(entry_url=lambda tid: f"https://abx.example/e/{tid}"),
            "https://abx.example/e/TX9",
        ),
        (PostingContext(entry_url=lambda tid: f"https://amazon-for-Xero.example/e/{tid}"), None),
    ],
    ids=["no-context", "none", "given", "mentions-xero"],
)
def test_url_is_ours_when_given(context: PostingContext, url: str | None) -> None:
    doc = document(post_us(us_card_charge(transaction_id="TX9"), context=context))
    assert doc.body.get("Url") == url


@pytest.mark.parametrize(
    ("when", "zone", "expected"),
    [
        ("2026-03-04T23:30:00Z", None, "2026-03-04"),
        ("2026-03-04T23:30:00Z", timezone(timedelta(hours=-8)), "2026-03-04"),
        ("2026-03-05T03:30:00Z", timezone(timedelta(hours=-8)), "2026-03-04"),
        ("2026-03-04T23:30:00Z", timezone(timedelta(hours=13)), "2026-03-05"),
        ("2026-03-05T01:00:00+05:00", None, "2026-03-05"),
    ],
)
def test_date_is_the_transaction_date_in_the_org_zone(when: str, zone, expected: str) -> None:
    doc = document(post_us(us_card_charge(date=when), context=PostingContext(timezone=zone)))
    assert doc.body["Date"] == expected


@pytest.mark.parametrize("length", [10, 3960, 3980, 4000, 4400, 100_000])
def test_the_transaction_tag_survives_any_description_length(length):
    """Issue 13 point 4: the text is cut, never the id recovery looks for."""
    from plugin.posting.bodies import MAX_DESCRIPTION
    from plugin.posting.bodies import tagged_description
    from plugin.posting.bodies import transaction_tag

    tid = "AMZTX-" + "7" * 30
    description = tagged_description("t" * length, tid)
    assert description.endswith(transaction_tag(tid))
    assert len(description) <= MAX_DESCRIPTION
    if length + len(transaction_tag(tid)) + 1 <= MAX_DESCRIPTION:
        assert description == "t" * length + " " + transaction_tag(tid)
    else:
        assert "… [Amazon transaction" in description


def test_long_order_ids_never_cut_the_transaction_id_from_the_reference():
    from plugin.amazon.models import parse_transaction
    from plugin.posting.bodies import MAX_REFERENCE
    from plugin.posting.bodies import bank_reference
    from tests.common.amazon_payloads import uk_card_charge
    from tests.common.amazon_payloads import uk_line

    lines = [uk_line(order_id=f"{n}-" + "9" * 250) for n in (203, 204)]
    raw = uk_card_charge(transaction_id="TXLONGREF01", lines=lines)
    reference = bank_reference(parse_transaction(raw))
    assert reference.endswith("TXLONGREF01")
    assert len(reference) <= MAX_REFERENCE
