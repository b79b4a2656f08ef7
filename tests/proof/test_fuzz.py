"""Bad input 7: property-based fuzzing of the Amazon transaction parser and the posting rules.

Random valid transactions, valid ones with one field damaged, and arbitrary JSON go through
``parse_transaction`` and ``translate`` one by one and as a batch (``translate_all``): no
exception escapes, and every transaction either yields a document whose lines and tax add up
to |amount| to the cent (and that Xero's schema accepts) or is held with a known reason code and
a reason in words. The strategies are the unit suite's (``tests/posting/test_translation``);
this file runs them at proof sizes: 500 examples per property by default, 10,000 with
``-m slow``. The page-level parser fuzzing lives in ``tests/amazon/test_paging.py``
(``AMAZON_PROPERTY_EXAMPLES=10000`` for the full size).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from plugin.amazon.models import ParseFailure
from plugin.amazon.models import parse_transaction
from plugin.posting import HELD_CODES
from plugin.posting import Document
from plugin.posting import Held
from plugin.posting import translate
from plugin.posting import translate_all
from tests.posting.test_translation import ORGS
from tests.posting.test_translation import _junk
from tests.posting.test_translation import assert_document_is_sound
from tests.posting.test_translation import body_total
from tests.posting.test_translation import damaged
from tests.posting.test_translation import valid_transactions

SMALL, FULL = 500, 10_000

payloads = st.one_of(
    valid_transactions().map(lambda case: case[1]),
    damaged(),
    _junk,
)


def check_one(raw: object, org: str, tally: Counter) -> None:
    """One payload through the parser and the rules: a sound document or a reasoned hold."""
    mapping, chart, _ = ORGS[org]
    item = parse_transaction(raw)
    outcome = translate(item, mapping, chart)
    if isinstance(outcome, Document):
        assert isinstance(raw, dict)
        assert body_total(outcome) == abs(Decimal(str(raw["amount"]["amount"])))
        assert_document_is_sound(outcome, raw)
        tally["documents"] += 1
        return
    assert isinstance(outcome, Held), outcome
    assert outcome.code in HELD_CODES, outcome.code
    assert outcome.code != "internal_error", outcome.reason
    assert outcome.reason.strip()
    tally["parse_failures" if isinstance(item, ParseFailure) else "held"] += 1


def counted(check: Callable[[], None], tally: Counter) -> None:
    """Run one check, counting a failed assertion as unsound and any other exception as escaped
    (then re-raising, so hypothesis shrinks it and the test fails)."""
    try:
        check()
    except AssertionError:
        tally["unsound"] += 1
        raise
    except Exception:
        tally["escaped"] += 1
        raise


def fuzz(examples: int, name: str) -> None:
    tally: Counter = Counter()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(payloads, st.sampled_from(sorted(ORGS)))
    def one_by_one(raw: object, org: str) -> None:
        counted(lambda: check_one(raw, org, tally), tally)

    @settings(
        max_examples=max(examples // 10, 50),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.lists(payloads, max_size=8), st.sampled_from(sorted(ORGS)))
    def as_batch(items: list[object], org: str) -> None:
        counted(lambda: check_batch(items, org), tally)
        tally["batches"] += 1

    def check_batch(items: list[object], org: str) -> None:
        mapping, chart, _ = ORGS[org]
        plan = translate_all([parse_transaction(i) for i in items], mapping, chart)
        assert len(plan.documents) + len(plan.held) == len(items)
        for held in plan.held:
            assert held.code in HELD_CODES, held
            assert held.code != "internal_error", held
            assert held.reason.strip()

    try:
        one_by_one()
        as_batch()
    finally:
        # Printed from the counts, failure or not (hypothesis re-runs a failing example while
        # shrinking, so after a failure the counts include those re-runs).
        total = tally["documents"] + tally["held"] + tally["parse_failures"]
        line = (
            f"VERDICT fuzz-{name}: examples={total} documents={tally['documents']} "
            f"held={tally['held']} unreadable={tally['parse_failures']} "
            f"batches={tally['batches']} escaped={tally['escaped']} unsound={tally['unsound']}"
        )
        sys.stdout.write(line + "\n")
    assert tally["escaped"] == 0, tally
    assert tally["unsound"] == 0, tally
    assert total >= examples * 0.9  # hypothesis may stop a little early on duplicates
    assert tally["documents"], tally
    assert tally["held"], tally
    assert tally["parse_failures"], tally


def test_fuzz_parser_and_rules_small() -> None:
    fuzz(SMALL, "small")


@pytest.mark.slow
def test_fuzz_parser_and_rules_10000() -> None:
    fuzz(FULL, "full")
