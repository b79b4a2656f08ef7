"""The sandbox's Amazon data carries what tracking maps from: purchase order numbers, budget ids,
the checkout fields (GL code, Cost center, Project), the buyer, the legal entity and the group."""

from __future__ import annotations


def test_transactions_carry_the_fields_tracking_maps_from(uk):
    _token, transactions = uk
    charges = [t for t in transactions if t["transactionType"] == "CHARGE"]
    items = [i for t in charges for i in t["transactionLineItems"]]
    assert all(t["buyer"]["name"] for t in charges)
    assert {t["purchasingCustomerGroupName"] for t in charges} <= {"Office", "Warehouse", "IT"}
    assert {t["legalEntityName"] for t in charges} <= {
        "Thames Stationery Ltd",
        "Thames Stationery (Scotland) Ltd",
    }
    with_po = [i for i in items if i["purchaseOrderNumber"]]
    assert with_po
    assert len(with_po) < len(items)
    with_info = [i for i in items if i.get("businessOrderInfo")]
    assert with_info
    assert len(with_info) < len(items)
    assert all(i["budgetId"].startswith("BUD-UK-") for i in with_info)
    assert not any("budgetId" in i for i in items if not i.get("businessOrderInfo"))
    projects = {i["businessOrderInfo"].get("Project") for i in with_info}
    assert projects == {"Riverside", "Harbour", None}
