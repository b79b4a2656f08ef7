"""``flask preview`` with tracking: a version 2 mapping file and a CHART.json with
``TrackingCategories`` give documents whose lines carry ``Tracking``, and an unmapped value is
held with its reason."""

from __future__ import annotations

import json

from tests.cli.test_mapping import files
from tests.cli.test_mapping import run  # noqa: F401
from tests.common.amazon_payloads import us_card_charge
from tests.common.tracking import department
from tests.common.tracking import tracked_chart
from tests.common.tracking import tracked_mapping


def test_preview_shows_each_lines_tracking(run, tmp_path) -> None:  # noqa: F811
    research = us_card_charge(transactionId="TX-RESEARCH", purchasingCustomerGroupName="Research")
    args = files(
        tmp_path,
        [us_card_charge(), research],
        tracked_mapping(department()),
        tracked_chart(Contact={"ContactID": "c-us"}),
    )
    result = run("preview", *args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    [document] = out["documents"]
    assert [line["Tracking"][0]["Option"] for line in document["body"]["LineItems"]] == [
        "Facilities"
    ] * len(document["body"]["LineItems"])
    [held] = out["held"]
    assert held["amazon_transaction_id"] == "TX-RESEARCH"
    assert "purchasing group 'Research' has no option" in held["reason"]
