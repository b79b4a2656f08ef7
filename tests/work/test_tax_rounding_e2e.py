"""Issue 13 point 2 end to end: a purchase whose discount nearly cancels the item (20.00 with
a 19.35 discount, Amazon's VAT 0.14 where 20 % per line gives 0.13), bought on the sandbox's
Amazon, imported and posted to the sandbox's Xero, which refuses on a bank transaction any
``TaxAmount`` that is not its own per-line figure (as Xero does, xero-api.md December 2026).

Paid by card it posts as a bank transaction Xero accepts: 4.00 and -3.87 (not Amazon's spread
4.31 and -4.17), the cent of difference as a zero-net pair; paid by invoice, as a bill with the
cent on one line (4.01). Either way Xero's total is exactly Amazon's amount. The same for the
euro-zone org (Beispiel GmbH on amazon.de) at 19 %."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from plugin.models import EntryState
from plugin.models import utcnow
from tests.common.amazon_payloads import DE_MARKETPLACE
from tests.common.amazon_payloads import UK_MARKETPLACE
from tests.common.pipeline import THAMES
from tests.common.purchases_e2e import BEISPIEL
from tests.common.purchases_e2e import buy_and_post
from tests.common.purchases_e2e import connected
from tests.common.purchases_e2e import documents_of
from tests.common.settlement import d
from tests.common.tax_orgs import BANK
from tests.common.tax_orgs import BILL
from tests.common.tax_orgs import item
from tests.common.tax_orgs import purchase

CASES = {
    # (org, how paid): (Amazon's item, instrument, Xero endpoint, (LineAmount, TaxType,
    # TaxAmount) per line, Amazon's amount, Amazon's tax)
    "uk-card": (
        item("20.00", "0.14", "0.20", discount="-19.35"),
        BANK,
        "BankTransactions",
        [
            ("20.00", "INPUT2", "4.00"),
            ("-19.35", "INPUT2", "-3.87"),
            ("0.03", "INPUT2", "0.01"),
            ("-0.03", "NONE", "0.00"),
        ],
        "0.79",
        "0.14",
    ),
    "uk-pay-by-invoice": (
        item("20.00", "0.14", "0.20", discount="-19.35"),
        BILL,
        "Invoices",
        [("20.00", "INPUT2", "4.01"), ("-19.35", "INPUT2", "-3.87")],
        "0.79",
        "0.14",
    ),
    # The euro-zone org at 19 %: Amazon's 0.13 where the lines give 3.80 - 3.68 = 0.12.
    "de-card": (
        item("20.00", "0.13", "0.19", discount="-19.35"),
        BANK,
        "BankTransactions",
        [
            ("20.00", "TAX001", "3.80"),
            ("-19.35", "TAX001", "-3.68"),
            ("0.03", "TAX001", "0.01"),
            ("-0.03", "NONE", "0.00"),
        ],
        "0.78",
        "0.13",
    ),
    "de-pay-by-invoice": (
        item("20.00", "0.13", "0.19", discount="-19.35"),
        BILL,
        "Invoices",
        [("20.00", "TAX001", "3.81"), ("-19.35", "TAX001", "-3.68")],
        "0.78",
        "0.13",
    ),
}
ORG = {"uk": (THAMES, "UK", UK_MARKETPLACE, "GB"), "de": (BEISPIEL, "DE", DE_MARKETPLACE, "DE")}


@pytest.mark.parametrize("case", list(CASES))
def test_a_nearly_cancelled_item_posts_with_xeros_per_line_tax_and_amazons_total(
    app_config, make_app, sandbox, monkeypatch, run_jobs, case
):
    discounted, instrument, endpoint, lines, amount, tax = CASES[case]
    name, store, marketplace, prefix = ORG[case[:2]]
    app, org = connected(app_config, make_app, sandbox, monkeypatch, name)
    raw = purchase(store, instrument, [discounted])  # in the store's currency
    bought = utcnow() - timedelta(days=2)
    transaction_id = f"NearlyCancelled{case.replace('-', '')}"
    raw.update(
        {
            "transactionId": transaction_id,
            "marketplaceId": marketplace,
            "transactionDate": bought.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "feedDate": (bought + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "invoiceNumber": f"{prefix}NEAR{case[3:7].upper()}1",
        }
    )
    for line in raw["transactionLineItems"]:
        line["orderId"] = f"303-{case[:7]}-0000001"
    amazon_amount = Decimal(raw["amount"]["amount"])
    assert amazon_amount == Decimal(amount)  # 20.00 - 19.35 + Amazon's tax

    entry = buy_and_post(
        app,
        org,
        sandbox,
        run_jobs,
        raw,
        bought.date() - timedelta(days=1),
        utcnow().date(),
        store=store,
    )
    assert entry.state == EntryState.POSTED, entry.reason  # Xero accepted it
    [document] = documents_of(sandbox, org, endpoint, transaction_id)
    assert document.get("ValidationErrors", []) == []
    assert document["Status"] in ("AUTHORISED", "PAID")
    assert d(document["Total"]) == amazon_amount  # exactly Amazon's amount
    got = [(d(li["LineAmount"]), li["TaxType"], d(li["TaxAmount"])) for li in document["LineItems"]]
    assert got == [(Decimal(a), t, Decimal(x)) for a, t, x in lines]
    assert d(document["TotalTax"]) == Decimal(tax)  # Amazon's VAT, to the cent
