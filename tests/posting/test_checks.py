"""Every held code: what triggers it, and a reason that names the thing and how to fix it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import pytest

from plugin.amazon.models import ParseFailure
from plugin.amazon.models import parse_transaction
from plugin.posting import HELD_CODES
from plugin.posting import Held
from plugin.posting import legal_entities
from plugin.posting import translate
from plugin.posting import translate_all
from tests.common.amazon_payloads import eur_line
from tests.common.amazon_payloads import line_item
from tests.common.amazon_payloads import transaction
from tests.common.amazon_payloads import uk_card_charge
from tests.common.amazon_payloads import uk_line
from tests.common.amazon_payloads import us_card_charge
from tests.common.amazon_payloads import us_pbi_charge
from tests.common.amazon_payloads import us_pbi_refund
from tests.common.amazon_payloads import us_taxed_line
from tests.common.charts import chart_of
from tests.common.charts import mapping_of
from tests.common.charts import uk_chart
from tests.common.charts import uk_mapping
from tests.common.charts import us_chart
from tests.common.charts import us_mapping
from tests.common.tracking import department
from tests.common.tracking import tracked_chart
from tests.common.tracking import tracked_mapping


def edit(data: dict[str, Any], change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    change(data)
    return data


def set_account(chart: dict[str, Any], code: str, **fields: Any) -> dict[str, Any]:
    for entry in chart["Accounts"]:
        if entry["Code"] == code:
            entry.update(fields)
    return chart


def set_tax(chart: dict[str, Any], tax_type: str, **fields: Any) -> dict[str, Any]:
    for entry in chart["TaxRates"]:
        if entry["TaxType"] == tax_type:
            entry.update(fields)
    return chart


def drop_tax(chart: dict[str, Any], tax_type: str) -> dict[str, Any]:
    chart["TaxRates"] = [t for t in chart["TaxRates"] if t["TaxType"] != tax_type]
    return chart


@dataclass
class Case:
    code: str
    raw: dict[str, Any]
    fragments: tuple[str, ...]
    mapping: dict[str, Any] = field(default_factory=us_mapping)
    chart: dict[str, Any] = field(default_factory=us_chart)


def uk(code: str, raw: dict[str, Any], fragments: tuple[str, ...], **kw: Any) -> Case:
    kw.setdefault("mapping", uk_mapping())
    kw.setdefault("chart", uk_chart())
    return Case(code, raw, fragments, **kw)


CASES: dict[str, Case] = {
    "parse_error": Case(
        "parse_error",
        edit(us_card_charge(), lambda t: t["amount"].update(amount="12,50")),
        ("could not read", "amount.amount: '12,50' is not an amount"),
    ),
    "unsupported_transaction_type": Case(
        "unsupported_transaction_type",
        us_card_charge(transaction_type="CHARGEBACK"),
        ("'CHARGEBACK'", "CHARGE, REFUND and OVERREFUND", "by hand"),
    ),
    "incomplete_transaction-type": Case(
        "incomplete_transaction",
        edit(us_card_charge(), lambda t: t.pop("transactionType")),
        ("without a transactionType",),
    ),
    "incomplete_transaction-amount": Case(
        "incomplete_transaction",
        edit(us_card_charge(), lambda t: t.pop("amount")),
        ("without an amount",),
    ),
    "incomplete_transaction-date": Case(
        "incomplete_transaction",
        edit(us_card_charge(), lambda t: t.pop("transactionDate")),
        ("without a transactionDate",),
    ),
    "unexpected_sign": Case(
        "unexpected_sign",
        us_card_charge(amount="-26.80"),
        ("CHARGE with a negative amount (-26.80)",),
    ),
    "zero_amount": Case(
        "zero_amount",
        transaction(lines=[line_item(principal="0.00")]),
        ("amount is 0.00", "nothing to post"),
    ),
    "mixed_currencies": Case(
        "mixed_currencies",
        transaction(lines=[line_item(currency="CAD")], amount="24.99"),
        ("transactionLineItems[0].totalAmount is in CAD", "transaction is in USD"),
    ),
    "sub_cent_amount": Case(
        "sub_cent_amount",
        transaction(lines=[line_item(principal="24.995")]),
        ("amount is 24.995", "fractions of a cent"),
    ),
    "amount_out_of_range": Case(
        "amount_out_of_range",
        transaction(lines=[line_item(principal="250000000000.00")]),
        ("too large",),
    ),
    "missing_line_items": Case(
        "missing_line_items",
        transaction(lines=[], amount="26.80"),
        ("charge without line items", "cannot tell what was bought"),
    ),
    "missing_line_items-split": Case(
        "missing_line_items",
        transaction(lines=[], amount="10.00", associated=("GIFTCARD01",)),
        ("split payment (with GIFTCARD01)",),
    ),
    "amounts_do_not_add_up": Case(
        "amounts_do_not_add_up",
        us_card_charge(amount="30.00"),
        ("Amazon amounts do not add up: lines total 26.80, transaction amount 30.00",),
    ),
    "amounts_do_not_add_up-line": Case(
        "amounts_do_not_add_up",
        transaction(lines=[line_item(shipping="5.00", total="24.99")], amount="24.99"),
        ("line item 1 parts total 29.99, its totalAmount 24.99",),
    ),
    "split_payment_unreconciled": Case(
        "split_payment_unreconciled",
        us_card_charge(amount="10.00", associated=("GIFTCARD01",)),
        ("split payment (with GIFTCARD01)", "total 26.80 but this part is 10.00"),
    ),
    "missing_contact": Case(
        "missing_contact",
        us_card_charge(),
        ("supplier contact",),
        chart=edit(us_chart(), lambda c: c.pop("Contact")),
    ),
    "unmapped_payment_method": Case(
        "unmapped_payment_method",
        us_card_charge(last4="9911"),
        ("Payment method Visa ending 9911 is not mapped", "Map it under Payment methods."),
    ),
    "unmapped_payment_method-pbi": Case(
        "unmapped_payment_method",
        us_pbi_charge(),
        ("Payment method Pay by Invoice is not mapped",),
        mapping=us_mapping(payment_methods=[]),
    ),
    "unmapped_account-default": Case(
        "unmapped_account",
        us_card_charge(),
        ("The default expense account is not mapped yet", "under Expenses"),
        mapping=us_mapping(expense_default_account_code=None),
    ),
    "unmapped_account-shipping": Case(
        "unmapped_account",
        transaction(lines=[line_item(shipping="4.99")]),
        ("The account for shipping charges is not mapped yet", "under Line types"),
        mapping=edit(us_mapping(), lambda m: m["line_types"].pop("shipping")),
    ),
    "unmapped_account-tax": Case(
        "unmapped_account",
        us_card_charge(),
        ("The account for unreclaimable tax is not mapped yet",),
        mapping=edit(us_mapping(), lambda m: m["line_types"].pop("tax")),
    ),
    "unknown_account": Case(
        "unknown_account",
        us_card_charge(),
        ("Account 6999 (mapped for the default expense account) is not in the Xero chart",),
        mapping=us_mapping(expense_default_account_code="6999"),
    ),
    "archived_account-bank": Case(
        "archived_account",
        us_card_charge(last4="9911"),
        ("Account 1097 Old Visa 9911", "is archived", "Payment methods"),
        mapping=edit(
            us_mapping(),
            lambda m: m["payment_methods"].append(
                {
                    "type": "Visa",
                    "last4": "9911",
                    "treatment": "spend_money",
                    "account_code": "1097",
                }
            ),
        ),
    ),
    "archived_account-rule": Case(
        "archived_account",
        transaction(lines=[line_item(business_order_info={"GL code": "6200-it"})]),
        ("Account 6200 Software & IT (mapped for the expense rule GL code = 6200-it)",),
        chart=set_account(us_chart(), "6200", Status="ARCHIVED"),
    ),
    "wrong_account_type-bank": Case(
        "wrong_account_type",
        us_card_charge(),
        ("6000 Office Supplies", "is a EXPENSE account", "Type BANK"),
        mapping=edit(us_mapping(), lambda m: m["payment_methods"][0].update(account_code="6000")),
    ),
    "wrong_account_type-line": Case(
        "wrong_account_type",
        us_card_charge(),
        ("1000 Business Checking", "is a bank account"),
        mapping=us_mapping(expense_default_account_code="1000"),
    ),
    "wrong_account_type-system": Case(
        "wrong_account_type",
        us_card_charge(),
        ("2000 Accounts Payable", "system account"),
        mapping=us_mapping(expense_default_account_code="2000"),
    ),
    "currency_not_enabled": uk(
        "currency_not_enabled",
        transaction(currency="EUR", lines=[eur_line()], instrument="Mastercard", last4="7777"),
        ("in EUR, which is not enabled", "base currency GBP"),
        chart=uk_chart(eur_enabled=False),
    ),
    "bank_account_currency": uk(
        "bank_account_currency",
        transaction(currency="EUR", lines=[eur_line()]),
        ("in EUR but account 800 Barclaycard Visa 4242 is in GBP",),
    ),
    "lock_date": Case(
        "lock_date",
        us_card_charge(date="2025-12-31T18:00:00Z"),
        ("dated 2025-12-31, on or before the organisation's lock date 2025-12-31",),
    ),
    "missing_invoice_number": Case(
        "missing_invoice_number",
        us_pbi_charge(invoice_number=None),
        ("invoice number",),
    ),
    "missing_invoice_number-refund": Case(
        "missing_invoice_number",
        us_pbi_refund(invoice_number="  "),
        ("invoice number",),
    ),
    "missing_tax_rate": Case(
        "missing_tax_rate",
        transaction(lines=[line_item(tax="1.81", tax_rate=None)]),
        ("charged tax of 1.81", "without saying the rate"),
    ),
    "unmapped_tax_rate": Case(
        "unmapped_tax_rate",
        transaction(lines=[us_taxed_line("0.1025")]),
        ("Amazon tax rate 10.25% is not mapped", "under Taxes"),
    ),
    "unknown_tax_type": Case(
        "unknown_tax_type",
        us_card_charge(),
        ("Tax type TAX009 (mapped for Amazon tax rate 7.25%)",),
        mapping=us_mapping(tax_rates=[{"rate": "0.0725", "tax_type": "TAX009"}]),
    ),
    "unknown_tax_type-none": Case(
        "unknown_tax_type",
        us_card_charge(),
        ("Xero tax type NONE (used for tax that cannot be reclaimed) is missing",),
        chart=drop_tax(us_chart(), "NONE"),
    ),
    "archived_tax_rate": uk(
        "archived_tax_rate",
        transaction(currency="GBP", lines=[uk_line("0.175", "100.00")]),
        ("17.5% (VAT on Expenses) (INPUT, mapped for Amazon tax rate 17.5%) is deleted",),
        mapping=uk_mapping(tax_rates=[{"rate": "0.175", "tax_type": "INPUT"}]),
    ),
    "archived_tax_rate-none": Case(
        "archived_tax_rate",
        transaction(transaction_type="OVERREFUND", lines=[], amount="-5.00"),
        ("Xero tax type NONE (used for over-refunds without line items) is archived",),
        chart=set_tax(us_chart(), "NONE", Status="ARCHIVED"),
    ),
    "archived_tax_rate-us": Case(
        "archived_tax_rate",
        us_card_charge(),
        ("Old County Tax (TAX001", "is archived"),
        mapping=us_mapping(tax_rates=[{"rate": "0.0725", "tax_type": "TAX001"}]),
    ),
    "tax_type_not_for_expenses": uk(
        "tax_type_not_for_expenses",
        uk_card_charge(),
        ("20% (VAT on Income) (OUTPUT2) cannot be used on expenses",),
        mapping=uk_mapping(tax_rates=[{"rate": "0.20", "tax_type": "OUTPUT2"}]),
    ),
    "tax_rate_mismatch": uk(
        "tax_rate_mismatch",
        uk_card_charge(),
        ("at 20% but the mapped Xero tax rate 5% (VAT on Expenses) (RRINPUT) is 5%",),
        mapping=uk_mapping(tax_rates=[{"rate": "0.20", "tax_type": "RRINPUT"}]),
    ),
    "tax_amount_mismatch": uk(
        "tax_amount_mismatch",
        transaction(
            currency="GBP",
            lines=[line_item(currency="GBP", principal="35.98", tax="1.80", tax_rate="0.20")],
        ),
        ("tax of 1.80", "20% of 35.98 is 7.20", "check the order in Amazon Business"),
    ),
    "unmapped_tracking": Case(
        "unmapped_tracking",
        us_card_charge(purchasingCustomerGroupName="Research"),
        ("purchasing group 'Research'", "'Department'", "Mapping > Tracking categories"),
        mapping=tracked_mapping(department()),
        chart=tracked_chart(),
    ),
    "tracking_option_to_create": Case(
        "tracking_option_to_create",
        us_card_charge(purchasingCustomerGroupName="Research"),
        ("'Research'", "created at the next posting run"),
        mapping=tracked_mapping(department(create_missing=True)),
        chart=tracked_chart(),
    ),
    "unknown_tracking_category": Case(
        "unknown_tracking_category",
        us_card_charge(),
        ("'Team'", "renamed or deleted in Xero"),
        mapping=tracked_mapping({"category": "Team", "source": "buyer"}),
        chart=tracked_chart(),
    ),
    "archived_tracking_category": Case(
        "archived_tracking_category",
        us_card_charge(),
        ("'Region' is archived in Xero",),
        mapping=tracked_mapping({"category": "Region", "source": "legal_entity"}),
        chart=tracked_chart(),
    ),
    "unknown_tracking_option": Case(
        "unknown_tracking_option",
        us_card_charge(),
        ("'Garden'", "'Department'"),
        mapping=tracked_mapping(department(values=[{"value": "Facilities", "option": "Garden"}])),
        chart=tracked_chart(),
    ),
    "archived_tracking_option": Case(
        "archived_tracking_option",
        us_card_charge(),
        ("'IT' of 'Department' is archived in Xero",),
        mapping=tracked_mapping(department(values=[{"value": "Facilities", "option": "IT"}])),
        chart=tracked_chart(),
    ),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_held_with_a_stable_code_and_an_actionable_reason(case: Case) -> None:
    result = translate(parse_transaction(case.raw), mapping_of(case.mapping), chart_of(case.chart))
    assert isinstance(result, Held), result
    assert result.code == case.code
    assert result.code in HELD_CODES
    assert result.amazon_transaction_id == case.raw.get("transactionId")
    for fragment in case.fragments:
        assert fragment.lower() in result.reason.lower(), result.reason


def test_the_table_covers_every_code_except_the_run_level_ones() -> None:
    run_level = {"duplicate_transaction", "internal_error"}
    run_level |= legal_entities.CODES  # the context's (tests/posting/test_legal_entities.py)
    assert {case.code for case in CASES.values()} == set(HELD_CODES) - run_level


def test_the_day_after_the_lock_date_posts() -> None:
    result = translate(
        parse_transaction(us_card_charge(date="2026-01-01T00:00:00Z")),
        mapping_of(us_mapping()),
        chart_of(us_chart()),
    )
    assert not isinstance(result, Held)


@pytest.mark.parametrize(
    ("period", "end_of_year", "day", "held_"),
    [
        ("2026-01-31T00:00:00", None, "2026-01-31", True),
        ("2026-01-31T00:00:00", None, "2026-02-01", False),
        (None, "/Date(1769817600000+0000)/", "2026-01-31", True),
        ("2025-06-30T00:00:00", "/Date(1769817600000+0000)/", "2026-01-15", True),
        ("2026-03-31T00:00:00", "2025-12-31T00:00:00", "2026-03-04", True),
        (None, None, "2020-01-01", False),
    ],
)
def test_lock_date_is_the_later_of_the_two(period, end_of_year, day, held_) -> None:
    chart = us_chart()
    chart["Organisation"] = {"BaseCurrency": "USD"}
    if period:
        chart["Organisation"]["PeriodLockDate"] = period
    if end_of_year:
        chart["Organisation"]["EndOfYearLockDate"] = end_of_year
    result = translate(
        parse_transaction(us_card_charge(date=f"{day}T12:00:00Z")),
        mapping_of(us_mapping()),
        chart_of(chart),
    )
    assert isinstance(result, Held) is held_
    if held_:
        assert isinstance(result, Held)
        assert result.code == "lock_date"


def test_duplicate_transaction_ids_post_once_and_hold_the_copy() -> None:
    raw = us_card_charge()
    plan = translate_all(
        [parse_transaction(raw), parse_transaction(raw)],
        mapping_of(us_mapping()),
        chart_of(us_chart()),
    )
    assert len(plan.documents) == 1
    assert [(h.code, h.amazon_transaction_id) for h in plan.held] == [
        ("duplicate_transaction", raw["transactionId"])
    ]
    assert "more than once" in plan.held[0].reason


def test_a_bug_holds_one_entry_as_internal_error_and_the_run_goes_on(monkeypatch) -> None:
    import plugin.posting.bodies as posting  # where the body builder looks bank_reference up

    def broken(*_: object) -> object:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(posting, "bank_reference", broken)
    plan = translate_all(
        [parse_transaction(us_card_charge()), parse_transaction(us_pbi_charge())],
        mapping_of(us_mapping()),
        chart_of(us_chart()),
    )
    assert [h.code for h in plan.held] == ["internal_error"]
    assert "ZeroDivisionError: boom" in plan.held[0].reason
    assert [d.endpoint for d in plan.documents] == ["Invoices"]


def test_parse_failures_are_held_with_their_position() -> None:
    failure = ParseFailure(None, "transactionId: is missing", {}, position=4)
    plan = translate_all([failure], mapping_of(us_mapping()), chart_of(us_chart()))
    assert plan.documents == ()
    (entry,) = plan.held
    assert entry.amazon_transaction_id is None
    assert entry.code == "parse_error"
    assert "(transactions[4]): transactionId: is missing" in entry.reason
