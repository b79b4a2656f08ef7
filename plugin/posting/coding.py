"""A bookkeeper's coding of one purchase, chosen in review (issue 16 point 4): per Amazon line
item, the account, tax rate and tracking that replace what the mapping gives (``None``: as
mapped). An input of translation like the mapping (``PostingContext.codings``), so the rules
stay pure and every check still applies: an account or tax rate chosen here must be in the
chart and active, a tracking option must exist and be active, a tax rate must agree with
Amazon's (or be 0% for tax that cannot be reclaimed), or the purchase is held with the reason.

The account replaces the item's expense account (its item line, and its discount when discounts
go to the item's account); shipping, gift-wrap and fee lines keep their line-type accounts. The
tax rate applies to all the item's lines; the tracking to all of them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from typing import Final

PURPOSE: Final = "the coding chosen for this purchase in review"
FIX: Final = "Review (Change coding)"


@dataclass(frozen=True)
class LineCoding:
    """One Amazon line item's coding; each ``None`` keeps what the mapping gives.

    ``tracking``: (category, option) pairs replacing the item's tracking (``()``: none).
    """

    account_code: str | None = None
    tax_type: str | None = None
    tracking: tuple[tuple[str, str], ...] | None = None

    @property
    def empty(self) -> bool:
        """Nothing changed: the mapping decides."""
        return self.account_code is None and self.tax_type is None and self.tracking is None

    def as_json(self) -> dict[str, Any]:
        """The stored form."""
        return {
            "account_code": self.account_code,
            "tax_type": self.tax_type,
            "tracking": None if self.tracking is None else [list(t) for t in self.tracking],
        }


@dataclass(frozen=True)
class Coding:
    """One purchase's coding, by the position of its Amazon line items (the single line of an
    over-refund without line items is position 0)."""

    lines: tuple[LineCoding | None, ...] = ()

    def line(self, index: int) -> LineCoding | None:
        """The coding of line item ``index`` (None: as mapped)."""
        found = self.lines[index] if 0 <= index < len(self.lines) else None
        return None if found is None or found.empty else found

    @property
    def empty(self) -> bool:
        """No line changed."""
        return all(line is None or line.empty for line in self.lines)

    def as_json(self) -> dict[str, Any]:
        """The stored form (``entry_review.coding``)."""
        return {"lines": [None if line is None else line.as_json() for line in self.lines]}


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _line_from_json(value: Any) -> LineCoding | None:
    if not isinstance(value, dict):
        return None
    tracking_value = value.get("tracking")
    tracking: tuple[tuple[str, str], ...] | None = None
    if isinstance(tracking_value, list):
        tracking = tuple(
            (str(pair[0]), str(pair[1]))
            for pair in tracking_value
            if isinstance(pair, list | tuple) and len(pair) == 2 and pair[0] and pair[1]
        )
    return LineCoding(_text(value.get("account_code")), _text(value.get("tax_type")), tracking)


def coding_from_json(value: Any) -> Coding | None:
    """The coding stored as ``Coding.as_json`` (None: none, or nothing changed)."""
    if not isinstance(value, dict) or not isinstance(value.get("lines"), list):
        return None
    coding = Coding(tuple(_line_from_json(line) for line in value["lines"]))
    return None if coding.empty else coding
