"""The mapping page and its sections: page vs fragment, choices, suggestions, saving, validation
messages next to the fields, re-checking held entries after set-up, Xero being unavailable."""

from __future__ import annotations

import re

import pytest
from rq.job import Job
from sqlmodel import select

from plugin.mapping.store import load_mapping
from plugin.models import OnboardingStep
from plugin.models import Organisation
from plugin.models import PaymentMethod
from plugin.xero.errors import XeroRateLimited
from plugin.xero.errors import XeroUnavailable
from tests.common.onboarding import HX
from tests.common.onboarding import field_error
from tests.common.onboarding import make_org
from tests.common.onboarding import option_values
from tests.common.onboarding import record
from tests.common.onboarding import save_uk_mapping
from tests.common.onboarding import seed_chart
from tests.common.onboarding import selected
from tests.common.onboarding import text_of
from tests.common.onboarding import uk_transactions


@pytest.fixture
def setup(app, client, make_member, db_session, redis_client, sign_in):
    """A signed-in member of a UK org at the mapping step, with a small ledger and its chart."""
    user, org = make_org(make_member, db_session)
    seed_chart(redis_client, org.id)
    record(app, org.id, uk_transactions())
    sign_in(client, user)
    return org


def methods_by_label(db_session, org_id):
    db_session.expire_all()
    rows = db_session.exec(select(PaymentMethod).where(PaymentMethod.organisation_id == org_id))
    return {row.label: row for row in rows}


def stored(db_session, org_id):
    db_session.expire_all()
    return load_mapping(db_session, org_id)


def test_full_page_has_every_section_and_the_step_indicator(client, setup):
    response = client.get(f"/orgs/{setup.id}/setup/mapping")
    page = text_of(response)
    assert response.status_code == 200
    assert page.startswith("<!doctype html>")
    for section in ("payment-methods", "expenses", "taxes", "line-types", "mapping-file"):
        assert f'<section id="{section}"' in page
    assert re.search(r'step-current" aria-current="step">.*?Map accounts', page, re.S)
    assert "Next: review" in page
    assert "wizard.js" in page


def test_every_payment_method_seen_is_listed_and_new_ones_are_flagged(client, setup, db_session):
    page = text_of(client.get(f"/orgs/{setup.id}/setup/mapping"))
    for label in ("Visa ending 4242", "Pay by Invoice", "American Express ending 1005"):
        assert label in page
    assert page.count('<span class="badge badge-new">New</span>') == 3
    pbi = methods_by_label(db_session, setup.id)["Pay by Invoice"]
    assert selected(page, f"pm-{pbi.id}-treatment") == "bill"
    assert selected(page, f"pm-{pbi.id}-payment_account") == "090"
    assert "Bills paid from" in page


def test_suggestions_are_prefilled_and_marked(client, setup, db_session):
    page = text_of(client.get(f"/orgs/{setup.id}/setup/mapping"))
    visa = methods_by_label(db_session, setup.id)["Visa ending 4242"]
    assert selected(page, f"pm-{visa.id}-account") == "800"  # "Barclaycard Visa 4242"
    assert selected(page, "expense_default") == "429"
    assert selected(page, "tax-0-20") == "INPUT2"
    assert selected(page, "lt-shipping") == "425"
    assert selected(page, "lt-discount") == "same_as_item"
    assert page.count("badge-suggested") >= 6


def test_dropdowns_offer_only_active_accounts_of_fitting_types(client, setup, db_session):
    page = text_of(client.get(f"/orgs/{setup.id}/setup/mapping"))
    visa = methods_by_label(db_session, setup.id)["Visa ending 4242"]
    banks = option_values(page, f"pm-{visa.id}-account")
    assert {"090", "800", "810"} <= set(banks)
    assert "429" not in banks
    expenses = option_values(page, "expense_default")
    assert "429" in expenses
    assert "999" not in expenses  # archived
    assert "200" not in expenses  # revenue
    assert "090" not in expenses  # bank
    taxes = option_values(page, "tax-0-20")
    assert "INPUT2" in taxes
    assert "OUTPUT2" not in taxes  # not for expenses
    assert "INPUT" not in taxes  # deleted
    assert "RRINPUT" not in taxes  # 5%: another rate
    assert re.search(r'<optgroup label="Credit cards">', page)


def test_section_fragment_for_htmx_and_page_otherwise(client, setup):
    fragment = client.get(f"/orgs/{setup.id}/mapping/payment-methods", headers=HX)
    body = text_of(fragment).strip()
    assert fragment.status_code == 200
    assert body.startswith('<section id="payment-methods"')
    assert "<html" not in body
    assert "HX-Request" in fragment.headers["Vary"]
    full = text_of(client.get(f"/orgs/{setup.id}/mapping/payment-methods"))
    assert full.startswith("<!doctype html>")
    assert client.get(f"/orgs/{setup.id}/mapping/nonsense", headers=HX).status_code == 404


