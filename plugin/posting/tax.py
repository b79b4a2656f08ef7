"""Tax: which Xero tax type an Amazon line item's lines carry, whether its tax is reclaimable,
Xero's own tax for a line, and which reading of Amazon's tax (regulatory fee taxed or not)
reconciles to the cent."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP
from decimal import Decimal
from typing import Final

from plugin.amazon.models import TransactionLineItem
from plugin.posting.amounts import CENT
from plugin.posting.amounts import ZERO
from plugin.posting.amounts import Components
from plugin.posting.amounts import money_text
from plugin.posting.amounts import percent_text
from plugin.posting.coding import FIX as CODING_FIX
from plugin.posting.inputs import Chart
from plugin.posting.inputs import Mapping
from plugin.posting.inputs import TaxRate
from plugin.posting.results import Unpostable

NO_TAX: Final = "NONE"


@dataclass(frozen=True)
class TaxTreatment:
    """How one line item's tax is posted."""

    tax_type: str
    reclaimable: bool
    rate: Decimal


def mapped_tax_rate(tax_type: str, chart: Chart, rate: Decimal, chosen: bool = False) -> TaxRate:
    """Return the chart's tax rate for ``tax_type`` if it is usable on expenses (``chosen``:
    the bookkeeper chose it for this purchase in review, which the reason then says)."""
    found = chart.tax_rate(tax_type)
    how = "chosen for this purchase in review" if chosen else "mapped"
    fix = CODING_FIX if chosen else "Taxes"
    if found is None:
        raise Unpostable(
            "unknown_tax_type",
            f"Tax type {tax_type} ({how} for Amazon tax rate {percent_text(rate)}) is not "
            f"among the organisation's Xero tax rates. Choose another under {fix}.",
        )
    if found.status != "ACTIVE":
        raise Unpostable(
            "archived_tax_rate",
            f"Xero tax rate {found.name} ({tax_type}, {how} for Amazon tax rate "
            f"{percent_text(rate)}) is {found.status.lower()}. Choose another under {fix}.",
        )
    if not found.can_apply_to_expenses:
        raise Unpostable(
            "tax_type_not_for_expenses",
            f"Xero tax rate {found.name} ({tax_type}) cannot be used on expenses. Choose "
            "another for Amazon tax rate "
            f"{percent_text(rate)} under {fix}.",
        )
    return found


def no_tax_type(chart: Chart, purpose: str) -> str:
    """Return ``NONE`` if the org has it ACTIVE for expenses (it is a Xero system rate)."""
    found = chart.tax_rate(NO_TAX)
    if found is None or found.status != "ACTIVE" or not found.can_apply_to_expenses:
        state = "missing" if found is None else "not usable on expenses"
        if found is not None and found.status != "ACTIVE":
            state = found.status.lower()
        raise Unpostable(
            "unknown_tax_type" if found is None else "archived_tax_rate",
            f"Xero tax type NONE (used for {purpose}) is {state} in this organisation. "
            "Reconnect Xero to refresh its tax rates, or post this by hand.",
        )
    return NO_TAX


