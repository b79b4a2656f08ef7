"""Sessions (issue 18, points 1 and 3): the cookie carries the user's random session token, never
their row id; a new token (sign-out, "sign out everywhere", a membership change) ends every
earlier cookie; ids are never handed out twice; a session cookie lives 12 hours at most."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from itsdangerous import TimestampSigner
from sqlmodel import select

from plugin.models import Membership
from plugin.models import User

SIGNED_OUT = (302, 401)  # to the landing page (HX-Redirect for HTMX)


def replay(app, cookie: str):
    """A second browser holding a copy of ``cookie``."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


def test_the_cookie_carries_the_session_token_not_the_row_id(app, make_member, sign_in):
    user, org = make_member()
    client = sign_in(app.test_client(), user)
    assert client.get(f"/orgs/{org.id}/manage").status_code == 200
    with client.session_transaction() as session:
        assert session["_user_id"] == user.session_token
        assert session["_user_id"] != str(user.id)
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)  # a cookie from before: it held the row id
    assert client.get(f"/orgs/{org.id}/manage").status_code in SIGNED_OUT


def test_a_deleted_users_cookie_does_not_sign_in_the_next_new_user(
    app, make_member, sign_in, db_session
):
    alice, alices_org = make_member("alice", "tenant-a", "Alice Ltd")
    client = sign_in(app.test_client(), alice)
    assert client.get(f"/orgs/{alices_org.id}/manage").status_code == 200
    old_cookie = client.get_cookie("session").value
    assert client.post("/xero/account/delete").status_code == 302

    bob, bobs_org = make_member("bob", "tenant-b", "Bob Ltd")  # the next sign-up
    assert bob.id != alice.id  # ids are never reused (SQLite AUTOINCREMENT)
    thief = replay(app, old_cookie)
    assert thief.get(f"/orgs/{bobs_org.id}/manage").status_code in SIGNED_OUT
    assert thief.get(f"/orgs/{bobs_org.id}/mapping/export").status_code in SIGNED_OUT
    assert "Bob Ltd" not in thief.get("/").get_data(as_text=True)


def test_ids_of_deleted_rows_are_never_handed_out_again(db_session):
    first = User(xero_user_id="first")
    db_session.add(first)
    db_session.commit()
    first_id = first.id
    db_session.delete(first)
    db_session.commit()
    second = User(xero_user_id="second")
    db_session.add(second)
    db_session.commit()
    assert second.id > first_id


def test_a_cookie_copied_before_logout_is_signed_out_after(app, make_member, sign_in):
    user, org = make_member()
    client = sign_in(app.test_client(), user)
    assert client.get(f"/orgs/{org.id}/manage").status_code == 200
    copied = client.get_cookie("session").value
    assert replay(app, copied).get(f"/orgs/{org.id}/manage").status_code == 200
    assert client.post("/logout").status_code == 302
    assert replay(app, copied).get(f"/orgs/{org.id}/manage").status_code in SIGNED_OUT
    assert client.get(f"/orgs/{org.id}/manage").status_code in SIGNED_OUT
    # Signing in again works (with the new token).
    sign_in(client, user_again(app, user))
    assert client.get(f"/orgs/{org.id}/manage").status_code == 200


def test_sign_out_everywhere_ends_every_other_session(app, make_member, sign_in):
    user, org = make_member()
    here = sign_in(app.test_client(), user)
    elsewhere = sign_in(app.test_client(), user)
    page = elsewhere.get(f"/orgs/{org.id}/manage")
    assert page.status_code == 200
    assert b'action="/xero/account/sign-out-everywhere"' in page.data  # offered on every page
    assert here.post("/xero/account/sign-out-everywhere").status_code == 302
    assert elsewhere.get(f"/orgs/{org.id}/manage").status_code in SIGNED_OUT
    assert here.get(f"/orgs/{org.id}/manage").status_code == 200  # this browser goes on


@pytest.mark.parametrize("change", ["removed", "added"])
def test_a_membership_change_ends_the_users_sessions(app, make_member, sign_in, db_session, change):
    user, org = make_member("alice", "tenant-a", "Alice Ltd")
    _other_user, other_org = make_member("bob", "tenant-b", "Bob Ltd")
    client = sign_in(app.test_client(), user)
    assert client.get(f"/orgs/{org.id}/manage").status_code == 200
    if change == "removed":
        membership = db_session.exec(
            select(Membership).where(
                Membership.user_id == user.id, Membership.organisation_id == org.id
            )
        ).one()
        db_session.delete(membership)
    else:
        db_session.add(Membership(user_id=user.id, organisation_id=other_org.id))
    db_session.commit()
    assert client.get("/").status_code == 200
    assert "Sign out" not in client.get("/").get_data(as_text=True)


def test_a_session_cookie_lives_twelve_hours(app, make_member, sign_in, monkeypatch):
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=12)
    user, org = make_member()
    client = sign_in(app.test_client(), user)
    assert client.get(f"/orgs/{org.id}/manage").status_code == 200
    with client.session_transaction() as session:
        contents = dict(session)
    signed_at = int(time.time()) - 12 * 3600 - 60
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda _self: signed_at)
    old = app.session_interface.get_signing_serializer(app).dumps(contents)
    monkeypatch.undo()
    assert replay(app, old).get(f"/orgs/{org.id}/manage").status_code in SIGNED_OUT


def user_again(app, user):
    from plugin.db import session_scope

    with session_scope(app) as db:
        return db.get(User, user.id)
