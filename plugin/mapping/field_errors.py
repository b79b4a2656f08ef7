"""Point problems found in a mapping (JSON paths from the checks, such as
``$.payment_methods[2].account_code``) at the fields of the mapping page they are about, so the
page shows each message next to its field, or at the top of its section.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from plugin.mapping.checks import MappingProblem
from plugin.mapping.forms import line_type_field
from plugin.mapping.forms import method_field
from plugin.mapping.forms import rule_field
from plugin.mapping.forms import tax_field
from plugin.mapping.forms import tracking_field
from plugin.models import PaymentMethod
from plugin.posting import Mapping

SECTION_PATHS: Final = {
    "payment-methods": ("$.payment_methods", "$.bill_due_days"),
    "expenses": ("$.expense_default_account_code", "$.expense_rules"),
    "taxes": ("$.tax_rates", "$.unreclaimable_tax"),
    "line-types": ("$.line_types",),
    "tracking": ("$.tracking",),
}
_PATH: Final = re.compile(r"^\$\.(\w+)(?:\[(\d+)\])?(?:\.(\w+))?")
_METHOD_PARTS: Final = {"account_code": "account", "payment_account_code": "payment_account"}
"""The part of a payment method's field for each key of the export format (else: treatment)."""
_RULE_PARTS: Final = {"field": "field", "key": "key", "value": "value", "account_code": "account"}
"""The part of an expense rule's field for each key of the export format (else: value)."""
_TRACKING_PARTS: Final = {"source": "source", "key": "key", "default_option": "default"}
"""The part of a tracking slot's field for each key of the export format (values: values; else:
category)."""


def in_section(problem: MappingProblem, section: str) -> bool:
    """Return whether a problem is about a field of ``section``."""
    return problem.path.startswith(SECTION_PATHS[section])


def field_for(path: str, mapping: Mapping, rows: Sequence[PaymentMethod]) -> str | None:
    """Return the id of the form field a problem's JSON path points at (None: the section)."""
    match = _PATH.match(path)
    if match is None:
        return None
    part, index, leaf = match.group(1), match.group(2), match.group(3)
    if part == "payment_methods" and index is not None:
        return _payment_method_field(int(index), leaf, mapping, rows)
    if part == "expense_rules" and index is not None:
        return rule_field(index, _RULE_PARTS.get(leaf or "", "value"))
    if part == "tax_rates" and index is not None and int(index) < len(mapping.tax_rates):
        return tax_field(mapping.tax_rates[int(index)].rate)
    if part == "tracking" and index is not None:
        if ".values[" in path:
            return tracking_field(index, "values")
        return tracking_field(index, _TRACKING_PARTS.get(leaf or "", "category"))
    if part == "line_types" and leaf:
        return line_type_field(leaf)
    simple = {"expense_default_account_code": "expense_default"}
    return simple.get(part, part if part == "unreclaimable_tax" else None)


def _payment_method_field(
    index: int, leaf: str | None, mapping: Mapping, rows: Sequence[PaymentMethod]
) -> str | None:
    if index >= len(mapping.payment_methods):
        return None
    key = mapping.payment_methods[index].key
    row = next((r for r in rows if r.key == key), None)
    if row is None:
        return None
    return method_field(row.id, _METHOD_PARTS.get(leaf or "", "treatment"))


def errors_for(
    problems: Sequence[MappingProblem],
    section: str,
    mapping: Mapping,
    rows: Sequence[PaymentMethod],
) -> tuple[dict[str, str], list[str]]:
    """Return (field id -> message, messages about the section as a whole) for ``section``."""
    fields: dict[str, str] = {}
    general: list[str] = []
    for problem in problems:
        if not in_section(problem, section):
            continue
        where = field_for(problem.path, mapping, rows)
        if where is None:
            general.append(problem.message)
        else:
            fields[where] = (
                f"{fields[where]} {problem.message}" if where in fields else (problem.message)
            )
    return fields, general
