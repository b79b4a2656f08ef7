"""What a save of the mapping changed: ``MappingChange`` and ``diff_mappings`` (pure).

Held entries using any changed part should be evaluated again; the change also goes into the
audit trail and into the line ``flask mapping-import`` prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from plugin.mapping.checks import LINE_TYPE_NAMES
from plugin.mapping.checks import rate_key
from plugin.mapping.rows import SETTING_KEYS
from plugin.posting import Mapping

__all__ = ["MappingChange", "diff_mappings"]


@dataclass(frozen=True)
class MappingChange:
    """What a save changed; held entries using any of it should be evaluated again."""

    before: Mapping
    after: Mapping
    payment_methods: frozenset[str]
    expense_default: bool
    expense_rules: bool
    tax_rates: frozenset[Decimal]
    line_types: frozenset[str]
    settings: frozenset[str]
    tracking: bool = False

    @property
    def changed(self) -> bool:
        """Return whether anything changed at all."""
        return bool(
            self.payment_methods
            or self.expense_default
            or self.expense_rules
            or self.tax_rates
            or self.line_types
            or self.settings
            or self.tracking
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the change as JSON-ready data (for the audit trail)."""
        return {
            "payment_methods": sorted(self.payment_methods),
            "expense_default": self.expense_default,
            "expense_rules": self.expense_rules,
            "tax_rates": sorted(rate_key(r) for r in self.tax_rates),
            "line_types": sorted(self.line_types),
            "settings": sorted(self.settings),
            "tracking": self.tracking,
        }

    def describe(self) -> str:
        """Return one line saying what changed, for people."""
        parts = []
        if self.payment_methods:
            parts.append(f"payment methods {', '.join(sorted(self.payment_methods))}")
        if self.expense_default:
            parts.append("default expense account")
        if self.expense_rules:
            parts.append("expense rules")
        if self.tax_rates:
            parts.append(f"tax rates {', '.join(sorted(rate_key(r) for r in self.tax_rates))}")
        if self.line_types:
            parts.append(f"line types {', '.join(sorted(self.line_types))}")
        if self.settings:
            parts.append(f"settings {', '.join(sorted(self.settings))}")
        if self.tracking:
            parts.append("tracking categories")
        return "changed " + "; ".join(parts) if parts else "no changes"


def diff_mappings(before: Mapping, after: Mapping) -> MappingChange:
    """Return what differs between two mappings (order of payment methods does not count)."""
    keys = {pm.key for pm in before.payment_methods} | {pm.key for pm in after.payment_methods}
    rates = {t.rate for t in before.tax_rates} | {t.rate for t in after.tax_rates}
    return MappingChange(
        before=before,
        after=after,
        payment_methods=frozenset(
            k for k in keys if before.payment_method(k) != after.payment_method(k)
        ),
        expense_default=before.expense_default_account_code != after.expense_default_account_code,
        expense_rules=before.expense_rules != after.expense_rules,
        tax_rates=frozenset(r for r in rates if before.tax_type_for(r) != after.tax_type_for(r)),
        line_types=frozenset(
            n
            for n in LINE_TYPE_NAMES
            if getattr(before.line_types, n) != getattr(after.line_types, n)
        ),
        settings=frozenset(s for s in SETTING_KEYS if getattr(before, s) != getattr(after, s)),
        tracking=before.tracking != after.tracking,
    )
