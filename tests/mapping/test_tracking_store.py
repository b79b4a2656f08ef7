"""Tracking categories in the stored mapping: round trips through the rows and the export format
(version 2), version 1 files still read, refusals (a third category, an archived option), and a
change to tracking counting as a change (so held entries are evaluated again)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from plugin.mapping.chart_checks import validate_mapping
from plugin.mapping.files import MappingFileError
from plugin.mapping.files import dump_mapping
from plugin.mapping.files import load_mapping as load_file
from plugin.mapping.store import MappingRejected
from plugin.mapping.store import export_mapping
from plugin.mapping.store import import_mapping
from plugin.mapping.store import load_mapping
from plugin.mapping.store import save_mapping
from plugin.models import Mapping as MappingRow
from plugin.posting import Mapping
from plugin.posting import TrackingMapping
from plugin.posting import TrackingValue
from tests.common.charts import chart_of
from tests.common.charts import mapping_of
from tests.common.charts import us_mapping
from tests.common.tracking import cost_centre
from tests.common.tracking import department
from tests.common.tracking import tracked_chart
from tests.common.tracking import tracked_mapping

TRACKED = tracked_mapping(
    department(default_option="Office", values=[{"value": "Research", "option": "Office"}]),
    cost_centre(match_by_name=False, create_missing=True),
)
CHART = chart_of(tracked_chart())


def test_tracking_round_trips_through_rows_and_the_file(db_session, org) -> None:
    mapping = mapping_of(TRACKED)
    assert mapping.tracking[0] == TrackingMapping(
        category="Department",
        source="customer_group",
        values=(TrackingValue("Research", "Office"),),
        default_option="Office",
    )
    save_mapping(db_session, org.id, mapping, "test")
    assert load_mapping(db_session, org.id).tracking == mapping.tracking
    exported = export_mapping(db_session, org.id)
    assert exported["version"] == 2
    assert exported["tracking"][1] == {
        "category": "Cost Centre",
        "source": "business_order_info",
        "key": "Cost center",
        "match_by_name": False,
        "create_missing": True,
        "default_option": None,
        "values": [],
    }
    assert load_file(exported, "again") == load_mapping(db_session, org.id)
    kinds = {r.kind for r in db_session.exec(select(MappingRow))}
    assert {"tracking", "tracking_default", "tracking_value"} <= kinds


def test_a_version_1_file_is_still_read_and_may_not_carry_tracking() -> None:
    assert load_file(us_mapping(), "MAP.json").tracking == ()
    with pytest.raises(MappingFileError, match=r"\$\.tracking: needs version 2"):
        load_file(us_mapping(tracking=TRACKED["tracking"]), "MAP.json")


@pytest.mark.parametrize(
    ("tracking", "message"),
    [
        (
            [department(), cost_centre(), {"category": "Region", "source": "buyer"}],
            "$.tracking: has 3 entries; Xero allows 2",
        ),
        ([department(), department()], "$.tracking[1]: repeats the category of $.tracking[0]"),
        ([department(key="x")], "$.tracking[0].key: is only used with the business_order_info"),
        ([cost_centre(key=None)], "$.tracking[0].key: is missing"),
        ([department(source="ship_to")], "$.tracking[0].source: must be one of"),
        ([department(category="x" * 101)], "$.tracking[0].category: should be at most 100"),
        (
            [department(values=[{"value": "A", "option": "B"}, {"value": "a", "option": "C"}])],
            "$.tracking[0].values[1]: repeats the value of values[0]",
        ),
    ],
)
def test_malformed_tracking_is_one_line(tracking, message) -> None:
    with pytest.raises(MappingFileError) as refused:
        load_file(tracked_mapping(*tracking), "MAP.json")
    assert message in str(refused.value)


def test_the_chart_refuses_unknown_or_archived_categories_and_options() -> None:
    mapping = mapping_of(
        tracked_mapping(
            department(values=[{"value": "Lab", "option": "IT"}], default_option="Garden"),
            {"category": "Region", "source": "legal_entity"},
        )
    )
    problems = {(p.path, p.code) for p in validate_mapping(mapping, CHART)}
    assert problems == {
        ("$.tracking[0].values[0].option", "archived_tracking_option"),
        ("$.tracking[0].default_option", "unknown_tracking_option"),
        ("$.tracking[1].category", "archived_tracking_category"),
    }
    assert validate_mapping(mapping_of(TRACKED), CHART) == []


def test_import_checks_tracking_against_the_chart(db_session, org) -> None:
    bad = tracked_mapping({"category": "Team", "source": "buyer"})
    with pytest.raises(MappingRejected) as refused:
        import_mapping(db_session, org.id, bad, "MAP.json", CHART)
    assert (
        "Xero has no tracking category 'Team'; pick one of 'Department', 'Cost Centre'"
        in (refused.value.lines()[1])
    )
    assert load_mapping(db_session, org.id) == Mapping()
    change = import_mapping(db_session, org.id, TRACKED, "MAP.json", CHART)
    assert change.tracking
    assert "tracking categories" in change.describe()
    assert export_mapping(db_session, org.id) == dump_mapping(mapping_of(TRACKED))


def test_a_change_of_tracking_alone_is_a_change(db_session, org) -> None:
    save_mapping(db_session, org.id, mapping_of(TRACKED), "test")
    again = save_mapping(db_session, org.id, mapping_of(TRACKED), "test")
    assert not again.changed
    fewer = tracked_mapping(department(default_option="Office"))
    change = save_mapping(db_session, org.id, mapping_of(fewer), "test")
    assert change.changed
    assert change.as_dict()["tracking"] is True
    assert load_mapping(db_session, org.id).tracking == mapping_of(fewer).tracking
    kinds = [r.kind for r in db_session.exec(select(MappingRow))]
    assert "tracking_value" not in kinds
