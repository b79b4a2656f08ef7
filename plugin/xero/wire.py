"""JSON to and from Xero with exact amounts: numbers are read as ``Decimal`` and ``Decimal`` is
written as a JSON number with exactly its digits (simplejson's ``use_decimal``), never via float."""

from __future__ import annotations

from typing import Any

import requests
import simplejson


def dumps(value: Any) -> str:
    """JSON text of a request body; a ``Decimal`` is written as the number it holds."""
    return simplejson.dumps(value, use_decimal=True, allow_nan=False)


def loads(text: str | bytes) -> Any:
    """The JSON value of an answer, every non-integer number a ``Decimal``."""
    return simplejson.loads(text, use_decimal=True)


def json_or_none(response: requests.Response) -> Any:
    """The answer's JSON (numbers exact), or ``None`` when it has none or it is not JSON."""
    if not response.content:
        return None
    try:
        return loads(response.content)
    except ValueError:
        return None
