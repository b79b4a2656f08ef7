"""Packing look-up clauses into as few ``where`` filters as fit a URL: a batch of 50 documents
is looked up in one query (issue 19 point 1)."""

from __future__ import annotations

from plugin.xero.filters import WHERE_MAX_CHARS
from plugin.xero.filters import joined_within
from plugin.xero.filters import quote_where


def clauses(count: int, width: int = 20) -> list[str]:
    return [f'Reference=="{quote_where(f"{i:0{width}d}")}"' for i in range(count)]


def test_a_batch_of_fifty_short_references_is_one_query():
    parts = list(joined_within(clauses(50), " OR ", WHERE_MAX_CHARS))
    assert len(parts) == 1
    assert parts[0].count(" OR ") == 49


def test_long_references_are_split_within_the_limit_and_none_is_lost():
    parts = list(joined_within(clauses(50, width=200), " OR ", WHERE_MAX_CHARS))
    assert len(parts) > 1
    assert all(len(p) <= WHERE_MAX_CHARS for p in parts)
    assert sum(p.count("Reference==") for p in parts) == 50


def test_a_clause_longer_than_the_limit_is_sent_on_its_own():
    huge = "x" * (WHERE_MAX_CHARS + 10)
    assert list(joined_within(["a", huge, "b"], " OR ", WHERE_MAX_CHARS)) == ["a", huge, "b"]
    assert list(joined_within([], " OR ", 10)) == []


def test_quotes_and_backslashes_are_escaped():
    assert quote_where('a "b" \\c') == 'a \\"b\\" \\\\c'
