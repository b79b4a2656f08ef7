"""validate_mapping: every kind of problem, found against realistic charts, says what to pick."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from plugin.mapping.chart_checks import validate_mapping
from plugin.mapping.checks import storable_problems
from plugin.mapping.files import dump_mapping
from plugin.mapping.files import load_mapping
from plugin.posting import ExpenseRule
from plugin.posting import LineTypeAccounts
from plugin.posting import Mapping
from plugin.posting import PaymentMethodMapping
from plugin.posting import TaxRateMapping
from tests.common.charts import account
from tests.common.charts import chart_of
from tests.common.charts import mapping_of
from tests.common.charts import uk_chart
from tests.common.charts import uk_mapping
from tests.common.charts import us_chart
from tests.common.charts import us_mapping

UK = chart_of(uk_chart())
US = chart_of(us_chart())


def only(problems):
    assert len(problems) == 1, problems
    return problems[0]


def test_the_realistic_mappings_have_no_problems() -> None:
    assert validate_mapping(mapping_of(uk_mapping()), UK) == []
    assert validate_mapping(mapping_of(us_mapping()), US) == []


def test_an_empty_mapping_is_allowed_what_it_leaves_out_is_held_later() -> None:
    assert validate_mapping(Mapping(), UK) == []


# --- payment methods -------------------------------------------------------------------------


def visa(code: str | None) -> Mapping:
    return Mapping(payment_methods=(PaymentMethodMapping("Visa", "4242", "spend_money", code),))


@pytest.mark.parametrize(
    ("code", "problem_code", "says"),
    [
        ("9999", "unknown_account", "Account 9999 (payment method Visa ending 4242) is not in"),
        ("1097", "archived_account", "1097 Old Visa 9911 (payment method Visa ending 4242) is"),
        ("6000", "wrong_account_type", "is of Type EXPENSE; spend money needs a bank or credit"),
    ],
)
def test_a_card_needs_an_active_bank_account(code: str, problem_code: str, says: str) -> None:
    problem = only(validate_mapping(visa(code), US))
    assert problem.path == "$.payment_methods[0].account_code"
    assert problem.code == problem_code
    assert says in problem.message
    # ...and says what to pick instead, credit cards first, never the archived one
    assert "Pick an active bank or credit-card account, such as 1090 Corporate Visa 4242, " in (
        problem.message
    )
    assert "1097" not in problem.message.split("Pick")[1]


def test_archived_says_it_can_also_be_restored() -> None:
    assert "Or restore it in Xero." in only(validate_mapping(visa("1097"), US)).message


def test_spend_money_without_an_account_is_a_problem() -> None:
    problem = only(validate_mapping(visa(None), UK))
    assert (problem.path, problem.code) == ("$.payment_methods[0].account_code", "unmapped_account")
    assert "spend money for Visa ending 4242 needs the account it is paid from" in problem.message
    assert "800 Barclaycard Visa 4242" in problem.message


def pbi(payment_account: str | None) -> Mapping:
    entry = PaymentMethodMapping("Pay by Invoice", None, "bill", None, payment_account)
    return Mapping(payment_methods=(entry,))


def test_a_bill_may_leave_its_payment_account_unmapped() -> None:
    assert validate_mapping(pbi(None), UK) == []


def test_bills_are_paid_from_a_bank_account_or_one_with_payments_enabled() -> None:
    chart = chart_of(
        uk_chart(
            Accounts=[
                *uk_chart()["Accounts"],
                account("835", "Directors' Loan Account", "CURRLIAB", EnablePaymentsToAccount=True),
            ]
        )
    )
    problem = only(validate_mapping(pbi("835"), chart))
    assert problem.path == "$.payment_methods[0].payment_account_code"
    assert problem.code == "wrong_account_type"
    assert 'of Type CURRLIAB without "Enable payments to this account"' in problem.message
    assert "Pick an active bank account, such as 090 Business Bank Account" in problem.message
    assert validate_mapping(pbi("835"), chart, payments_enabled={"835"}) == []
    assert validate_mapping(pbi("090"), chart) == []
    assert only(validate_mapping(pbi("404"), chart)).code == "unknown_account"


# --- expense accounts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "problem_code", "says"),
    [
        ("4000", "wrong_account_type", "4000 Sales (the default expense account) is a revenue"),
        ("1000", "wrong_account_type", "is a bank account and cannot take purchases"),
        ("2000", "wrong_account_type", "is a Xero system account (CREDITORS)"),
        ("3000", "wrong_account_type", "is an equity account"),
        ("4100", "wrong_account_type", "is an other-income account"),
        (
            "6900",
            "archived_account",
            "6900 Old Supplies (do not use) (the default expense account)",
        ),
        ("7777", "unknown_account", "Account 7777 (the default expense account) is not in"),
    ],
)
def test_the_default_expense_account_must_take_purchases(
    code: str, problem_code: str, says: str
) -> None:
    chart = chart_of(
        us_chart(
            Accounts=[
                *us_chart()["Accounts"],
                account("3000", "Owner's Equity", "EQUITY"),
                account("4100", "Interest Income", "OTHERINCOME"),
            ]
        )
    )
    problem = only(validate_mapping(Mapping(expense_default_account_code=code), chart))
    assert (problem.path, problem.code) == ("$.expense_default_account_code", problem_code)
    assert says in problem.message
    assert "Pick an active expense account, such as 6000 Office Supplies" in problem.message


@pytest.mark.parametrize("code", ["1400", "6000"])  # FIXED (equipment) and EXPENSE are fine
def test_other_account_types_are_accepted(code: str) -> None:
    assert validate_mapping(Mapping(expense_default_account_code=code), US) == []


def test_rules_and_line_types_are_checked_where_they_are() -> None:
    mapping = Mapping(
        expense_rules=(
            ExpenseRule("unspsc_prefix", "43", "463"),
            ExpenseRule("business_order_info", "6100", "200", key="GL code"),
        ),
        line_types=LineTypeAccounts(shipping="999", gift_wrap="429", discount="090"),
    )
    problems = validate_mapping(mapping, UK)
    assert [(p.path, p.code) for p in problems] == [
        ("$.expense_rules[1].account_code", "wrong_account_type"),
        ("$.line_types.shipping", "archived_account"),
        ("$.line_types.discount", "wrong_account_type"),
    ]
    assert "(an expense rule)" in problems[0].message
    assert "(shipping lines) is archived in Xero" in problems[1].message


# --- tax -------------------------------------------------------------------------------------


def tax(rate: str, tax_type: str, **kw) -> Mapping:
    return Mapping(tax_rates=(TaxRateMapping(Decimal(rate), tax_type),), **kw)


@pytest.mark.parametrize(
    ("rate", "tax_type", "problem_code", "says", "pick"),
    [
        (
            "0.20",
            "GST",
            "unknown_tax_type",
            "Tax type GST (Amazon tax at 20%) is not among the Xero tax rates.",
            "Pick a 20% tax rate for expenses, such as INPUT2 20% (VAT on Expenses)",
        ),
        (
            "0.05",
            "INPUT",
            "archived_tax_rate",
            "17.5% (VAT on Expenses) (INPUT, for Amazon tax at 5%) is deleted.",
            "such as RRINPUT 5% (VAT on Expenses)",
        ),
        (
            "0.20",
            "OUTPUT2",
            "tax_type_not_for_expenses",
            "20% (VAT on Income) (OUTPUT2, for Amazon tax at 20%) cannot be used on expenses.",
            "such as INPUT2 20% (VAT on Expenses)",
        ),
        (
            "0.20",
            "RRINPUT",
            "tax_rate_mismatch",
            "(RRINPUT) is 5%, but it is mapped for Amazon tax at 20%.",
            "or a 0% rate such as NONE if the tax cannot be reclaimed",
        ),
    ],
)
def test_tax_problems(rate: str, tax_type: str, problem_code: str, says: str, pick: str) -> None:
    problem = only(validate_mapping(tax(rate, tax_type), UK))
    assert (problem.path, problem.code) == ("$.tax_rates[0].tax_type", problem_code)
    assert says in problem.message
    assert pick in problem.message


def test_no_matching_rate_offers_the_zero_rates_purchases_first() -> None:
    problem = only(validate_mapping(tax("0.0725", "GST"), US))
    assert "Xero has no active 7.25% tax rate for expenses: pick a 0% rate such as " in (
        problem.message
    )
    assert "such as INPUT Tax on Purchases, NONE Tax Exempt" in problem.message


def test_a_zero_rate_for_tax_that_cannot_be_reclaimed_is_fine() -> None:
    assert validate_mapping(tax("0.19", "NONE", line_types=LineTypeAccounts(tax="429")), UK) == []


def test_unreclaimable_tax_on_its_own_line_needs_the_tax_account() -> None:
    problem = only(validate_mapping(tax("0.0725", "INPUT"), US))
    assert (problem.path, problem.code) == ("$.line_types.tax", "unmapped_account")
    assert "Amazon tax at 7.25% maps to a 0% rate" in problem.message
    assert "Or set unreclaimable_tax to fold_into_item." in problem.message
    assert validate_mapping(tax("0.0725", "INPUT", unreclaimable_tax="fold_into_item"), US) == []


def test_unreclaimable_tax_on_its_own_line_needs_xeros_none_tax_type() -> None:
    rates = [r for r in us_chart()["TaxRates"] if r["TaxType"] != "NONE"]
    chart = chart_of(us_chart(TaxRates=rates))
    mapping = tax("0.0725", "INPUT", line_types=LineTypeAccounts(tax="6050"))
    problem = only(validate_mapping(mapping, chart))
    assert (problem.path, problem.code) == ("$.unreclaimable_tax", "unknown_tax_type")
    assert "Set it to fold_into_item" in problem.message


def test_every_problem_of_a_bad_mapping_is_listed_at_once() -> None:
    data = uk_mapping(
        expense_default_account_code="200",
        tax_rates=[{"rate": "0.20", "tax_type": "RRINPUT"}, {"rate": "0.05", "tax_type": "X"}],
        line_types={"shipping": "999", "tax": "090"},
    )
    problems = validate_mapping(mapping_of(data), UK)
    assert [p.path for p in problems] == [
        "$.expense_default_account_code",
        "$.line_types.shipping",
        "$.line_types.tax",
        "$.tax_rates[0].tax_type",
        "$.tax_rates[1].tax_type",
    ]
    assert all("Pick" in p.message or "pick" in p.message for p in problems)
    assert str(problems[0]).startswith("$.expense_default_account_code: Account 200 Sales")


# --- storable --------------------------------------------------------------------------------


def test_storable_problems_need_no_chart() -> None:
    card = PaymentMethodMapping("Visa", "4242", "spend_money", "800")
    rule = ExpenseRule("unspsc_prefix", "43", "463")
    mapping = Mapping(
        payment_methods=(card, replace(card, account_code="810"), replace(card, treatment="card")),
        expense_rules=(rule, rule, ExpenseRule("business_order_info", "x", "429")),
        tax_rates=(TaxRateMapping(Decimal("0.2"), "INPUT2"), TaxRateMapping(Decimal("0.20"), "X")),
        unreclaimable_tax="ignore",
        bill_due_days=-1,
    )
    found = [(p.path, p.code) for p in storable_problems(mapping)]
    assert found == [
        ("$.payment_methods[1]", "duplicate"),
        ("$.payment_methods[2].treatment", "invalid"),
        ("$.payment_methods[2]", "duplicate"),
        ("$.expense_rules[1]", "duplicate"),
        ("$.expense_rules[2].key", "invalid"),
        ("$.tax_rates[1]", "duplicate"),
        ("$.unreclaimable_tax", "invalid"),
        ("$.bill_due_days", "invalid"),
    ]
    assert validate_mapping(mapping, UK)[: len(found)] == storable_problems(mapping)


def test_text_too_long_for_its_column_cannot_be_stored() -> None:
    rule = ExpenseRule("business_order_info", "v" * 250, "429", key="GL code")
    problem = only(storable_problems(Mapping(expense_rules=(rule,))))
    assert (problem.path, problem.code) == ("$.expense_rules[0]", "too_long")
    assert "at most 255 can be stored" in problem.message


@pytest.mark.parametrize(
    ("mapping", "path", "code"),
    [
        (
            Mapping(payment_methods=(PaymentMethodMapping("Visa", "4242", "spend_money"),)),
            "$.payment_methods[0].account_code",
            "unmapped_account",
        ),
        (
            Mapping(expense_default_account_code="12345678901"),
            "$.expense_default_account_code",
            "too_long",
        ),
        (Mapping(line_types=LineTypeAccounts(tax=" ")), "$.line_types.tax", "invalid"),
        (
            Mapping(payment_methods=(PaymentMethodMapping("PBI", None, "bill", None, ""),)),
            "$.payment_methods[0].payment_account_code",
            "invalid",
        ),
        (
            Mapping(expense_rules=(ExpenseRule("unspsc_prefix", "43", "463", key="GL code"),)),
            "$.expense_rules[0].key",
            "invalid",
        ),
        (
            Mapping(tax_rates=(TaxRateMapping(Decimal("0.20"), ""),)),
            "$.tax_rates[0].tax_type",
            "invalid",
        ),
    ],
)
def test_what_could_not_be_exported_again_cannot_be_stored(mapping, path, code) -> None:
    problem = only(storable_problems(mapping))
    assert (problem.path, problem.code) == (path, code)


good_code = st.text("0189", min_size=1, max_size=10)
codes = st.one_of(st.none(), good_code, good_code, st.text("0189 ", max_size=11))
good_text = st.text("ab:", min_size=1, max_size=4)
texts = st.one_of(good_text, good_text, good_text, st.text("ab: ", max_size=4))
mappings = st.builds(
    Mapping,
    payment_methods=st.lists(
        st.builds(
            PaymentMethodMapping,
            instrument_type=texts,
            last4=st.one_of(st.none(), st.text("42", min_size=1, max_size=4)),
            treatment=st.sampled_from(["spend_money", "bill", "bill", "card"]),
            account_code=codes,
            payment_account_code=codes,
        ),
        max_size=3,
    ).map(tuple),
    expense_default_account_code=codes,
    expense_rules=st.lists(
        st.builds(
            ExpenseRule,
            field=st.sampled_from(["business_order_info", "unspsc_prefix", "legal_entity"]),
            value=texts,
            account_code=good_code,
            key=st.one_of(st.none(), good_text),
        ),
        max_size=3,
    ).map(tuple),
    tax_rates=st.lists(
        st.builds(
            TaxRateMapping,
            rate=st.decimals(min_value=0, max_value=1, places=3),
            tax_type=texts,
        ),
        max_size=3,
    ).map(tuple),
    unreclaimable_tax=st.sampled_from(["separate_line", "fold_into_item"]),
    line_types=st.builds(
        LineTypeAccounts,
        shipping=codes,
        gift_wrap=codes,
        regulatory_fee=codes,
        discount=st.one_of(st.just("same_as_item"), st.text("12", min_size=1, max_size=3)),
        tax=codes,
    ),
    bill_due_days=st.integers(0, 3651),
)


@settings(max_examples=300, deadline=None)
@given(mappings)
def test_a_storable_mapping_exports_and_imports_unchanged(mapping: Mapping) -> None:
    if storable_problems(mapping):
        return
    assert load_mapping(dump_mapping(mapping), "MAP.json") == mapping
