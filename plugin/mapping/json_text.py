"""Bytes to JSON for the input files (the mapping file, CHART.json, TX.json): one reader, one set
of rules, for ``flask preview``, ``flask mapping-import`` and the mapping page's upload.

``read_json(raw, source, error)`` returns the decoded JSON or raises ``error`` (an
``InputFileError``) whose message is one line: ``<source>: <place>: <what is wrong>``, the place
being ``$`` (the whole file), ``line L column C`` (a fault in the text) or a JSON path
(``$.payment_methods[1]``, for a repeated key). The rules:

- At most ``limit`` bytes (``MAX_FILE_BYTES``, 2 MiB, the page's upload limit, by default); an
  empty (or blank) file is refused as such.
- UTF-8, with or without a byte-order mark (a BOM is what Windows editors write; it is dropped).
  A UTF-16 or UTF-32 file, or bytes that are not UTF-8, are refused naming the place.
- Nested at most ``MAX_DEPTH`` (64) arrays and objects deep: checked by a linear scan of the text
  before ``json.loads``, so a file nested 100,000 deep never reaches Python's recursion limit.
- A number has at most ``MAX_DIGITS`` (20) digits before its decimal point and 20 after (its
  exponent counted), so a 5,000-digit integer is refused before ``int()`` sees it, and no amount
  overflows ``Decimal`` arithmetic later. Numbers with a fraction or an exponent are read as
  ``Decimal`` (exact, as money is everywhere in this app); whole numbers as ``int``.
- ``NaN``, ``Infinity`` and ``-Infinity`` (which Python's ``json`` accepts) are refused: not JSON.
- A key repeated in one object is refused, naming the object's path and the key (``json.loads``
  would silently keep the last one).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from typing import Final

__all__ = [
    "MAX_DEPTH",
    "MAX_DIGITS",
    "MAX_FILE_BYTES",
    "InputFileError",
    "json_path",
    "read_json",
]

MAX_FILE_BYTES: Final = 2 * 1024 * 1024
"""The largest mapping file read, by the command and by the page (``MAX_CONTENT_LENGTH``)."""
MAX_DEPTH: Final = 64
MAX_DIGITS: Final = 20
_MAX_NUMBER_TEXT: Final = 60  # longer number text is refused before any arithmetic on it

_UTF8_BOM: Final = b"\xef\xbb\xbf"
_OTHER_BOMS: Final = (  # UTF-32 first: its little-endian mark starts with UTF-16's
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)

# The tokens the pre-scan looks at; everything else (punctuation, true/false/null, numbers of at
# most 20 digits each side of the point and no exponent, junk) is left to ``json.loads``. A string
# is one token so brackets and digits inside it are never counted; its closing quote is optional
# so an unterminated string ends the scan instead of misleading it. (A number that is not a
# candidate has no part of it that is one, so skipping it digit by digit is safe.)
_TOKEN: Final = re.compile(
    r"""
      "[^"\\\x00-\x1f]*(?:\\[^\x00-\x1f][^"\\\x00-\x1f]*)*(?P<closed>")?
    | (?P<open>[\[{])
    | (?P<close>[\]}])
    | (?P<constant>NaN|-?Infinity)
    | (?=-?(?:\d{21}|\d+\.\d{21}|\d+(?:\.\d+)?[eE]))  # only numbers that may be too long
      (?P<number>-?(?P<whole>\d+)(?:\.(?P<fraction>\d+))?(?:[eE](?P<exponent>[+-]?\d+))?)
    """,
    re.VERBOSE,
)


class InputFileError(ValueError):
    """An input file is malformed; the message is one line naming source, place and problem."""


def json_path(loc: Sequence[str | int]) -> str:
    """Return ``loc`` (keys and indexes from the root) as a JSON path: ``$.tax_rates[0].rate``."""
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)


def read_json(
    raw: bytes | str, source: str, error: type[InputFileError], limit: int = MAX_FILE_BYTES
) -> Any:
    """Return the JSON in ``raw`` (a file's bytes, or text); raise ``error`` in one line if bad."""
    text = _text(raw, source, error, limit)
    _scan(text, source, error)
    duplicates: dict[int, tuple[dict[str, Any], str]] = {}
    try:
        data = json.loads(text, parse_float=Decimal, object_pairs_hook=_remembering(duplicates))
    except json.JSONDecodeError as exc:
        raise error(
            f"{source}: line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg})"
        ) from None
    if duplicates:
        raise error(_duplicate_line(data, duplicates, source))
    return data


def _text(raw: bytes | str, source: str, error: type[InputFileError], limit: int) -> str:
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if len(raw) > limit:
        raise error(f"{source}: $: the file is larger than {_size(limit)}, the most accepted")
    for mark, encoding in _OTHER_BOMS:
        if raw.startswith(mark):
            raise error(f"{source}: line 1 column 1: {encoding} text; save the file as UTF-8")
    raw = raw.removeprefix(_UTF8_BOM)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8", "replace")
        raise error(
            f"{source}: {_place(before, len(before))}: not UTF-8 text (byte 0x{raw[exc.start]:02X}"
            f" {exc.reason}); save the file as UTF-8"
        ) from None
    if not text.strip():
        raise error(f"{source}: $: the file is empty")
    return text


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit % (1024 * 1024) == 0 else f"{limit} bytes"


def _place(text: str, position: int) -> str:
    """``line L column C`` of ``position`` in ``text``, counted as ``json`` counts them."""
    line = text.count("\n", 0, position) + 1
    column = position - text.rfind("\n", 0, position)
    return f"line {line} column {column}"


def _scan(text: str, source: str, error: type[InputFileError]) -> None:
    """Refuse too deep nesting, oversized numbers and NaN/Infinity, naming the place."""
    depth = 0
    for token in _TOKEN.finditer(text):
        kind = token.lastgroup
        if kind is None:  # a string (``closed`` is its last group only when it is closed)
            break  # unterminated: ``json.loads`` says where
        if kind == "closed":
            continue
        fault = None
        if kind == "open":
            depth += 1
            if depth > MAX_DEPTH:
                fault = f"nested deeper than {MAX_DEPTH} arrays and objects"
        elif kind == "close":
            depth -= 1
        elif kind == "constant":
            fault = f"{token.group()} is not valid JSON (numbers must be finite)"
        else:
            fault = _number_fault(token)
        if fault is not None:
            raise error(f"{source}: {_place(text, token.start())}: {fault}")


def _number_fault(token: re.Match[str]) -> str | None:
    number = token.group()
    shown = number if len(number) <= 24 else number[:21] + "..."
    if len(number) > _MAX_NUMBER_TEXT:
        return f"a number {len(number)} characters long ({shown}); at most {MAX_DIGITS} digits"
    exponent = int(token.group("exponent") or 0)
    whole = len(token.group("whole").lstrip("0")) + exponent
    decimals = len(token.group("fraction") or "") - exponent
    if whole > MAX_DIGITS:
        return f"the number {shown} is too large (at most {MAX_DIGITS} digits before the point)"
    if decimals > MAX_DIGITS:
        return f"the number {shown} has more than {MAX_DIGITS} digits after the point"
    return None


def _remembering(
    duplicates: dict[int, tuple[dict[str, Any], str]],
) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    """An ``object_pairs_hook`` that builds each object and notes the ones repeating a key."""

    def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        found = dict(pairs)
        if len(found) < len(pairs):
            # The object is kept (not just its id): one dropped as a repeated key's earlier
            # value must not free its id for another object to take.
            duplicates[id(found)] = (found, _first_repeated([key for key, _ in pairs]))
        return found

    return build


def _first_repeated(keys: list[str]) -> str:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            return key
        seen.add(key)
    raise AssertionError("no key is repeated")  # pragma: no cover - called only when one is


def _duplicate_line(
    data: Any, duplicates: dict[int, tuple[dict[str, Any], str]], source: str
) -> str:
    """The first object (in document order) with a repeated key: its path and the key."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())]
    while stack:  # depth is at most MAX_DEPTH, but the walk needs no recursion anyway
        value, loc = stack.pop()
        if isinstance(value, dict):
            if id(value) in duplicates:
                key = duplicates[id(value)][1]
                return (
                    f"{source}: {json_path(loc)}: the key {json.dumps(key)} appears more than once"
                )
            children = [(child, (*loc, key)) for key, child in value.items()]
        elif isinstance(value, list):
            children = [(child, (*loc, index)) for index, child in enumerate(value)]
        else:
            continue
        stack.extend(reversed(children))
    return (
        f"{source}: $: a key appears more than once in one object"  # pragma: no cover - see above
    )
