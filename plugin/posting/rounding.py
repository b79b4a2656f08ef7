"""Tax rounding: where the cents between Xero's own per-line tax and Amazon's tax go.

Every line carries the tax Xero itself computes for it (``tax.xero_line_tax``). Amazon rounds
differently (once per item, or per unit), so per tax type the document's lines can be a cent or
so away from the tax Amazon charged; that difference has to be posted too, or the document total
is not Amazon's amount. Where it goes depends on what Xero accepts (xero-api.md, December 2026,
point 2):

* **Bills and credit notes** accept a caller's ``TaxAmount``: the difference is added to the tax
  of one line, the largest of that tax type. The document's tax is exactly Amazon's.
* **Bank transactions** are refused when a ``TaxAmount`` is not Xero's own figure ("Tax amount
  52.23 is incorrect for INPUT2 tax type, should be 52.28"). So no line's tax is changed;
  instead two lines on the same account settle it: one of the tax type, of the smallest amount
  ``n`` whose Xero tax is exactly the difference (``0.03`` at 20% for a penny), and one of
  ``-n`` with ``NONE``. Their amounts cancel (the expense account is unchanged), their tax is
  the difference, and the document total is Amazon's amount. A single ``NONE`` line of the
  difference would be simpler, but it reclaims Xero's figure instead of the VAT on Amazon's
  invoice (over-claiming when Amazon's is lower); the pair reclaims exactly Amazon's tax, at the
  cost of a few pence of net on the tax type's report line (and back on ``NONE``).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace
from decimal import ROUND_CEILING
from decimal import Decimal
from typing import TYPE_CHECKING

from plugin.posting.amounts import CENT
from plugin.posting.amounts import ZERO
from plugin.posting.amounts import money_text
from plugin.posting.amounts import percent_text
from plugin.posting.inputs import Chart
from plugin.posting.tax import no_tax_type
from plugin.posting.tax import xero_line_tax

if TYPE_CHECKING:
    from plugin.posting.lines import Line


@dataclass(frozen=True)
class TaxDifference:
    """Per tax type: Amazon's tax and the sum of Xero's per-line figures for it."""

    tax_type: str
    rate: Decimal
    amazon: Decimal
    xero: Decimal

    @property
    def amount(self) -> Decimal:
        """What Amazon charged beyond (or short of) Xero's figures."""
        return self.amazon - self.xero


def add_difference(
    found: dict[str, TaxDifference], tax_type: str, rate: Decimal, amazon: Decimal, xero: Decimal
) -> None:
    """Add one item's tax and Xero's figures for it to the per-tax-type totals."""
    before = found.get(tax_type, TaxDifference(tax_type, rate, ZERO, ZERO))
    found[tax_type] = replace(before, amazon=before.amazon + amazon, xero=before.xero + xero)


def settling_amount(difference: Decimal, rate: Decimal) -> Decimal | None:
    """The smallest amount (in cents, of the difference's sign) whose Xero tax is ``difference``.

    ``None`` when there is none (a 0% rate). With a rate of at most 100% each cent of amount
    adds at most a cent of tax, so counting up from the lower bound reaches it exactly.
    """
    size = abs(difference)
    if rate <= 0 or size == 0:
        return None
    amount = max(((size - CENT / 2) / rate).quantize(CENT, ROUND_CEILING), CENT)
    while xero_line_tax(amount, rate) < size:
        amount += CENT
    if xero_line_tax(amount, rate) != size:
        return None
    return amount if difference > 0 else -amount


def _largest(lines: list[Line], tax_type: str) -> int:
    candidates = [i for i, line in enumerate(lines) if line.tax_type == tax_type]
    return max(candidates, key=lambda i: abs(lines[i].amount))


def on_one_line(lines: list[Line], differences: list[TaxDifference]) -> list[Line]:
    """Bills and credit notes: each difference added to its tax type's largest line."""
    settled = list(lines)
    for difference in differences:
        index = _largest(settled, difference.tax_type)
        line = settled[index]
        settled[index] = replace(line, tax_amount=line.tax_amount + difference.amount)
    return settled


def settling_lines(lines: list[Line], difference: TaxDifference, chart: Chart) -> list[Line]:
    """Bank transactions: the pair of lines that carries ``difference`` (see the module).

    Both go to the account of the tax type's largest line.
    """
    template = replace(lines[_largest(lines, difference.tax_type)], quantity=1)
    none = no_tax_type(chart, "settling tax rounding on bank transactions")
    what = (
        f"Tax rounding at {percent_text(difference.rate)}: Amazon charged "
        f"{money_text(difference.amazon)} tax, Xero's per-line tax is "
        f"{money_text(difference.xero)}"
    )
    amount = settling_amount(difference.amount, difference.rate)
    if amount is None:  # no amount of this type carries it: post the cents untaxed
        return [
            replace(
                template,
                description=what,
                amount=difference.amount,
                tax_type=none,
                tax_amount=ZERO,
            )
        ]
    offset = (
        f"Tax rounding at {percent_text(difference.rate)}: offsets the {money_text(amount)} "
        "above (no tax)"
    )
    return [
        replace(template, description=what, amount=amount, tax_amount=difference.amount),
        replace(template, description=offset, amount=-amount, tax_type=none, tax_amount=ZERO),
    ]


def settle(
    lines: list[Line], differences: list[TaxDifference], bank: bool, chart: Chart
) -> list[Line]:
    """``lines`` with every non-zero difference posted as Xero accepts it (see the module)."""
    due = [d for d in differences if d.amount != 0]
    if not bank:
        return on_one_line(lines, due)
    extra = [line for d in due for line in settling_lines(lines, d, chart)]
    return lines + extra
