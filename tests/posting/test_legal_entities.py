"""The routing rules by legal entity (issue 16 point 3), pure: where an imported transaction
goes, which entities an organisation takes by itself, and why an entry may not post here."""

from __future__ import annotations

from plugin.posting import Document
from plugin.posting import Held
from plugin.posting import PostingContext
from plugin.posting import legal_entities as le
from plugin.posting.legal_entities import EntityScope
from plugin.posting.legal_entities import Route
from tests.common.amazon_payloads import us_card_charge
from tests.common.posting import post_us

LTD, SCOT, IRL = "Thames Stationery Ltd", "Thames Stationery (Scotland) Ltd", "Thames Ireland DAC"


def test_the_entity_is_its_name_with_spaces_tidied_and_none_is_the_empty_name():
    assert le.entity_of("  Thames   Stationery Ltd ") == LTD
    assert le.entity_of(None) == "" == le.entity_of("   ")
    assert le.display_name("") == "(no legal entity named)"
    assert len(le.entity_of("x" * 400)) == le.MAX_NAME


def test_a_transaction_goes_to_the_one_organisation_taking_its_entity():
    taken_here, imported_elsewhere = {LTD}, {SCOT}
    assert le.route(LTD, taken_here, imported_elsewhere) is Route.HERE
    assert le.route(SCOT, taken_here, imported_elsewhere) is Route.ELSEWHERE
    # Nobody (that imports this store) takes it: recorded here and held, never dropped.
    assert le.route(IRL, taken_here, imported_elsewhere) is Route.HOLD
    assert le.route("", taken_here, imported_elsewhere) is Route.HOLD


def test_two_organisations_route_one_page_without_overlap_or_gap():
    page = {"t1": LTD, "t2": SCOT, "t3": IRL, "t4": LTD}
    first = le.routes(page, {LTD}, {SCOT})
    second = le.routes(page, {SCOT}, {LTD})
    for tid in page:
        homes = [r for r in (first[tid], second[tid]) if r is Route.HERE]
        assert len(homes) <= 1, tid  # never two organisations
        assert first[tid] is not Route.ELSEWHERE or second[tid] is Route.HERE  # never nobody
    assert first["t3"] is second["t3"] is Route.HOLD  # untaken: shown in both, posted in none


def test_an_organisation_alone_on_its_account_takes_what_it_sees_and_no_more():
    assert le.auto_taken({LTD, SCOT}, set(), alone=True) == {LTD, SCOT}
    assert le.auto_taken({LTD, SCOT}, {LTD}, alone=True) == {SCOT}  # known ones keep their owner
    assert le.auto_taken({LTD, SCOT}, set(), alone=False) == frozenset()


def test_without_a_scope_no_rule_applies():
    assert le.check("t1", SCOT, None) is None


def test_the_check_says_why_an_entry_may_not_post_here():
    scope = EntityScope(taken_here=frozenset({LTD}), taken_elsewhere=frozenset({SCOT}))
    assert le.check("t1", LTD, scope) is None
    other = le.check("t2", SCOT, scope)
    assert other is not None
    assert other.code == le.OTHER_ORGANISATION
    assert "another Xero organisation" in other.reason
    untaken = le.check("t3", IRL, scope)
    assert untaken is not None
    assert untaken.code == le.NOT_TAKEN
    assert untaken.reason.startswith(f"Legal entity {IRL} is not taken by this organisation")
    assert "Legal entities" in untaken.reason
    moved = EntityScope(taken_here=frozenset({LTD}), in_other_books=frozenset({"t1"}))
    twice = le.check("t1", LTD, moved)
    assert twice is not None
    assert twice.code == le.IN_OTHER_BOOKS


def test_translate_holds_before_any_other_rule():
    raw = us_card_charge(legalEntityName=SCOT)
    raw["paymentInstrumentLast4Digits"] = "0000"  # unmapped too: the entity is said first
    scope = EntityScope(taken_here=frozenset({LTD}))
    result = post_us(raw, context=PostingContext(legal_entities=scope))
    assert isinstance(result, Held)
    assert result.code == le.NOT_TAKEN
    taken = EntityScope(taken_here=frozenset({SCOT}))
    assert isinstance(
        post_us(us_card_charge(legalEntityName=SCOT), context=PostingContext(legal_entities=taken)),
        Document,
    )


def test_a_document_already_in_these_books_is_never_held_for_its_entity():
    """Amazon changing a posted purchase, or a remap, corrects its document where it is."""
    scope = EntityScope(taken_here=frozenset(), in_these_books=frozenset({"t1"}))
    assert le.check("t1", SCOT, scope) is None
    held = le.check("t2", SCOT, scope)
    assert held is not None
    assert held.code == le.NOT_TAKEN


def test_alone_on_its_account_an_organisation_takes_an_entity_not_recorded_yet():
    """A ledger kept from before legal entities were recorded: its entities are the org's."""
    alone = EntityScope(taken_here=frozenset({LTD}), known=frozenset({LTD}), takes_unknown=True)
    assert le.check("t1", SCOT, alone) is None
    shared = EntityScope(taken_here=frozenset({LTD}), known=frozenset({LTD}))
    held = le.check("t1", SCOT, shared)
    assert held is not None
    assert held.code == le.NOT_TAKEN
    released = EntityScope(
        taken_here=frozenset({LTD}), known=frozenset({LTD, SCOT}), takes_unknown=True
    )
    assert le.check("t1", SCOT, released) is not None  # given up: not taken, even alone
