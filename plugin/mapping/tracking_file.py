"""The ``tracking`` part of the mapping file (version 2): per Xero tracking category, which Amazon
field feeds it and how values become options (``posting.TrackingMapping``).

```json
"tracking": [
  {"category": "Department", "source": "customer_group", "match_by_name": true,
   "create_missing": false, "default_option": null,
   "values": [{"value": "IT", "option": "Information Technology"}]},
  {"category": "Cost Centre", "source": "business_order_info", "key": "Cost center"}
]
```

Decisions: at most two entries (Xero's two active categories), each category once (names
compared trimmed, any case, as Xero does); ``key`` only (and always) for
``business_order_info``; each Amazon value mapped at most once; names at most 100 characters
(Xero's limit on category and option names). ``match_by_name`` defaults to true,
``create_missing`` to false.
"""

from __future__ import annotations

from typing import Annotated
from typing import Any
from typing import Final

from pydantic import BeforeValidator
from pydantic import Field
from pydantic import PlainValidator
from pydantic import ValidationInfo
from pydantic import field_validator

from plugin.mapping.json_files import FileModel
from plugin.mapping.json_files import a_list_of_at_most
from plugin.mapping.json_files import choice
from plugin.mapping.json_files import optional
from plugin.mapping.json_files import problem
from plugin.mapping.json_files import show
from plugin.mapping.json_files import text
from plugin.posting import MAX_TRACKING_CATEGORIES
from plugin.posting import TRACKING_SOURCES
from plugin.posting import TrackingMapping
from plugin.posting import TrackingValue

__all__ = ["MAX_TRACKING_NAME", "MAX_TRACKING_VALUES", "TrackingEntry", "dump_tracking"]

MAX_TRACKING_NAME: Final = 100
MAX_TRACKING_VALUES: Final = 5000


def _name(value: object) -> str:
    found = text(value).strip()
    if len(found) > MAX_TRACKING_NAME:
        raise problem(f"should be at most {MAX_TRACKING_NAME} characters, got {show(value)}")
    return found


def _flag(default: bool) -> PlainValidator:
    def read(value: object) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            raise problem(f"should be true or false, got {show(value)}")
        return value

    return PlainValidator(read)


Name = Annotated[str, PlainValidator(_name)]


class TrackingValueEntry(FileModel, extra="forbid"):
    """One hand mapping: an Amazon value and the Xero option it goes to."""

    value: Name
    option: Name

    def entry(self) -> TrackingValue:
        return TrackingValue(self.value, self.option)


class TrackingEntry(FileModel, extra="forbid"):
    """One of ``tracking``."""

    category: Name
    source: Annotated[str, choice(TRACKING_SOURCES)]
    key: str | None = Field(default=None, validate_default=True)
    values: Annotated[
        tuple[TrackingValueEntry, ...], BeforeValidator(a_list_of_at_most(MAX_TRACKING_VALUES))
    ] = ()
    match_by_name: Annotated[bool, _flag(True)] = True
    create_missing: Annotated[bool, _flag(False)] = False
    default_option: Annotated[str | None, PlainValidator(optional(_name))] = None

    @field_validator("key", mode="plain")
    @classmethod
    def _key_for_business_order_info(cls, value: object, info: ValidationInfo) -> str | None:
        source = info.data.get("source")
        if source == "business_order_info":
            return _name(value)
        if value is not None and source is not None:
            raise problem(f"is only used with the business_order_info source, not {source}")
        return None

    @field_validator("values", mode="after")
    @classmethod
    def _each_value_once(
        cls, value: tuple[TrackingValueEntry, ...]
    ) -> tuple[TrackingValueEntry, ...]:
        seen: dict[str, int] = {}
        for index, entry in enumerate(value):
            folded = entry.value.casefold()
            if folded in seen:
                raise problem(f"repeats the value of values[{seen[folded]}]", at=index)
            seen[folded] = index
        return value

    def entry(self) -> TrackingMapping:
        """Return the category's mapping."""
        return TrackingMapping(
            category=self.category,
            source=self.source,
            key=self.key,
            values=tuple(v.entry() for v in self.values),
            match_by_name=self.match_by_name,
            create_missing=self.create_missing,
            default_option=self.default_option,
        )


def check_tracking_entries(value: tuple[TrackingEntry, ...]) -> tuple[TrackingEntry, ...]:
    """At most two categories, each once (the ``MappingFile`` validator)."""
    if len(value) > MAX_TRACKING_CATEGORIES:
        raise problem(
            f"has {len(value)} entries; Xero allows {MAX_TRACKING_CATEGORIES} active tracking "
            "categories"
        )
    seen: dict[str, int] = {}
    for index, entry in enumerate(value):
        folded = entry.category.casefold()
        if folded in seen:
            raise problem(f"repeats the category of $.tracking[{seen[folded]}]", at=index)
        seen[folded] = index
    return value


def dump_tracking(entry: TrackingMapping) -> dict[str, Any]:
    """One ``tracking`` entry as the file writes it (``TrackingEntry`` reads it back)."""
    dumped: dict[str, Any] = {"category": entry.category, "source": entry.source}
    if entry.key is not None:
        dumped["key"] = entry.key
    dumped["match_by_name"] = entry.match_by_name
    dumped["create_missing"] = entry.create_missing
    dumped["default_option"] = entry.default_option
    dumped["values"] = [{"value": v.value, "option": v.option} for v in entry.values]
    return dumped
