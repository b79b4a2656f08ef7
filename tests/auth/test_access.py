"""Organisations are reachable only by their members; OAuth states are single-use."""

from __future__ import annotations

import pytest

from plugin.auth.access import member_organisation
from plugin.auth.oauth_state import StateError
from plugin.auth.oauth_state import consume
from plugin.auth.oauth_state import issue


def test_member_organisation_only_for_members(db_session, make_member):
    alice, thames = make_member("alice", "tenant-thames")
    bob, hudson = make_member("bob", "tenant-hudson", "Hudson Design LLC")
    assert member_organisation(db_session, alice.id, thames.id).id == thames.id
    assert member_organisation(db_session, alice.id, hudson.id) is None
    assert member_organisation(db_session, bob.id, thames.id) is None


def test_signed_in_user_is_recognised(app, client, make_member, sign_in):
    alice, _ = make_member("alice", "tenant-thames")
    sign_in(client, alice)
    page = client.get("/").get_data(as_text=True)
    assert "Sign out" in page


def test_state_is_single_use_and_bound_to_its_flow(app):
    with app.test_request_context("/"):
        state = issue("amazon", org_id=7)
        assert consume("amazon", state) == {"org_id": 7}
        with pytest.raises(StateError, match="already used"):
            consume("amazon", state)
        other = issue("xero")
        with pytest.raises(StateError, match="different connection flow"):
            consume("amazon", other)
        with pytest.raises(StateError, match="no state"):
            consume("xero", None)


def test_state_from_another_browser_is_refused(app):
    with app.test_request_context("/"):
        state = issue("xero")
    with app.test_request_context("/"), pytest.raises(StateError, match="not started from this"):
        consume("xero", state)


def test_replayed_state_with_a_copied_session_is_refused(app):
    from flask import session

    with app.test_request_context("/"):
        state = issue("xero")
        copied = dict(session)
        consume("xero", state)
    with app.test_request_context("/"):
        session.update(copied)
        with pytest.raises(StateError, match="already used"):
            consume("xero", state)