def tax_treatment_for(
    item: TransactionLineItem,
    parts: Components,
    mapping: Mapping,
    chart: Chart,
    chosen: str | None = None,
) -> TaxTreatment:
    """Decide the item's tax type and whether its tax is reclaimable; hold mismatches.

    One Amazon line item has one ``tax`` and one ``taxRate``, and all its lines carry the item's
    tax type (the transaction-level ``shipTaxRate`` / ``giftWrapTaxRate`` cannot be right for
    items of different rates). Xero's ``EffectiveRate`` is a percentage (``20.0000``), Amazon's
    rate a fraction (``"0.20"``): equal rates are reclaimable; a mapped 0% rate for a taxed item is
    unreclaimable. A missing ``taxRate`` is rate 0 when the tax is zero, else held. ``chosen``:
    the tax type the bookkeeper chose for this item in review, instead of the mapped one (the
    same checks apply).
    """
    rate = item.tax_rate
    if rate is None:
        if parts.tax != 0:
            raise Unpostable(
                "missing_tax_rate",
                f"Amazon charged tax of {money_text(parts.tax)} on "
                f"{item.product_title or 'an item'} without saying the rate, so we cannot "
                "choose a tax rate. Post it by hand.",
            )
        rate = ZERO
    tax_type = chosen or mapping.tax_type_for(rate)
    if tax_type is None:
        raise Unpostable(
            "unmapped_tax_rate",
            f"Amazon tax rate {percent_text(rate)} is not mapped to a Xero tax rate yet. Map "
            "it under Taxes.",
        )
    xero_rate = mapped_tax_rate(tax_type, chart, rate, chosen=chosen is not None)
    if xero_rate.fraction == rate:
        return TaxTreatment(tax_type, reclaimable=True, rate=rate)
    if xero_rate.effective_rate == 0 and rate > 0:
        return TaxTreatment(tax_type, reclaimable=False, rate=rate)
    if chosen is not None:
        raise Unpostable(
            "tax_rate_mismatch",
            f"Amazon charged tax at {percent_text(rate)} but the Xero tax rate chosen for this "
            f"purchase in review, {xero_rate.name} ({tax_type}), is "
            f"{percent_text(xero_rate.fraction)}. Choose a rate of {percent_text(rate)} (or a "
            f"0% rate if the tax cannot be reclaimed) under {CODING_FIX}.",
        )
    raise Unpostable(
        "tax_rate_mismatch",
        f"Amazon charged tax at {percent_text(rate)} but the mapped Xero tax rate "
        f"{xero_rate.name} ({tax_type}) is {percent_text(xero_rate.fraction)}. Map "
        f"{percent_text(rate)} to a Xero tax rate of {percent_text(rate)} (or to a 0% rate if "
        "the tax cannot be reclaimed) under Taxes.",
    )


def xero_line_tax(amount: Decimal, rate: Decimal) -> Decimal:
    """The tax Xero computes for one ``Exclusive`` line: ``amount`` x the tax type's rate.

    ``rate`` is the fraction (``EffectiveRate / 100``). Xero computes tax per line and rounds it
    to the cent, halves away from zero (xero-api.md §3.1), before summing the document.
    """
    return (amount * rate).quantize(CENT, ROUND_HALF_UP)


def rounding_allowance(item: TransactionLineItem, rate: Decimal, extra_lines: int) -> Decimal:
    """How far Amazon's tax may be from rate x amounts through rounding alone.

    A cent per unit (Amazon may round each unit's tax) and per line (and each part's), as
    before; none at a 0% rate, where any tax is wrong.
    """
    if rate == 0:
        return ZERO
    units = max(item.item_quantity or 1, 1)
    return CENT * (units + extra_lines)


def fee_is_taxed(item: TransactionLineItem, parts: Components, rate: Decimal, lines: int) -> bool:
    """Whether Amazon's ``tax`` includes tax on the regulatory (WEEE) fee; hold a real mismatch.

    Amazon documents no separate tax for ``regulatoryFee``: its tax is most likely inside the
    line's ``tax`` (amazon-business-api.md §9 point 8, UNCONFIRMED), else the fee is untaxed.
    Both readings are checked; the one nearer Amazon's figure wins (the fee taxed on a tie), if
    it is within ``rounding_allowance``. Only when neither reconciles is the item held
    (``tax_amount_mismatch``), the reason giving Amazon's tax and each reading's figure.
    """
    allowance = rounding_allowance(item, rate, lines)
    with_fee = parts.net * rate
    readings = [(abs(parts.tax - with_fee), True)]
    fee = parts.regulatory_fee
    if fee != 0:
        readings.append((abs(parts.tax - (parts.net - fee) * rate), False))
    distance, taxed = min(readings, key=lambda reading: (reading[0], not reading[1]))
    if distance <= allowance:
        return taxed
    title = item.product_title or "an item"
    figures = f"{percent_text(rate)} of {money_text(parts.net)} is {money_text(with_fee)}"
    if fee != 0:
        figures += (
            f", or {money_text((parts.net - fee) * rate)} if the regulatory fee of "
            f"{money_text(fee)} is untaxed"
        )
    raise Unpostable(
        "tax_amount_mismatch",
        f"Amazon's tax of {money_text(parts.tax)} on {title} is not what its rate gives: "
        f"{figures} (rounding explains at most {money_text(allowance)}). Nothing was posted; "
        "check the order in Amazon Business and post it by hand.",
    )
