"""How the tracking part of a mapping is kept in ``Mapping`` rows (no schema of its own), and
what makes it impossible to store (pure).

=====================  =========================================  ============================
kind                   key                                        value
=====================  =========================================  ============================
``tracking``           the Xero category name                     JSON: source, key,
                       (``position`` = order)                     match_by_name, create_missing
``tracking_default``   the category name                          the default option
``tracking_value``     JSON ``[category, Amazon value]``          the option it maps to
=====================  =========================================  ============================

Names are at most 100 characters (Xero's limit), so each key and value fits its 255-character
column; ``tracking_storable`` refuses what would not (and a third category).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Final

from plugin.mapping.checks import MAX_KEY
from plugin.mapping.checks import MappingProblem
from plugin.models import Mapping as MappingRow
from plugin.posting import MAX_TRACKING_CATEGORIES
from plugin.posting import TRACKING_SOURCES
from plugin.posting import Mapping
from plugin.posting import TrackingMapping
from plugin.posting import TrackingValue

__all__ = ["TRACKING_KINDS", "tracking_from_rows", "tracking_rows", "tracking_storable"]

TRACKING_KINDS: Final = ("tracking", "tracking_default", "tracking_value")
MAX_NAME: Final = 100
MAX_VALUE: Final = 255  # Mapping.value


def _settings_json(entry: TrackingMapping) -> str:
    return json.dumps(
        {
            "source": entry.source,
            "key": entry.key,
            "match_by_name": entry.match_by_name,
            "create_missing": entry.create_missing,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _value_key(category: str, value: str) -> str:
    return json.dumps([category, value], ensure_ascii=False, separators=(",", ":"))


def tracking_rows(mapping: Mapping) -> dict[tuple[str, str], tuple[str, int]]:
    """The rows that store ``mapping.tracking``: (kind, key) -> (value, position)."""
    rows: dict[tuple[str, str], tuple[str, int]] = {}
    for position, entry in enumerate(mapping.tracking):
        rows[("tracking", entry.category)] = (_settings_json(entry), position)
        if entry.default_option:
            rows[("tracking_default", entry.category)] = (entry.default_option, 0)
        for index, value in enumerate(entry.values):
            rows[("tracking_value", _value_key(entry.category, value.value))] = (
                value.option,
                index,
            )
    return rows


def tracking_from_rows(
    rows: Iterable[MappingRow], error: type[Exception]
) -> tuple[TrackingMapping, ...]:
    """The tracking stored in ``rows`` (already sorted by position); ``error`` for a bad row."""
    settings: list[MappingRow] = []
    defaults: dict[str, str] = {}
    values: dict[str, list[TrackingValue]] = {}
    for row in rows:
        if row.kind == "tracking":
            settings.append(row)
        elif row.kind == "tracking_default":
            defaults[row.key] = row.value
        elif row.kind == "tracking_value":
            try:
                category, value = json.loads(row.key)
            except (ValueError, TypeError):
                raise error(f"stored tracking value row {row.id} is unreadable") from None
            values.setdefault(str(category), []).append(TrackingValue(str(value), row.value))
    found = []
    for row in settings:
        try:
            data = json.loads(row.value)
            entry = TrackingMapping(
                category=row.key,
                source=str(data["source"]),
                key=None if data.get("key") is None else str(data["key"]),
                values=tuple(values.get(row.key, ())),
                match_by_name=bool(data["match_by_name"]),
                create_missing=bool(data["create_missing"]),
                default_option=defaults.get(row.key),
            )
        except (ValueError, KeyError, TypeError):
            raise error(f"stored tracking row {row.id} is unreadable") from None
        if entry.source not in TRACKING_SOURCES:
            raise error(f"stored tracking row {row.id} has an unknown source")
        found.append(entry)
    return tuple(found)


def _name_problem(name: str | None, path: str, what: str) -> MappingProblem | None:
    if name is None:
        return None
    if not name.strip():
        return MappingProblem(path, f"{what} is empty", "invalid")
    if len(name) > MAX_NAME:
        return MappingProblem(path, f"{what} is longer than {MAX_NAME} characters", "too_long")
    return None


def tracking_storable(mapping: Mapping) -> list[MappingProblem]:
    """What makes ``mapping.tracking`` impossible or ambiguous to store."""
    problems: list[MappingProblem | None] = []
    if len(mapping.tracking) > MAX_TRACKING_CATEGORIES:
        problems.append(
            MappingProblem(
                "$.tracking",
                f"Xero allows {MAX_TRACKING_CATEGORIES} active tracking categories; "
                f"{len(mapping.tracking)} are mapped",
                "too_many",
            )
        )
    seen: set[str] = set()
    for index, entry in enumerate(mapping.tracking):
        path = f"$.tracking[{index}]"
        folded = entry.category.strip().casefold()
        if folded in seen:
            problems.append(MappingProblem(f"{path}.category", "is mapped twice", "duplicate"))
        seen.add(folded)
        if entry.source not in TRACKING_SOURCES:
            problems.append(MappingProblem(f"{path}.source", "is not a source we know", "invalid"))
        if (entry.source == "business_order_info") != bool(entry.key and entry.key.strip()):
            problems.append(
                MappingProblem(
                    f"{path}.key",
                    "names the checkout field, for (and only for) business_order_info",
                    "invalid",
                )
            )
        problems.append(_name_problem(entry.category, f"{path}.category", "the category"))
        problems.append(_name_problem(entry.key, f"{path}.key", "the checkout field"))
        problems.append(_name_problem(entry.default_option, f"{path}.default_option", "the option"))
        values_seen: set[str] = set()
        for number, value in enumerate(entry.values):
            where = f"{path}.values[{number}]"
            problems.append(_name_problem(value.value, f"{where}.value", "the value"))
            problems.append(_name_problem(value.option, f"{where}.option", "the option"))
            if value.value.strip().casefold() in values_seen:
                problems.append(MappingProblem(f"{where}.value", "is mapped twice", "duplicate"))
            values_seen.add(value.value.strip().casefold())
            if len(_value_key(entry.category, value.value)) > MAX_KEY:
                problems.append(
                    MappingProblem(f"{where}.value", "is too long to store", "too_long")
                )
        if len(_settings_json(entry)) > MAX_VALUE:
            problems.append(MappingProblem(f"{path}.key", "is too long to store", "too_long"))
    return [p for p in problems if p is not None]
