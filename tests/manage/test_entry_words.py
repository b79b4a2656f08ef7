"""The entry page's words (issue 15 point 6): a purchase's name, dates as every page writes
them, the fix as a link to the right section, and the short code Xero deep links need."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from decimal import Decimal

from plugin.manage.entry_fix import fix_for
from plugin.manage.entry_names import day_text
from plugin.manage.entry_names import purchase_name
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.xero.models import XeroOrganisation
from plugin.xero.organisations import apply_organisation_details
from tests.common.amazon_payloads import line_item
from tests.common.amazon_payloads import transaction
from tests.common.amazon_payloads import uk_card_charge


def _entry(payload, **kw) -> LedgerEntry:
    return LedgerEntry(
        organisation_id=1,
        amazon_transaction_id=payload["transactionId"],
        transaction_type=payload["transactionType"],
        transaction_date=datetime(2026, 11, 30, 10, tzinfo=UTC),
        amount=Decimal(payload["amount"]["amount"]),
        currency=payload["amount"]["currencyCode"],
        raw_payload=payload,
        **kw,
    )


def test_dates_have_no_leading_zero_and_no_iso():
    assert day_text(date(2026, 11, 30)) == "30 Nov 2026"
    assert day_text(datetime(2026, 12, 1, 23, 59, tzinfo=UTC)) == "1 Dec 2026"
    assert day_text(None) == ""


def test_a_purchase_is_named_by_product_seller_amount_and_date():
    name = purchase_name(_entry(uk_card_charge(transaction_id="T1")))
    assert name.title == "Pencils, #2, 18-Count from Amazon.com Services LLC"
    assert name.line == "Pencils, #2, 18-Count from Amazon.com Services LLC, GBP 43.18, 30 Nov 2026"


def test_several_items_and_sellers_are_counted_and_a_refund_says_so():
    payload = transaction(
        transaction_id="T2",
        transaction_type="REFUND",
        lines=[
            line_item(title="Paper A4", principal="-5.00"),
            line_item(title="Stapler", principal="-3.00", merchantLegalName="Staples UK Ltd"),
            line_item(title="Pens", principal="-1.00"),
        ],
    )
    name = purchase_name(_entry(payload))
    assert name.title == "Paper A4 and 2 more items from Amazon.com Services LLC and 1 other seller"
    assert name.line.startswith("Refund: Paper A4 and 2 more items")


def test_without_line_items_the_order_names_it():
    payload = transaction(transaction_id="T3", lines=[], amount="1.00")
    name = purchase_name(_entry(payload, order_id="203-1"))
    assert name.title == "Amazon order 203-1"


def test_the_fix_opens_the_section_the_reason_names():
    pm = fix_for(7, "unmapped_payment_method", "… Map it under Payment methods.")
    assert (pm.label, pm.path) == ("Map the payment method", "/orgs/7/mapping#payment-methods")
    tax = fix_for(7, "unmapped_tax_rate", "Map 20% under Taxes.")
    assert tax.path == "/orgs/7/mapping#taxes"
    shipping = fix_for(
        7, "unmapped_account", "Shipping charges are not mapped yet. Map it under Line types."
    )
    assert shipping.path == "/orgs/7/mapping#line-types"
    bank = fix_for(7, "archived_account", "… Choose another account under Payment methods.")
    assert bank.path == "/orgs/7/mapping#payment-methods"
    default = fix_for(
        7,
        "unmapped_account",
        "The default expense account is not mapped yet. Map it under Expenses.",
    )
    assert default.path == "/orgs/7/mapping#expenses"
    assert fix_for(7, "missing_contact", "").path == "/orgs/7/manage#xero"
    assert fix_for(7, "lock_date", "Dated before the lock date") is None
    assert fix_for(7, "amounts_do_not_add_up", "…") is None
    assert fix_for(7, None, None) is None


def test_the_short_code_is_kept_from_xeros_organisation():
    org = Organisation(xero_tenant_id="t", settings={"xero_actions": []})
    details = XeroOrganisation.model_validate(
        {"Name": "Thames", "ShortCode": "!tHm5S", "BaseCurrency": "GBP", "CountryCode": "GB"}
    )
    apply_organisation_details(org, details)
    assert org.settings == {"xero_actions": [], "xero_short_code": "!tHm5S"}
