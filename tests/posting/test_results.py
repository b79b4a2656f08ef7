"""translate_all and summarise: every input once; counts and totals per kind per currency."""

from __future__ import annotations

from decimal import Decimal

from plugin.amazon.models import parse_transaction
from plugin.posting import Plan
from plugin.posting import Summary
from plugin.posting import SummaryRow
from plugin.posting import summarise
from plugin.posting import translate_all
from tests.common.amazon_payloads import eur_line
from tests.common.amazon_payloads import transaction
from tests.common.amazon_payloads import uk_card_charge
from tests.common.amazon_payloads import uk_card_refund
from tests.common.amazon_payloads import us_card_charge
from tests.common.amazon_payloads import us_pbi_charge
from tests.common.amazon_payloads import us_pbi_refund
from tests.common.charts import chart_of
from tests.common.charts import mapping_of
from tests.common.charts import uk_chart
from tests.common.charts import uk_mapping
from tests.common.charts import us_chart
from tests.common.charts import us_mapping


def test_plan_keeps_input_order_and_every_transaction_once() -> None:
    raws = [
        us_card_charge(transaction_id="A"),
        us_card_charge(transaction_id="B", last4="9911"),
        us_pbi_charge(transaction_id="C"),
        "garbage",
        us_pbi_refund(transaction_id="D"),
    ]
    plan = translate_all(
        [parse_transaction(r) for r in raws], mapping_of(us_mapping()), chart_of(us_chart())
    )
    assert [d.amazon_transaction_id for d in plan.documents] == ["A", "C", "D"]
    assert [(h.amazon_transaction_id, h.code) for h in plan.held] == [
        ("B", "unmapped_payment_method"),
        (None, "parse_error"),
    ]


def test_summary_counts_and_totals_per_kind_and_currency() -> None:
    us = translate_all(
        [
            parse_transaction(r)
            for r in [
                us_card_charge(transaction_id="A"),
                us_card_charge(transaction_id="B"),
                us_pbi_charge(transaction_id="C"),
                us_pbi_refund(transaction_id="D"),
                us_card_charge(transaction_id="E", last4="0000"),
            ]
        ],
        mapping_of(us_mapping()),
        chart_of(us_chart()),
    )
    uk = translate_all(
        [
            parse_transaction(r)
            for r in [
                uk_card_charge(transaction_id="F"),
                uk_card_refund(transaction_id="G"),
                transaction(
                    transaction_id="H",
                    currency="EUR",
                    lines=[eur_line()],
                    instrument="Mastercard",
                    last4="7777",
                ),
                transaction(transaction_id="I", currency="EUR", lines=[eur_line()]),
            ]
        ],
        mapping_of(uk_mapping()),
        chart_of(uk_chart()),
    )
    summary = summarise(Plan(us.documents + uk.documents, us.held + uk.held))
    assert summary == Summary(
        rows=(
            SummaryRow("spend_money", "EUR", 1, Decimal("47.48")),
            SummaryRow("spend_money", "GBP", 1, Decimal("43.18")),
            SummaryRow("spend_money", "USD", 2, Decimal("53.60")),
            SummaryRow("receive_money", "GBP", 1, Decimal("21.59")),
            SummaryRow("bill", "USD", 1, Decimal("391.93")),
            SummaryRow("credit_note", "USD", 1, Decimal("195.96")),
        ),
        held_count=2,
        held_by_code={"bank_account_currency": 1, "unmapped_payment_method": 1},
    )


def test_summary_of_an_empty_plan() -> None:
    assert summarise(Plan((), ())) == Summary((), 0, {})
