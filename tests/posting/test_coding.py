"""A purchase's coding chosen in review (``posting.coding``): the account, tax rate and tracking
replace the mapping's for that purchase only, every check still applies (archived or unknown
choices hold it with a reason naming the review), and the stored form reads back. Pure."""

from __future__ import annotations

from decimal import Decimal

from plugin.posting import Coding
from plugin.posting import LineCoding
from plugin.posting import PostingContext
from plugin.posting import coding_from_json
from tests.common.amazon_payloads import line_item
from tests.common.amazon_payloads import transaction
from tests.common.amazon_payloads import uk_card_charge
from tests.common.amazon_payloads import uk_line
from tests.common.posting import document
from tests.common.posting import held
from tests.common.posting import post_uk
from tests.common.posting import post_us
from tests.common.tracking import department
from tests.common.tracking import tracked_chart
from tests.common.tracking import tracked_mapping

TID = "1x47pVc03Ffs71cjjCct"


def coded(*lines: LineCoding | None, tid: str = TID) -> PostingContext:
    return PostingContext(codings={tid: Coding(tuple(lines))})


def accounts(doc) -> list[str]:
    return [line["AccountCode"] for line in doc.body["LineItems"]]


def test_no_coding_posts_as_mapped() -> None:
    raw = uk_card_charge(lines=[uk_line(shipping="4.99")])
    assert document(post_uk(raw)).body == document(post_uk(raw, context=coded())).body
    assert accounts(document(post_uk(raw)))[:2] == ["429", "425"]


def test_the_chosen_account_replaces_the_items_expense_account_only() -> None:
    raw = uk_card_charge(lines=[uk_line(shipping="4.99", discount="-1.00")])
    doc = document(post_uk(raw, context=coded(LineCoding(account_code="461"))))
    # Item and its discount (same as item) move; shipping keeps its line-type account.
    assert accounts(doc)[:3] == ["461", "425", "461"]
    assert accounts(document(post_uk(raw)))[:3] == ["429", "425", "429"]
    assert doc.total == document(post_uk(raw)).total


def test_a_coding_of_another_purchase_changes_nothing() -> None:
    raw = uk_card_charge(lines=[uk_line()])
    other = coded(LineCoding(account_code="461"), tid="another-transaction")
    assert accounts(document(post_uk(raw, context=other)))[0] == "429"


def test_each_line_item_takes_its_own_coding() -> None:
    raw = uk_card_charge(lines=[uk_line(), uk_line(order_line_item_id="2")])
    doc = document(post_uk(raw, context=coded(None, LineCoding(account_code="461"))))
    assert accounts(doc)[:2] == ["429", "461"]


def test_a_chosen_archived_or_unknown_account_holds_naming_the_review() -> None:
    raw = uk_card_charge(lines=[uk_line()])
    archived = held(post_uk(raw, context=coded(LineCoding(account_code="999"))))
    assert archived.code == "archived_account"
    assert "chosen for this purchase in review" in archived.reason
    assert "Review (Change coding)" in archived.reason
    unknown = held(post_uk(raw, context=coded(LineCoding(account_code="7777"))))
    assert unknown.code == "unknown_account"
    bank = held(post_uk(raw, context=coded(LineCoding(account_code="090"))))
    assert bank.code == "wrong_account_type"


def test_a_chosen_zero_rate_posts_the_vat_as_unreclaimable() -> None:
    raw = uk_card_charge(lines=[uk_line("0.20", "35.98")])
    doc = document(post_uk(raw, context=coded(LineCoding(tax_type="EXEMPTINPUT"))))
    lines = doc.body["LineItems"]
    assert {line["TaxType"] for line in lines} <= {"EXEMPTINPUT", "NONE"}
    assert sum(Decimal(str(line.get("TaxAmount") or 0)) for line in lines) == 0
    assert doc.total == document(post_uk(raw)).total  # still Amazon's amount to the cent


def test_a_chosen_rate_that_disagrees_with_amazon_holds() -> None:
    raw = uk_card_charge(lines=[uk_line("0.20", "35.98")])
    found = held(post_uk(raw, context=coded(LineCoding(tax_type="RRINPUT"))))
    assert found.code == "tax_rate_mismatch"
    assert "chosen for this purchase in review" in found.reason
    gone = held(post_uk(raw, context=coded(LineCoding(tax_type="INPUT"))))
    assert gone.code == "archived_tax_rate"
    assert "chosen for this purchase in review" in gone.reason


def test_chosen_tracking_replaces_the_mapped_tracking() -> None:
    raw = transaction(lines=[line_item(shipping="2.00")])
    mapping, chart = tracked_mapping(department()), tracked_chart()
    context = coded(LineCoding(tracking=(("Department", "Office"), ("Cost Centre", "WH-02"))))
    doc = document(post_us(raw, mapping=mapping, chart=chart, context=context))
    for line in doc.body["LineItems"]:
        assert [(t["Name"], t["Option"]) for t in line["Tracking"]] == [
            ("Department", "Office"),
            ("Cost Centre", "WH-02"),
        ]
    none = document(
        post_us(raw, mapping=mapping, chart=chart, context=coded(LineCoding(tracking=())))
    )
    assert all(not line.get("Tracking") for line in none.body["LineItems"])


def test_chosen_tracking_is_checked_like_mapped_tracking() -> None:
    raw = transaction(lines=[line_item()])
    mapping, chart = tracked_mapping(department()), tracked_chart()

    def outcome(*pairs: tuple[str, str]):
        return post_us(raw, mapping=mapping, chart=chart, context=coded(LineCoding(tracking=pairs)))

    assert held(outcome(("Department", "IT"))).code == "archived_tracking_option"
    assert held(outcome(("Department", "Sales"))).code == "unknown_tracking_option"
    assert held(outcome(("Region", "North"))).code == "archived_tracking_category"
    assert held(outcome(("Project", "X"))).code == "unknown_tracking_category"
    twice = held(outcome(("Department", "Office"), ("Department", "Facilities")))
    assert "names a category twice" in twice.reason


def test_an_over_refund_without_lines_takes_the_coding_of_position_zero() -> None:
    raw = transaction(transaction_type="OVERREFUND", lines=[], amount="-5.00")
    doc = document(post_us(raw, context=coded(LineCoding(account_code="6300"))))
    assert accounts(doc) == ["6300"]


def test_the_stored_form_reads_back() -> None:
    coding = Coding(
        (
            LineCoding("461", "INPUT2", (("Department", "Office"),)),
            None,
            LineCoding(tracking=()),
        )
    )
    assert coding_from_json(coding.as_json()) == coding
    assert coding_from_json(Coding((LineCoding(), None)).as_json()) is None
    assert coding_from_json({"lines": "no"}) is None
    assert coding_from_json(None) is None
    assert coding.line(1) is None
    assert coding.line(7) is None
    assert coding.line(2) == LineCoding(tracking=())
