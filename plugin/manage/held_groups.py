"""Held and failed purchases grouped by their real cause, each group labelled from its members.

A reason code alone is not a cause: "unmapped_payment_method" holds Mastercard 6006 and
Visa 9911 purchases, which are fixed in two places. A group is the reason code plus the cause's
own key:

- ``method``: the payment method key (an unmapped payment method);
- ``rate``: Amazon's tax rate, for reasons that also carry each purchase's own figures
  (``tax_amount_mismatch``: the group says the rate, each member's figures are its own);
- ``text``: the reason sentence itself, for codes whose sentence names only the cause (the
  account, the tax rate, the currency) and so is the same for every purchase it holds;
- ``code``: the reason code alone, for reasons made of the purchase's own figures (amounts that
  do not add up, a lock date), labelled with the code's gloss and one member's figures.

Pure functions; ``plugin.manage.entries`` reads the rows and filters the list by a ``Cause``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from plugin.posting import HELD_CODES

METHOD_CODES = frozenset({"unmapped_payment_method"})
RATE_CODES = frozenset({"tax_amount_mismatch"})
TEXT_CODES = frozenset(
    {
        "unmapped_account",
        "unknown_account",
        "archived_account",
        "wrong_account_type",
        "bank_account_currency",
        "currency_not_enabled",
        "unsupported_transaction_type",
        "missing_contact",
        "incomplete_transaction",
        "missing_invoice_number",
        "unknown_tax_type",
        "archived_tax_rate",
        "tax_type_not_for_expenses",
        "unmapped_tax_rate",
        "tax_rate_mismatch",
        "legal_entity_not_taken",
        "legal_entity_other_organisation",
    }
)
"""Codes whose reason sentence names the cause only (no figures of the purchase)."""

KINDS = ("method", "rate", "text", "code")
_RATE = re.compile(r": (\d+(?:\.\d+)?%) of ")  # "…is not what its rate gives: 20% of £10.00 is…"


@dataclass(frozen=True, order=True)
class Cause:
    """One real cause: a reason code and the cause's own key (``kind`` says which key)."""

    code: str
    kind: str = "code"
    key: str = ""

    @property
    def param(self) -> str:
        """The cause in a URL or a form: ``<code>|<kind>|<key>``."""
        return f"{self.code}|{self.kind}|{self.key}" if self.kind != "code" else self.code

    @classmethod
    def from_param(cls, value: str) -> Cause | None:
        """The cause a ``param`` names (None when it names none)."""
        code, _, rest = value.partition("|")
        kind, _, key = rest.partition("|")
        if not code:
            return None
        if not rest:
            return cls(code)
        if kind not in KINDS or not key:
            return None
        return cls(code, kind, key)


def cause_of(code: str | None, payment_method_key: str | None, reason: str | None) -> Cause:
    """The real cause of one held or failed purchase."""
    code = code or "unknown"
    if code in METHOD_CODES and payment_method_key:
        return Cause(code, "method", payment_method_key)
    if code in RATE_CODES:
        found = _RATE.search(reason or "")
        if found:
            return Cause(code, "rate", found.group(1))
    if code in TEXT_CODES | METHOD_CODES and reason:  # a method's sentence names it
        return Cause(code, "text", reason)
    return Cause(code)


@dataclass(frozen=True)
class Member:
    """One held or failed purchase (or several sharing every field here), as the groups see it."""

    code: str | None
    payment_method_key: str | None
    reason: str | None
    count: int = 1
    first_date: datetime | None = None


@dataclass(frozen=True)
class HeldGroup:
    """Purchases held or failed for one cause: its label, and one member's own figures."""

    cause: Cause
    label: str
    count: int
    sample: str = ""  # a member's own reason, when the label is not that reason

    @property
    def reason_code(self) -> str:
        """The reason code of the group."""
        return self.cause.code

    @property
    def param(self) -> str:
        """The group in the list's filter and in "Retry all" (``Cause.param``)."""
        return self.cause.param

    @property
    def reason(self) -> str:
        """The group's label (the name the page used before groups had causes)."""
        return self.label


def first_sentence(reason: str) -> str:
    """The reason up to its first full stop (the cause; the rest is how to fix it)."""
    head, dot, _rest = reason.partition(". ")
    return head + "." if dot else reason


def label_of(cause: Cause, reasons: list[str]) -> tuple[str, str]:
    """(the group's label, a member's own reason to show with it, or "")."""
    gloss = HELD_CODES.get(cause.code, cause.code.replace("_", " ").capitalize() + ".")
    if cause.kind == "method":
        return first_sentence(reasons[0]) if reasons else gloss, ""
    if cause.kind == "text":
        return cause.key, ""
    if cause.kind == "rate":
        return f"{gloss.rstrip('.')} (Amazon's rate {cause.key}).", reasons[0] if reasons else ""
    distinct = set(reasons)
    if len(distinct) == 1:
        return reasons[0], ""
    return gloss, reasons[0] if reasons else ""


def _earliest_first(member: Member) -> tuple[bool, float]:
    return member.first_date is None, member.first_date.timestamp() if member.first_date else 0.0


def group_members(members: Iterable[Member]) -> list[HeldGroup]:
    """Members by real cause, biggest group first; each labelled from its own members (the
    sample is the reason of its earliest purchase)."""
    by_cause: dict[Cause, list[Member]] = {}
    for member in members:
        cause = cause_of(member.code, member.payment_method_key, member.reason)
        by_cause.setdefault(cause, []).append(member)
    groups = []
    for cause, items in by_cause.items():
        items.sort(key=_earliest_first)
        reasons = [m.reason for m in items if m.reason]
        label, sample = label_of(cause, reasons or ["No reason recorded."])
        groups.append(HeldGroup(cause, label, sum(m.count for m in items), sample))
    return sorted(groups, key=lambda group: (-group.count, group.cause))
