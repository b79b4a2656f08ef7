"""Tax: which Xero tax type an Amazon line item's lines carry, whether its tax is reclaimable,
and how Amazon's tax is split across the item's lines to the cent."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN
from decimal import Decimal
from typing import Final

from plugin.amazon.models import TransactionLineItem
from plugin.posting.amounts import CENT
from plugin.posting.amounts import ZERO
from plugin.posting.amounts import Components
from plugin.posting.amounts import money_text
from plugin.posting.amounts import percent_text
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


def mapped_tax_rate(tax_type: str, chart: Chart, rate: Decimal) -> TaxRate:
    """Return the chart's tax rate for ``tax_type`` if it is usable on expenses."""
    found = chart.tax_rate(tax_type)
    if found is None:
        raise Unpostable(
            "unknown_tax_type",
            f"Tax type {tax_type} (mapped for Amazon tax rate {percent_text(rate)}) is not "
            "among the organisation's Xero tax rates. Choose another under Taxes.",
        )
    if found.status != "ACTIVE":
        raise Unpostable(
            "archived_tax_rate",
            f"Xero tax rate {found.name} ({tax_type}, mapped for Amazon tax rate "
            f"{percent_text(rate)}) is {found.status.lower()}. Choose another under Taxes.",
        )
    if not found.can_apply_to_expenses:
        raise Unpostable(
            "tax_type_not_for_expenses",
            f"Xero tax rate {found.name} ({tax_type}) cannot be used on expenses. Choose "
            "another for Amazon tax rate "
            f"{percent_text(rate)} under Taxes.",
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
    item: TransactionLineItem, parts: Components, mapping: Mapping, chart: Chart
) -> TaxTreatment:
    """Decide the item's tax type and whether its tax is reclaimable; hold mismatches.

    One Amazon line item has one ``tax`` and one ``taxRate``, and all its lines carry the item's
    tax type (the transaction-level ``shipTaxRate`` / ``giftWrapTaxRate`` cannot be right for
    items of different rates). Xero's ``EffectiveRate`` is a percentage (``20.0000``), Amazon's
    rate a fraction (``"0.20"``): equal rates are reclaimable; a mapped 0% rate for a taxed item is
    unreclaimable. A missing ``taxRate`` is rate 0 when the tax is zero, else held.
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
    tax_type = mapping.tax_type_for(rate)
    if tax_type is None:
        raise Unpostable(
            "unmapped_tax_rate",
            f"Amazon tax rate {percent_text(rate)} is not mapped to a Xero tax rate yet. Map "
            "it under Taxes.",
        )
    xero_rate = mapped_tax_rate(tax_type, chart, rate)
    if xero_rate.fraction == rate:
        return TaxTreatment(tax_type, reclaimable=True, rate=rate)
    if xero_rate.effective_rate == 0 and rate > 0:
        return TaxTreatment(tax_type, reclaimable=False, rate=rate)
    raise Unpostable(
        "tax_rate_mismatch",
        f"Amazon charged tax at {percent_text(rate)} but the mapped Xero tax rate "
        f"{xero_rate.name} ({tax_type}) is {percent_text(xero_rate.fraction)}. Map "
        f"{percent_text(rate)} to a Xero tax rate of {percent_text(rate)} (or to a 0% rate if "
        "the tax cannot be reclaimed) under Taxes.",
    )


def check_tax_amount(
    item: TransactionLineItem, parts: Components, rate: Decimal, lines: int
) -> None:
    """Hold when Amazon's tax is not its rate times the amounts (beyond rounding)."""
    expected = parts.net * rate
    units = max(item.item_quantity or 1, 1)
    tolerance = CENT * (units + lines)
    if abs(parts.tax - expected) > tolerance:
        raise Unpostable(
            "tax_amount_mismatch",
            f"Amazon's tax of {money_text(parts.tax)} on {item.product_title or 'an item'} is "
            f"not {percent_text(rate)} of {money_text(parts.net)} (about "
            f"{money_text(expected)}). Nothing was posted; post it by hand.",
        )


def allocate(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split ``total`` in proportion to ``weights``, in cents, summing to ``total`` exactly.

    Each share is rounded to the cent; the remainder goes to the first share.
    """
    base = sum(weights, ZERO)
    if not weights:
        return []
    if base == 0:
        return [total] + [ZERO] * (len(weights) - 1)
    shares = [(total * w / base).quantize(CENT, ROUND_HALF_EVEN) for w in weights]
    shares[0] += total - sum(shares, ZERO)
    return shares
