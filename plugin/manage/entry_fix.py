"""The fix for a held or refused entry, as a link to the page where it is made (pure).

A reason says in words what to change ("Map it under Payment methods"); the entry page adds a
button that opens that place. ``fix_for`` gives the label and the path (with its anchor) for a
reason code, or None when there is nothing to change in this app (Xero's own answers, Amazon's
data: the reason says what to do there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Fix:
    """A button: what it says, where it goes."""

    label: str
    path: str


_MAPPING: Final = {
    "unmapped_payment_method": ("Map the payment method", "payment-methods"),
    "bank_account_currency": ("Change the payment method's account", "payment-methods"),
    "unmapped_tax_rate": ("Map the tax rate", "taxes"),
    "unknown_tax_type": ("Change the tax rate", "taxes"),
    "archived_tax_rate": ("Change the tax rate", "taxes"),
    "tax_type_not_for_expenses": ("Change the tax rate", "taxes"),
    "tax_rate_mismatch": ("Change the tax rate", "taxes"),
    "unmapped_account": ("Map the account", "expenses"),
    "unknown_account": ("Change the account", "expenses"),
    "archived_account": ("Change the account", "expenses"),
    "wrong_account_type": ("Change the account", "expenses"),
}
_SECTIONS: Final = {  # the mapping page's section a reason names ("… under Line types")
    "under payment methods": "payment-methods",
    "under line types": "line-types",
    "under expenses": "expenses",
    "under taxes": "taxes",
}


def fix_for(org_id: int, reason_code: str | None, reason: str | None) -> Fix | None:
    """The button for this reason (None: nothing to change in this app)."""
    if reason_code == "missing_contact":
        return Fix("Repair the contact", f"/orgs/{org_id}/manage#xero")
    if reason_code == "lock_date":
        return None  # changed in Xero's settings; the reason says so
    found = _MAPPING.get(reason_code or "")
    if found is None:
        return None
    label, section = found
    text = (reason or "").lower()
    section = next((anchor for words, anchor in _SECTIONS.items() if words in text), section)
    return Fix(label, f"/orgs/{org_id}/mapping#{section}")
