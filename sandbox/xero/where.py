"""A parser for Xero's ``where`` filter, enough for the queries our app makes.

Supports ``Field=="text"`` (or a single ``=``), ``!=``, ``<``, ``<=``, ``>``, ``>=``, dotted paths
(``Contact.ContactID``), ``guid("...")``, ``DateTime(2026,01,31)``, numbers, ``true``/``false``/
``null``, ``.Contains("x")``/``.StartsWith``/``.EndsWith``, ``.ToLower()``/``.ToUpper()``,
``AND``/``OR``/``NOT`` (and ``&&``/``||``/``!``) and parentheses. String equality ignores case,
as Xero's does. Pure: ``compile_where(text)`` returns a predicate over Xero-shaped dicts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import Any

from sandbox.xero.xerojson import parse_ms_moment

Predicate = Callable[[dict[str, Any]], bool]

TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>==|!=|>=|<=|&&|\|\||[<>!(),.=])
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
STRING_METHODS = {"Contains", "StartsWith", "EndsWith"}
CASE_METHODS = {"ToLower", "ToUpper"}


class WhereError(ValueError):
    """The filter could not be parsed."""


@dataclass(frozen=True)
class Literal:
    kind: str  # "str", "num", "bool", "null", "guid", "date"
    value: Any


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = TOKEN.match(text, pos)
        if not match:
            raise WhereError(f"Unexpected character at position {pos} in where clause")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise WhereError(f"Expected {value or 'more input'} in where clause")
        self.pos += 1
        return token

    def at_word(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token[1].upper() in words and token[0] in ("ident", "op")

    def parse(self) -> Predicate:
        predicate = self.expression()
        if self.peek() is not None:
            raise WhereError(f"Unexpected '{self.peek()[1]}' in where clause")  # type: ignore[index]
        return predicate

    def expression(self) -> Predicate:
        left = self.conjunction()
        while self.at_word("OR", "||"):
            self.take()
            right = self.conjunction()
            left = _either(left, right)
        return left

    def conjunction(self) -> Predicate:
        left = self.negation()
        while self.at_word("AND", "&&"):
            self.take()
            right = self.negation()
            left = _both(left, right)
        return left

    def negation(self) -> Predicate:
        if self.at_word("NOT", "!"):
            self.take()
            inner = self.negation()
            return lambda doc: not inner(doc)
        if self.peek() == ("op", "("):
            self.take("(")
            inner = self.expression()
            self.take(")")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        kind, name = self.take()
        if kind != "ident":
            raise WhereError(f"Expected a field name, found '{name}'")
        path = [name]
        transform: Callable[[Any], Any] = lambda value: value  # noqa: E731
        while self.peek() == ("op", "."):
            self.take(".")
            _, member = self.take()
            if member in STRING_METHODS and self.peek() == ("op", "("):
                self.take("(")
                argument = self.literal()
                self.take(")")
                return _string_method(path, transform, member, argument)
            if member in CASE_METHODS and self.peek() == ("op", "("):
                self.take("(")
                self.take(")")
                transform = _case(member)
                continue
            path.append(member)
        token = self.peek()
        if token is None or token[1] not in ("==", "=", "!=", ">=", "<=", ">", "<"):
            return lambda doc: bool(transform(_resolve(doc, path)))
        operator = self.take()[1]
        operator = "==" if operator == "=" else operator
        literal = self.literal()
        return lambda doc: _compare(transform(_resolve(doc, path)), operator, literal)

    def literal(self) -> Literal:
        kind, text = self.take()
        if kind == "string":
            return Literal("str", _unquote(text))
        if kind == "number":
            return Literal("num", float(text))
        if kind != "ident":
            raise WhereError(f"Expected a value, found '{text}'")
        word = text.lower()
        if word in ("true", "false"):
            return Literal("bool", word == "true")
        if word == "null":
            return Literal("null", None)
        if word == "guid":
            self.take("(")
            value = _unquote(self.take()[1])
            self.take(")")
            return Literal("guid", value.lower())
        if word == "datetime":
            self.take("(")
            parts = [int(self.take()[1])]
            while self.peek() == ("op", ","):
                self.take(",")
                parts.append(int(self.take()[1]))
            self.take(")")
            try:
                return Literal("date", datetime(*parts, tzinfo=UTC))  # type: ignore[misc]
            except (TypeError, ValueError) as exc:
                raise WhereError(f"Invalid DateTime in where clause: {exc}") from exc
        raise WhereError(f"Unknown value '{text}' in where clause")


def _unquote(text: str) -> str:
    if len(text) < 2 or text[0] != '"':
        raise WhereError(f"Expected a quoted string, found {text}")
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def _either(left: Predicate, right: Predicate) -> Predicate:
    return lambda doc: left(doc) or right(doc)


def _both(left: Predicate, right: Predicate) -> Predicate:
    return lambda doc: left(doc) and right(doc)


def _case(method: str) -> Callable[[Any], Any]:
    def apply(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return value.lower() if method == "ToLower" else value.upper()

    return apply


def _resolve(doc: Any, path: list[str]) -> Any:
    value = doc
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _string_method(
    path: list[str], transform: Callable[[Any], Any], method: str, argument: Literal
) -> Predicate:
    needle = str(argument.value).lower()

    def check(doc: dict[str, Any]) -> bool:
        value = transform(_resolve(doc, path))
        if not isinstance(value, str):
            return False
        hay = value.lower()
        if method == "Contains":
            return needle in hay
        if method == "StartsWith":
            return hay.startswith(needle)
        return hay.endswith(needle)

    return check


def _as_moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    moment = parse_ms_moment(value)
    if moment is not None:
        return moment
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _ordered(left: Any, operator: str, right: Any) -> bool:
    if operator == "==":
        return bool(left == right)
    if operator == "!=":
        return bool(left != right)
    if operator == ">":
        return bool(left > right)
    if operator == ">=":
        return bool(left >= right)
    if operator == "<":
        return bool(left < right)
    return bool(left <= right)


def _compare(value: Any, operator: str, literal: Literal) -> bool:
    if literal.kind == "null" or value is None:
        if operator == "==":
            return value is None and literal.kind == "null"
        if operator == "!=":
            return not (value is None and literal.kind == "null")
        return False
    if literal.kind == "date":
        moment = _as_moment(value)
        return moment is not None and _ordered(moment, operator, literal.value)
    if literal.kind == "num":
        try:
            return _ordered(float(value), operator, literal.value)
        except (TypeError, ValueError):
            return False
    if literal.kind == "bool":
        return _ordered(bool(value), operator, literal.value)
    return _ordered(str(value).lower(), operator, str(literal.value).lower())


def compile_where(text: str | None) -> Predicate:
    """A predicate for a ``where`` query parameter (an empty filter matches everything)."""
    if not text or not text.strip():
        return lambda doc: True
    return _Parser(text).parse()
