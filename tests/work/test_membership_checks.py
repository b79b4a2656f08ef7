"""The daily membership check (issue 18, point 2): a membership the user's Xero connections no
longer grant is dropped between sign-ins, the user's sessions end, and the landing page says
"Your access to X was removed in Xero on <date>". Xero is mocked with ``responses``; the user's
token is the one the app holds for the organisations of their consent."""

from __future__ import annotations

import time

import jwt
import responses
from sqlmodel import select

from jobs.xero import check_memberships
from plugin.auth.token_store import save_xero_token
from plugin.models import AuditEvent
from plugin.models import Membership
from plugin.security import token_cipher
from plugin.work import membership_checks

API = "https://api.xero.com"


def access_token_of(xero_user_id: str) -> str:
    return jwt.encode({"xero_userid": xero_user_id, "exp": time.time() + 1800}, "k" * 32, "HS256")


def holds_token_of(app, db_session, org, xero_user_id: str, group: str) -> None:
    token = {
        "access_token": access_token_of(xero_user_id),
        "refresh_token": f"refresh-{xero_user_id}",
        "expires_at": time.time() + 1800,
    }
    save_xero_token(token_cipher(app), org, token)
    org.xero_token_group = group
    db_session.add(org)
    db_session.commit()


def connections(*tenants: str) -> list[dict]:
    return [
        {"id": f"c-{t}", "tenantId": t, "tenantType": "ORGANISATION", "tenantName": t}
        for t in tenants
    ]


def test_the_daily_check_drops_a_membership_xero_no_longer_grants(
    app, db_session, make_member, sign_in, http
):
    alice, thames = make_member("alice", "t-thames", "Thames Ltd")
    _, hudson = make_member("alice", "t-hudson", "Hudson LLC")
    holds_token_of(app, db_session, thames, "alice", "consent-1")
    holds_token_of(app, db_session, hudson, "alice", "consent-1")
    browser = sign_in(app.test_client(), alice)
    assert browser.get(f"/orgs/{thames.id}/manage").status_code == 200
    # Alice's access to Thames was removed in Xero: only Hudson is left in her connections.
    http.add(responses.GET, f"{API}/connections", json=connections("t-hudson"))

    assert check_memberships() == {
        "users_checked": 1,
        "memberships_dropped": 1,
        "tokens_unusable": 0,
        "failed": 0,
    }
    tenants = {
        m.organisation_id for m in db_session.exec(select(Membership)) if m.user_id == alice.id
    }
    assert tenants == {hudson.id}
    event = db_session.exec(select(AuditEvent).where(AuditEvent.action == "membership_dropped"))
    assert [e.organisation_id for e in event] == [thames.id]
    # Her sessions ended (a membership removed gives a new session token) ...
    assert browser.get(f"/orgs/{hudson.id}/manage").status_code == 302
    # ... and once signed in again the page says what happened; Thames answers 404.
    db_session.refresh(alice)
    again = sign_in(app.test_client(), alice)
    page = again.get("/").get_data(as_text=True)
    assert "Your access to Thames Ltd was removed in Xero on" in page
    assert again.get(f"/orgs/{thames.id}/manage").status_code == 404
    assert again.get(f"/orgs/{hudson.id}/manage").status_code == 200


def test_a_membership_xero_still_grants_is_marked_verified_and_sessions_go_on(
    app, db_session, make_member, sign_in, http
):
    from datetime import timedelta

    from plugin.models import utcnow

    alice, thames = make_member("alice", "t-thames", "Thames Ltd")
    holds_token_of(app, db_session, thames, "alice", "consent-1")
    membership = db_session.exec(select(Membership)).one()
    membership.verified_at = utcnow() - timedelta(days=20)
    db_session.add(membership)
    db_session.commit()
    browser = sign_in(app.test_client(), alice)
    http.add(responses.GET, f"{API}/connections", json=connections("t-thames"))

    assert check_memberships()["memberships_dropped"] == 0
    db_session.refresh(membership)
    assert utcnow() - membership.verified_at < timedelta(minutes=1)
    assert browser.get(f"/orgs/{thames.id}/manage").status_code == 200  # still signed in


def test_one_token_set_failing_does_not_stop_the_others(
    app, db_session, make_member, http, monkeypatch
):
    users_orgs = [make_member(f"u{i}", f"t{i}", f"Org {i}") for i in range(3)]
    for i, (_user, org) in enumerate(users_orgs):
        holds_token_of(app, db_session, org, f"u{i}", f"consent-{i}")
    middle = users_orgs[1][0]
    real = membership_checks.drop_memberships_not_granted

    def drop(session, user, identity, access):
        if user.id == middle.id:
            raise RuntimeError("this user's row cannot be read")
        return real(session, user, identity, access)

    monkeypatch.setattr(membership_checks, "drop_memberships_not_granted", drop)
    http.add(responses.GET, f"{API}/connections", json=connections())  # u0 lost t0
    http.add(responses.GET, f"{API}/connections", json=connections())  # u2 lost t2
    result = check_memberships()
    assert result == {
        "users_checked": 3,
        "memberships_dropped": 2,
        "tokens_unusable": 0,
        "failed": 1,
    }
    left = {m.organisation_id for m in db_session.exec(select(Membership))}
    assert left == {users_orgs[1][1].id}


def test_xero_not_answering_removes_nothing(app, db_session, make_member, http):
    _user, org = make_member("u0", "t0", "Org 0")
    holds_token_of(app, db_session, org, "u0", "consent-0")
    http.add(responses.GET, f"{API}/connections", status=503)
    assert check_memberships()["memberships_dropped"] == 0
    assert len(db_session.exec(select(Membership)).all()) == 1
