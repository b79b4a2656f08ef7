"""Reading the JSON input files (the mapping file, CHART.json) through pydantic models.

Every fault becomes one ``InputFileError`` line naming the source, the JSON path of the bad value
and what is wrong: ``MAP.json: $.payment_methods[1].treatment: must be one of 'spend_money',
'bill', got 'card'``. Validators raise ``problem(...)`` with that text; ``read_model`` turns the
first pydantic error into the line. The field types the files share live here too. The bytes
become JSON in ``json_text`` (size, encoding, depth, number and repeated-key rules).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from typing import Any
from typing import TypeVar

import simplejson
from pydantic import BaseModel
from pydantic import BeforeValidator
from pydantic import ConfigDict
from pydantic import PlainValidator
from pydantic import ValidationError
from pydantic import model_validator
from pydantic_core import ErrorDetails
from pydantic_core import PydanticCustomError

from plugin.mapping.json_text import MAX_FILE_BYTES
from plugin.mapping.json_text import InputFileError
from plugin.mapping.json_text import json_path
from plugin.mapping.json_text import read_json

__all__ = [
    "LIST",
    "MAX_ACCOUNT_CODE",
    "REQUIRED",
    "Code",
    "FileModel",
    "InputFileError",
    "OptionalCode",
    "OptionalText",
    "Text",
    "a_list_of_at_most",
    "choice",
    "decoded",
    "optional",
    "problem",
    "read_model",
    "show",
    "text",
]

MAX_ACCOUNT_CODE = 10
"""Xero's limit on the length of an account code."""

_MAX_SHOWN = 40
_PROBLEM = "input_file"

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def show(value: object) -> str:
    """Return ``value`` as JSON for a message, cut to a few dozen characters (numbers read as
    ``Decimal`` are written with their digits, also inside a list or an object)."""
    text = simplejson.dumps(value, use_decimal=True, default=str)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def problem(message: str, at: str | int | None = None) -> PydanticCustomError:
    """Return the error a validator raises: ``message`` about the value (or its ``at`` part)."""
    return PydanticCustomError(_PROBLEM, "{message}", {"message": message, "at": at})


def _line(error: ErrorDetails, source: str) -> str:
    loc = tuple(error["loc"])
    context = error.get("ctx") or {}
    if error["type"] == _PROBLEM:
        if context.get("at") is not None:
            loc = (*loc, context["at"])
        message = str(context["message"])
    elif error["type"] == "missing":
        message = "is missing"
    else:  # not expected: every field of ours has its own validator
        message = error["msg"]
    return f"{source}: {json_path(loc)}: {message}"


def read_model(model: type[M], data: object, source: str, error: type[InputFileError]) -> M:
    """Return ``data`` read as ``model``; raise ``error`` with the line of the first fault."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(_line(exc.errors()[0], source)) from None


def decoded(
    data: object, source: str, error: type[InputFileError], limit: int = MAX_FILE_BYTES
) -> object:
    """Return JSON text or bytes decoded by ``json_text.read_json`` (its rules and its one-line
    errors); already-decoded data is returned as it is."""
    if isinstance(data, bytes | bytearray | str):
        return read_json(bytes(data) if isinstance(data, bytearray) else data, source, error, limit)
    return data


class FileModel(BaseModel):
    """A JSON object of an input file; with ``extra="forbid"`` keys it does not name are faults."""

    model_config = ConfigDict(frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, data: object) -> object:
        if not isinstance(data, dict):
            raise problem(f"should be an object, got {show(data)}")
        if cls.model_config.get("extra") == "forbid":
            allowed = [field.alias or name for name, field in cls.model_fields.items()]
            for key in data:
                if key not in allowed:
                    raise problem(f"unknown key (allowed: {', '.join(allowed)})", at=key)
        return data


# --- Field validators ------------------------------------------------------------------------


def present(value: object) -> object:
    """Refuse ``null`` where a value is required: it is as good as missing."""
    if value is None:
        raise problem("is missing")
    return value


def a_list(value: object) -> list[Any]:
    """Return a list of entries (``null`` or absent: none)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise problem(f"should be a list, got {show(value)}")
    return value


def a_list_of_at_most(limit: int) -> Callable[[object], list[Any]]:
    """Read a list of at most ``limit`` entries (so a huge list is refused before its entries are
    validated one by one, each with its own error)."""

    def read(value: object) -> list[Any]:
        found = a_list(value)
        if len(found) > limit:
            raise problem(f"has {len(found)} entries; at most {limit} are accepted")
        return found

    return read


def text(value: object) -> str:
    """Return non-empty text."""
    present(value)
    if not isinstance(value, str) or not value.strip():
        raise problem(f"should be non-empty text, got {show(value)}")
    return value


def code(value: object) -> str:
    """Return an account code: non-empty text of at most ``MAX_ACCOUNT_CODE`` characters."""
    found = text(value)
    if len(found) > MAX_ACCOUNT_CODE:
        raise problem(f"should be at most {MAX_ACCOUNT_CODE} characters, got {show(value)}")
    return found


def optional(read: Callable[[object], T]) -> Callable[[object], T | None]:
    """Read a value that may be left out; ``null`` and ``""`` mean left out.

    (Xero sends ``""`` for optional fields that are not set, e.g. ``BankAccountType``.)
    """

    def read_optional(value: object) -> T | None:
        return None if value is None or value == "" else read(value)

    return read_optional


def choice(options: tuple[str, ...], *, null_is_missing: bool = True) -> PlainValidator:
    """Validate one of ``options``."""

    def read(value: object) -> str:
        if null_is_missing:
            present(value)
        if value not in options:
            listed = ", ".join(repr(o) for o in options)
            raise problem(f"must be one of {listed}, got {show(value)}")
        assert isinstance(value, str)
        return value

    return PlainValidator(read)


REQUIRED = BeforeValidator(present)
"""For a nested object that must be there."""

LIST = BeforeValidator(a_list)
"""For a list of entries that may be left out."""

Text = Annotated[str, PlainValidator(text)]
OptionalText = Annotated[str | None, PlainValidator(optional(text))]
Code = Annotated[str, PlainValidator(code)]
OptionalCode = Annotated[str | None, PlainValidator(optional(code))]