def test_manage_mode_has_no_wizard_steps(client, setup):
    page = text_of(client.get(f"/orgs/{setup.id}/mapping?from=manage"))
    assert "Back to Manage Integrations" in page
    assert 'aria-label="Set-up steps"' not in page
    assert "?from=manage" in page  # the section forms keep the context


def pm_form(db_session, org_id, **choices):
    """A payment-methods post: choices maps labels to (treatment, account, payment account)."""
    rows = methods_by_label(db_session, org_id)
    data = {"pm": [str(r.id) for r in rows.values()]}
    for label, (treatment, account, paid_from) in choices.items():
        row = rows[label]
        data[f"pm-{row.id}-treatment"] = treatment
        data[f"pm-{row.id}-account"] = account
        data[f"pm-{row.id}-payment_account"] = paid_from
    return data, rows


def test_saving_payment_methods_maps_and_acknowledges_them(client, setup, db_session, app):
    data, _rows = pm_form(
        db_session,
        setup.id,
        **{
            "Visa ending 4242": ("spend_money", "800", ""),
            "Pay by Invoice": ("bill", "", "090"),
            "American Express ending 1005": ("", "", ""),
        },
    )
    response = client.post(f"/orgs/{setup.id}/mapping/payment-methods", data=data, headers=HX)
    body = text_of(response)
    assert response.status_code == 200, body
    assert body.strip().startswith('<section id="payment-methods"')
    assert "Payment methods saved." in body
    assert "held entries will be re-checked" not in body  # set-up not finished: nothing posts
    mapping = stored(db_session, setup.id)
    assert mapping.payment_method("Visa:4242").account_code == "800"
    pbi = mapping.payment_method("Pay by Invoice:")
    assert (pbi.treatment, pbi.payment_account_code) == ("bill", "090")
    assert mapping.payment_method("American Express:1005") is None
    assert all(r.acknowledged for r in methods_by_label(db_session, setup.id).values())
    assert "badge-new" not in body
    assert not Job.exists(f"remap-{setup.id}", connection=app.extensions["redis"])


@pytest.mark.parametrize(
    ("choice", "field", "message"),
    [
        (("spend_money", "429", ""), "account", "spend money needs a bank or credit-card account"),
        (("spend_money", "999", ""), "account", "archived in Xero"),
        (("spend_money", "", ""), "account", "Pick the bank or credit-card account"),
        (("bill", "", ""), "payment_account", "Pick the account Pay by Invoice bills are paid"),
        (("bill", "", "429"), "payment_account", "bills cannot be paid from it"),
    ],
    ids=["wrong-type", "archived", "missing-account", "pbi-without-payment-account", "pbi-wrong"],
)
def test_invalid_payment_method_is_refused_with_the_reason(
    client, setup, db_session, choice, field, message
):
    data, rows = pm_form(db_session, setup.id, **{"Visa ending 4242": choice})
    response = client.post(f"/orgs/{setup.id}/mapping/payment-methods", data=data, headers=HX)
    body = text_of(response)
    assert response.status_code == 422
    visa = rows["Visa ending 4242"]
    assert message in field_error(body, f"pm-{visa.id}-{field}")
    assert (
        f'id="pm-{visa.id}-{field}" name="pm-{visa.id}-{field}" data-search aria-invalid="true"'
        in body
    )
    assert "Not saved" in body
    assert stored(db_session, setup.id).payment_methods == ()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"expense_default": "999"}, "expense_default", "archived in Xero"),
        ({"expense_default": "200"}, "expense_default", "a revenue account and cannot take"),
        ({"expense_default": "090"}, "expense_default", "a bank account and cannot take"),
        (
            {
                "expense_default": "429",
                "rule": "0",
                "rule-0-field": "unspsc_prefix",
                "rule-0-value": "44",
            },
            "rule-0-account",
            "Pick the account this rule posts to",
        ),
        (
            {
                "expense_default": "429",
                "rule": "0",
                "rule-0-field": "business_order_info",
                "rule-0-value": "6100",
                "rule-0-account": "461",
            },
            "rule-0-key",
            "business order info entry",
        ),
    ],
    ids=["archived", "revenue", "bank", "rule-without-account", "rule-without-key"],
)
def test_invalid_expenses_are_refused_with_the_reason(
    client, setup, db_session, data, field, message
):
    response = client.post(f"/orgs/{setup.id}/mapping/expenses", data=data, headers=HX)
    body = text_of(response)
    assert response.status_code == 422, body
    assert body.strip().startswith('<section id="expenses"')
    assert message in field_error(body, field)
    assert stored(db_session, setup.id).expense_default_account_code is None


