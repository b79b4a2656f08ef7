"""The mapping in the database: round trips, replacing saves, audit, imports, payment methods."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from sqlmodel import col
from sqlmodel import select

from plugin.amazon.models import parse_transaction
from plugin.mapping.files import MappingFileError
from plugin.mapping.files import dump_mapping
from plugin.mapping.rows import MappingStoreError
from plugin.mapping.store import MappingRejected
from plugin.mapping.store import export_mapping
from plugin.mapping.store import import_mapping
from plugin.mapping.store import load_mapping
from plugin.mapping.store import record_payment_methods
from plugin.mapping.store import save_mapping
from plugin.models import AuditEvent
from plugin.models import Mapping as MappingRow
from plugin.models import PaymentMethod
from plugin.posting import ExpenseRule
from plugin.posting import Mapping
from plugin.posting import PaymentMethodMapping
from tests.common.amazon_payloads import transaction
from tests.common.amazon_payloads import uk_card_charge
from tests.common.charts import chart_of
from tests.common.charts import mapping_of
from tests.common.charts import uk_chart
from tests.common.charts import uk_mapping
from tests.common.charts import us_mapping

UK = chart_of(uk_chart())


def by_key(mapping: Mapping) -> Mapping:
    """The mapping with payment methods in key order (their order carries no meaning)."""
    methods = tuple(sorted(mapping.payment_methods, key=lambda pm: pm.key))
    return Mapping(**{**mapping.__dict__, "payment_methods": methods})


def rows(session, org_id):
    query = select(MappingRow).where(MappingRow.organisation_id == org_id)
    return {(r.kind, r.key): r for r in session.exec(query.order_by(col(MappingRow.id)))}


def methods(session, org_id):
    query = select(PaymentMethod).where(PaymentMethod.organisation_id == org_id)
    return {pm.key: pm for pm in session.exec(query.order_by(col(PaymentMethod.id)))}


@pytest.mark.parametrize("data", [uk_mapping(), us_mapping()], ids=["uk", "us"])
def test_round_trip_database_mapping_export_format(db_session, org, data) -> None:
    mapping = mapping_of(data)
    save_mapping(db_session, org.id, mapping, "user:alice")
    db_session.expire_all()
    assert load_mapping(db_session, org.id) == mapping
    exported = export_mapping(db_session, org.id)
    assert exported == dump_mapping(mapping)
    assert mapping_of(exported) == mapping
    expected = {**data, "bill_due_days": 30}
    for entry in expected["payment_methods"]:
        if entry["last4"] is None:
            entry.setdefault("last4", None)
    assert exported == dump_mapping(mapping_of(expected))


def test_the_rows_hold_what_the_design_says(db_session, org) -> None:
    save_mapping(db_session, org.id, mapping_of(uk_mapping(bill_due_days=14)), "user:alice")
    stored = {key: (r.value, r.position) for key, r in rows(db_session, org.id).items()}
    assert stored[("expense_default", "")] == ("429", 0)
    assert stored[("tax", "0.20")] == ("INPUT2", 0)
    assert stored[("tax", "0.00")] == ("ZERORATEDINPUT", 2)
    assert stored[("expense_rule", '{"field":"unspsc_prefix","key":null,"value":"43"}')] == (
        "463",
        1,
    )
    assert stored[("line_type", "discount")] == ("same_as_item", 0)
    assert stored[("setting", "bill_due_days")] == ("14", 0)
    pm = methods(db_session, org.id)["Pay by Invoice:"]
    assert (pm.treatment, pm.account_code, pm.payment_account_code) == ("bill", None, "090")
    assert (pm.label, pm.acknowledged, pm.last4) == ("Pay by Invoice", True, None)


def test_saving_replaces_the_old_mapping(db_session, org) -> None:
    save_mapping(db_session, org.id, mapping_of(uk_mapping()), "user:alice")
    before = rows(db_session, org.id)
    smaller = uk_mapping(
        payment_methods=[uk_mapping()["payment_methods"][0]],
        expense_rules=[uk_mapping()["expense_rules"][1]],
        tax_rates=[{"rate": "0.2", "tax_type": "INPUT2"}],
        line_types={"shipping": "429"},
    )
    change = save_mapping(db_session, org.id, mapping_of(smaller), "user:bob")
    db_session.expire_all()
    assert load_mapping(db_session, org.id) == mapping_of(smaller)
    after = rows(db_session, org.id)
    assert ("tax", "0.20") not in after
    assert after[("tax", "0.2")].value == "INPUT2"
    assert ("line_type", "gift_wrap") not in after
    # unchanged rows are updated in place, not re-created
    assert after[("expense_default", "")].id == before[("expense_default", "")].id
    rule_key = ("expense_rule", '{"field":"unspsc_prefix","key":null,"value":"43"}')
    assert (after[rule_key].id, after[rule_key].position) == (before[rule_key].id, 0)
    # payment methods left out stay known but unmapped
    pms = methods(db_session, org.id)
    assert pms["Mastercard:7777"].treatment is None
    assert pms["Mastercard:7777"].account_code is None
    assert pms["Pay by Invoice:"].payment_account_code is None
    assert change.payment_methods == {"Mastercard:7777", "Pay by Invoice:"}
    assert change.tax_rates == {Decimal("0.05"), Decimal("0.00"), Decimal("0.19")}
    assert change.line_types == {"gift_wrap", "regulatory_fee", "shipping", "tax"}
    assert change.expense_rules
    assert not change.expense_default
    assert change.settings == frozenset()


def test_the_change_is_recorded_and_no_change_records_nothing(db_session, org) -> None:
    first = save_mapping(db_session, org.id, mapping_of(uk_mapping()), "user:alice")
    assert first.changed
    again = save_mapping(db_session, org.id, mapping_of(uk_mapping()), "user:alice")
    assert not again.changed
    assert again.describe() == "no changes"
    events = db_session.exec(select(AuditEvent).where(AuditEvent.organisation_id == org.id)).all()
    assert [(e.actor, e.action) for e in events] == [("user:alice", "mapping_saved")]
    detail = events[0].detail
    assert detail["changes"]["payment_methods"] == [
        "Mastercard:7777",
        "Pay by Invoice:",
        "Visa:4242",
    ]
    assert detail["before"]["payment_methods"] == []
    assert detail["after"] == dump_mapping(mapping_of(uk_mapping()))


def test_an_unstorable_mapping_writes_nothing(db_session, org) -> None:
    save_mapping(db_session, org.id, mapping_of(uk_mapping()), "user:alice")
    rule = ExpenseRule("unspsc_prefix", "43", "463")
    bad = Mapping(expense_default_account_code="461", expense_rules=(rule, rule))
    with pytest.raises(MappingRejected) as refused:
        save_mapping(db_session, org.id, bad, "user:bob")
    assert [p.path for p in refused.value.problems] == ["$.expense_rules[1]"]
    db_session.expire_all()
    assert load_mapping(db_session, org.id) == mapping_of(uk_mapping())


def test_a_failure_midway_rolls_everything_back(db_session, org, monkeypatch) -> None:
    save_mapping(db_session, org.id, mapping_of(uk_mapping()), "user:alice")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("plugin.mapping.store._write_payment_methods", broken)
    with pytest.raises(RuntimeError):
        save_mapping(db_session, org.id, mapping_of(us_mapping()), "user:bob")
    db_session.expire_all()
    assert load_mapping(db_session, org.id) == mapping_of(uk_mapping())


def test_payment_methods_not_seen_yet_are_created_and_seen_ones_reused(db_session, org) -> None:
    record_payment_methods(db_session, org.id, [parse_transaction(uk_card_charge())])
    db_session.commit()
    seen_id = methods(db_session, org.id)["Visa:4242"].id
    save_mapping(db_session, org.id, mapping_of(uk_mapping()), "user:alice")
    pms = methods(db_session, org.id)
    assert list(pms) == ["Visa:4242", "Mastercard:7777", "Pay by Invoice:"]
    assert pms["Visa:4242"].id == seen_id
    assert pms["Visa:4242"].acknowledged is True  # mapped by the user: no longer flagged
    assert pms["Mastercard:7777"].label == "Mastercard ending 7777"


def test_other_kinds_of_rows_are_left_alone(db_session, org) -> None:
    db_session.add(MappingRow(organisation_id=org.id, kind="future_kind", key="k", value="v"))
    db_session.commit()
    save_mapping(db_session, org.id, mapping_of(uk_mapping()), "user:alice")
    save_mapping(db_session, org.id, Mapping(), "user:alice")
    assert set(rows(db_session, org.id)) == {
        ("future_kind", "k"),
        ("line_type", "discount"),
        ("setting", "unreclaimable_tax"),
        ("setting", "bill_due_days"),
    }
    assert load_mapping(db_session, org.id) == Mapping()


def test_organisations_do_not_share_mappings(db_session, org, make_member) -> None:
    _, other = make_member("bob", "tenant-us", "Acme Widgets Inc")
    save_mapping(db_session, org.id, mapping_of(uk_mapping()), "user:alice")
    save_mapping(db_session, other.id, mapping_of(us_mapping()), "user:bob")
    assert load_mapping(db_session, org.id) == mapping_of(uk_mapping())
    assert load_mapping(db_session, other.id) == mapping_of(us_mapping())


@pytest.mark.parametrize(
    ("kind", "key", "value", "says"),
    [
        ("tax", "twenty", "INPUT2", "is not a tax rate"),
        ("expense_rule", "{not json", "429", "is not an expense rule"),
        ("setting", "bill_due_days", "soon", "is not a number of days"),
        ("line_type", "postage", "425", "is not a line type we know"),
    ],
)
def test_an_unreadable_row_is_an_error_not_a_silent_gap(db_session, org, kind, key, value, says):
    db_session.add(MappingRow(organisation_id=org.id, kind=kind, key=key, value=value))
    db_session.commit()
    with pytest.raises(MappingStoreError, match=says):
        load_mapping(db_session, org.id)
    # saving a good mapping repairs it
    change = save_mapping(db_session, org.id, mapping_of(uk_mapping()), "user:alice")
    assert change.changed
    assert load_mapping(db_session, org.id) == mapping_of(uk_mapping())


# --- import ----------------------------------------------------------------------------------


def test_import_saves_a_good_mapping(db_session, org) -> None:
    change = import_mapping(db_session, org.id, uk_mapping(), "MAP.json", UK, actor="cli")
    assert change.changed
    assert export_mapping(db_session, org.id) == dump_mapping(mapping_of(uk_mapping()))
    event = db_session.exec(select(AuditEvent)).one()
    assert (event.actor, event.action, event.detail["source"]) == (
        "cli",
        "mapping_imported",
        "MAP.json",
    )


def test_import_refuses_with_every_problem_and_saves_nothing(db_session, org) -> None:
    data = uk_mapping(
        expense_default_account_code="200", line_types={"shipping": "999", "tax": "429"}
    )
    with pytest.raises(MappingRejected) as refused:
        import_mapping(db_session, org.id, data, "MAP.json", UK)
    assert [p.path for p in refused.value.problems] == [
        "$.expense_default_account_code",
        "$.line_types.shipping",
    ]
    lines = refused.value.lines()
    assert lines[0] == "MAP.json: the mapping was not saved (2 problems)"
    assert lines[1].startswith("MAP.json: $.expense_default_account_code: Account 200 Sales")
    assert load_mapping(db_session, org.id) == Mapping()
    assert db_session.exec(select(AuditEvent)).all() == []


def test_import_of_a_malformed_file_raises_one_line(db_session, org) -> None:
    data = copy.deepcopy(uk_mapping())
    data["payment_methods"][0]["treatment"] = "card"
    with pytest.raises(MappingFileError) as error:
        import_mapping(db_session, org.id, data, "MAP.json", UK)
    assert str(error.value).startswith("MAP.json: $.payment_methods[0].treatment: must be one of")


# --- payment methods seen --------------------------------------------------------------------


def test_new_payment_methods_are_registered_flagged_and_unmapped(db_session, org) -> None:
    seen = [
        parse_transaction(transaction(transaction_id="t1", instrument="Visa", last4="4242")),
        parse_transaction(
            transaction(transaction_id="t2", instrument="Pay by Invoice", last4=None)
        ),
        parse_transaction(transaction(transaction_id="t3", instrument="Visa", last4="4242")),
        parse_transaction(
            transaction(transaction_id="t4", instrument="Gift Card Balance", last4="")
        ),
        parse_transaction(transaction(transaction_id="t5", instrument=None, last4=None)),
        parse_transaction({"transactionId": "t6", "amount": "not money"}),  # a parse failure
    ]
    created = record_payment_methods(db_session, org.id, seen)
    db_session.commit()
    assert [(pm.key, pm.label) for pm in created] == [
        ("Visa:4242", "Visa ending 4242"),
        ("Pay by Invoice:", "Pay by Invoice"),
        ("Gift Card Balance:", "Gift Card Balance"),
    ]
    stored = methods(db_session, org.id)
    assert list(stored) == ["Visa:4242", "Pay by Invoice:", "Gift Card Balance:"]
    for pm in stored.values():
        assert (pm.acknowledged, pm.treatment, pm.account_code) == (False, None, None)
    assert stored["Pay by Invoice:"].instrument_type == "Pay by Invoice"
    assert stored["Pay by Invoice:"].last4 is None
    assert load_mapping(db_session, org.id).payment_methods == ()  # seen, not mapped


def test_existing_payment_methods_are_untouched(db_session, org) -> None:
    mapped = PaymentMethodMapping("Visa", "4242", "spend_money", "800")
    save_mapping(db_session, org.id, Mapping(payment_methods=(mapped,)), "user:alice")
    before = methods(db_session, org.id)["Visa:4242"]
    snapshot = (before.id, before.label, before.first_seen_at, before.acknowledged)
    created = record_payment_methods(
        db_session,
        org.id,
        [
            parse_transaction(uk_card_charge()),
            parse_transaction(transaction(transaction_id="t9", instrument="Amex", last4="1005")),
        ],
    )
    db_session.commit()
    assert [pm.key for pm in created] == ["Amex:1005"]
    db_session.expire_all()
    after = methods(db_session, org.id)["Visa:4242"]
    assert (after.id, after.label, after.first_seen_at, after.acknowledged) == snapshot
    assert (after.treatment, after.account_code) == ("spend_money", "800")
    assert record_payment_methods(db_session, org.id, [parse_transaction(uk_card_charge())]) == []
