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


def test_one_account_buys_for_several_legal_entities_and_a_refund_keeps_its_purchases(uk):
    """Issue 16 point 3: as Amazon's getTransactions does (spec §3.1), the one account's feed
    carries every legal entity it buys for; a refund names the entity of the order it refunds
    (so both go to the same Xero organisation)."""
    _token, transactions = uk
    entities = {t["legalEntityName"] for t in transactions}
    assert entities == {"Thames Stationery Ltd", "Thames Stationery (Scotland) Ltd"}
    of_order: dict[str, set[str]] = {}
    refunded: set[str] = set()
    for t in transactions:
        for item in t.get("transactionLineItems") or []:
            of_order.setdefault(item["orderId"], set()).add(t["legalEntityName"])
            if t["transactionType"] == "REFUND":
                refunded.add(item["orderId"])
    assert refunded
    assert all(len(names) == 1 for names in of_order.values()), "an order has one entity"