def test_expenses_with_rules_are_saved_in_order(client, setup, db_session):
    data = {
        "expense_default": "429",
        "rule": ["0", "1", "2"],
        "rule-0-field": "business_order_info",
        "rule-0-key": "GL code",
        "rule-0-value": "6100-office",
        "rule-0-account": "461",
        "rule-1-field": "unspsc_prefix",
        "rule-1-value": "43",
        "rule-1-account": "463",
        "rule-2-field": "legal_entity",  # the blank "add a rule" row
    }
    response = client.post(f"/orgs/{setup.id}/mapping/expenses", data=data, headers=HX)
    assert response.status_code == 200, text_of(response)
    mapping = stored(db_session, setup.id)
    assert mapping.expense_default_account_code == "429"
    assert [(r.field, r.key, r.value, r.account_code) for r in mapping.expense_rules] == [
        ("business_order_info", "GL code", "6100-office", "461"),
        ("unspsc_prefix", None, "43", "463"),
    ]
    data.update({"rule-0-remove": "1"})
    client.post(f"/orgs/{setup.id}/mapping/expenses", data=data, headers=HX)
    assert [r.value for r in stored(db_session, setup.id).expense_rules] == ["43"]


def test_tax_type_not_for_expenses_is_refused(client, setup, db_session):
    data = {"rate": ["0.20"], "tax-0-20": "OUTPUT2", "unreclaimable_tax": "separate_line"}
    response = client.post(f"/orgs/{setup.id}/mapping/taxes", data=data, headers=HX)
    body = text_of(response)
    assert response.status_code == 422
    assert "cannot be used on expenses" in field_error(body, "tax-0-20")
    assert stored(db_session, setup.id).tax_rates == ()


def test_taxes_and_line_types_save(client, setup, db_session):
    taxes = {"rate": ["0.20"], "tax-0-20": "INPUT2", "unreclaimable_tax": "fold_into_item"}
    assert client.post(f"/orgs/{setup.id}/mapping/taxes", data=taxes, headers=HX).status_code == 200
    lines = {
        "lt-shipping": "425",
        "lt-gift_wrap": "429",
        "lt-regulatory_fee": "429",
        "lt-discount": "same_as_item",
        "lt-tax": "429",
    }
    response = client.post(f"/orgs/{setup.id}/mapping/line-types", data=lines, headers=HX)
    assert response.status_code == 200
    assert "Line-item accounts saved." in text_of(response)
    mapping = stored(db_session, setup.id)
    assert [(str(t.rate), t.tax_type) for t in mapping.tax_rates] == [("0.20", "INPUT2")]
    assert mapping.unreclaimable_tax == "fold_into_item"
    assert (mapping.line_types.shipping, mapping.line_types.discount) == ("425", "same_as_item")
    bad = client.post(
        f"/orgs/{setup.id}/mapping/line-types", data={**lines, "lt-gift_wrap": "200"}, headers=HX
    )
    assert bad.status_code == 422
    assert "cannot take purchases" in field_error(text_of(bad), "lt-gift_wrap")


def test_a_plain_form_post_gets_the_whole_page(client, setup):
    response = client.post(f"/orgs/{setup.id}/mapping/expenses", data={"expense_default": "429"})
    assert response.status_code == 200
    assert text_of(response).startswith("<!doctype html>")
    assert "Expense accounts saved." in text_of(response)


def test_after_setup_a_save_rechecks_held_entries(client, setup, db_session, app):
    org = db_session.get(Organisation, setup.id)
    org.onboarding_step = OnboardingStep.DONE
    db_session.add(org)
    db_session.commit()
    from plugin.models import EntryState
    from plugin.models import LedgerEntry

    entries = db_session.exec(select(LedgerEntry).where(LedgerEntry.organisation_id == org.id))
    for entry in list(entries)[:2]:
        entry.state = EntryState.HELD
        db_session.add(entry)
    db_session.commit()
    response = client.post(
        f"/orgs/{setup.id}/mapping/expenses", data={"expense_default": "429"}, headers=HX
    )
    assert response.status_code == 200
    assert "2 held entries will be re-checked." in text_of(response)
    job = Job.fetch(f"remap-{setup.id}", connection=app.extensions["redis"])
    assert job.func_name == "jobs.posting.post_ready"
    assert job.args == (setup.id, True)


def test_after_setup_a_save_offers_to_correct_what_was_posted(client, setup, db_session):
    """Issue 14 point 3: a mapping changed after posting says how many documents are already in
    Xero and links to the preview of which the change would correct (the remap page)."""
    from plugin.models import EntryState
    from plugin.models import LedgerEntry

    org = db_session.get(Organisation, setup.id)
    body = text_of(
        client.post(
            f"/orgs/{setup.id}/mapping/expenses", data={"expense_default": "429"}, headers=HX
        )
    )
    assert "already in Xero" not in body  # set-up not finished: nothing was posted
    org.onboarding_step = OnboardingStep.DONE
    db_session.add(org)
    entries = list(
        db_session.exec(select(LedgerEntry).where(LedgerEntry.organisation_id == org.id))
    )
    for entry in entries[:3]:
        entry.state = EntryState.POSTED
        db_session.add(entry)
    db_session.commit()
    response = client.post(
        f"/orgs/{setup.id}/mapping/expenses", data={"expense_default": "429"}, headers=HX
    )
    assert response.status_code == 200
    body = text_of(response)
    assert "3 documents are already in Xero as the mapping was when they were posted." in body
    assert f'href="/orgs/{setup.id}/manage/remap"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (XeroUnavailable("Xero is unavailable: maintenance", 503), "Xero is not answering"),
        (XeroRateLimited(120, "minute"), "Xero asked us to slow down; try again at"),
    ],
    ids=["unavailable", "rate-limited"],
)
def test_xero_trouble_is_explained_inline_never_a_500(client, setup, monkeypatch, error, expected):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr("plugin.mapping.page.cached_chart_document", fail)
    page = client.get(f"/orgs/{setup.id}/setup/mapping")
    assert page.status_code == 503
    assert expected in text_of(page)
    assert "Try again" in text_of(page)
    assert "Traceback" not in text_of(page)
    fragment = client.get(f"/orgs/{setup.id}/mapping/taxes", headers=HX)
    assert fragment.status_code == 503
    body = text_of(fragment).strip()
    assert body.startswith('<section id="taxes"')
    assert f'hx-get="/orgs/{setup.id}/mapping/taxes"' in body
    assert (
        re.search(r"try again at \d\d:\d\d", text_of(page)) or expected == "Xero is not answering"
    )
    saved = client.post(f"/orgs/{setup.id}/mapping/taxes", data={"rate": "0.20"}, headers=HX)
    assert saved.status_code == 503


def test_mapping_step_is_not_reachable_before_the_import_step(
    client, make_member, db_session, sign_in
):
    user, org = make_org(
        make_member, db_session, step=OnboardingStep.IMPORT_HISTORY, user="bob", tenant="tenant-2"
    )
    sign_in(client, user)
    response = client.get(f"/orgs/{org.id}/setup/mapping")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/orgs/{org.id}/setup/history")


def test_saved_mapping_is_shown_without_suggestion_badges(client, setup, app, db_session):
    save_uk_mapping(app, setup.id)
    page = text_of(client.get(f"/orgs/{setup.id}/setup/mapping"))
    assert selected(page, "expense_default") == "429"
    assert 'for="expense_default">Default expense account <span class="badge' not in page
    assert selected(page, "tax-0-20") == "INPUT2"


def test_a_card_can_post_foreign_currency_purchases_as_bills(client, setup, db_session):
    data, rows = pm_form(db_session, setup.id, **{"Visa ending 4242": ("spend_money", "800", "")})
    visa = rows["Visa ending 4242"]
    page = text_of(client.get(f"/orgs/{setup.id}/setup/mapping"))
    assert selected(page, f"pm-{visa.id}-foreign_currency") == "hold"
    assert "Xero records spend money only in the account's" in page
    data[f"pm-{visa.id}-foreign_currency"] = "bill_paid_from_account"
    response = client.post(f"/orgs/{setup.id}/mapping/payment-methods", data=data, headers=HX)
    assert response.status_code == 200, text_of(response)
    assert stored(db_session, setup.id).payment_method("Visa:4242").foreign_currency == (
        "bill_paid_from_account"
    )
    page = text_of(client.get(f"/orgs/{setup.id}/setup/mapping"))
    assert selected(page, f"pm-{visa.id}-foreign_currency") == "bill_paid_from_account"
    exported = client.get(f"/orgs/{setup.id}/mapping/export").get_json()
    visa_out = next(m for m in exported["payment_methods"] if m.get("last4") == "4242")
    assert visa_out["foreign_currency"] == "bill_paid_from_account"


def test_a_card_mapped_as_spend_money_says_what_to_switch_off(client, setup):
    """Issue 14 point 1: set-up tells the user about bank rules and the bank feed, which would
    record each purchase a second time."""
    page = client.get(f"/orgs/{setup.id}/setup/mapping").get_data(as_text=True)
    assert page.count('class="muted hint pm-bank-feed"') >= 2  # every card's row has it
    assert "Switch off any bank rule on that account that" in page
    assert "creates spend money for Amazon" in page
    assert "held for you to check, not posted" in page
