"""Security of every wizard, mapping and entry route: members only (404 for anyone else, also
for HTMX), CSRF on every POST (HTMX included), and no token or secret in any page."""

from __future__ import annotations

import re

import pytest

from plugin.models import OnboardingStep
from plugin.models import Organisation
from plugin.security import token_cipher
from tests.common.onboarding import HX
from tests.common.onboarding import make_org
from tests.common.onboarding import record
from tests.common.onboarding import seed_chart
from tests.common.onboarding import text_of
from tests.common.onboarding import uk_transactions
from tests.common.web import sign_in_on

GET_ROUTES = [
    "/orgs/{org}/setup/history",
    "/orgs/{org}/setup/history/runs/1",
    "/orgs/{org}/setup/mapping",
    "/orgs/{org}/setup/review",
    "/orgs/{org}/mapping",
    "/orgs/{org}/mapping/payment-methods",
    "/orgs/{org}/mapping/expenses",
    "/orgs/{org}/mapping/taxes",
    "/orgs/{org}/mapping/line-types",
    "/orgs/{org}/mapping/tracking",
    "/orgs/{org}/mapping/export",
    "/orgs/{org}/entries/TX-CARD-1",
    "/orgs/{org}/legal-entities",
]
POST_ROUTES = [
    "/orgs/{org}/setup/history",
    "/orgs/{org}/setup/history/next",
    "/orgs/{org}/setup/mapping/next",
    "/orgs/{org}/setup/review",
    "/orgs/{org}/mapping/payment-methods",
    "/orgs/{org}/mapping/expenses",
    "/orgs/{org}/mapping/taxes",
    "/orgs/{org}/mapping/line-types",
    "/orgs/{org}/mapping/tracking",
    "/orgs/{org}/mapping/import",
    "/orgs/{org}/legal-entities",
]


@pytest.fixture
def victim(app, make_member, db_session, redis_client):
    """An org at the review step with a ledger, an import run, and a member who is not us."""
    _, org = make_org(make_member, db_session, step=OnboardingStep.REVIEW)
    seed_chart(redis_client, org.id)
    record(app, org.id, uk_transactions())
    from plugin.models import ImportRun
    from plugin.models import utcnow

    db_session.add(
        ImportRun(
            organisation_id=org.id, trigger="historical", range_start=utcnow(), range_end=utcnow()
        )
    )
    db_session.commit()
    return org


@pytest.fixture
def intruder(client, make_member, db_session, sign_in):
    """A signed-in member of another organisation."""
    user, _ = make_org(
        make_member, db_session, step=OnboardingStep.DONE, user="mallory", tenant="tenant-other"
    )
    return sign_in(client, user)


@pytest.mark.parametrize("path", GET_ROUTES)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_another_orgs_member_gets_404_on_every_get(intruder, victim, path, htmx):
    response = intruder.get(path.format(org=victim.id), headers=HX if htmx else {})
    assert response.status_code == 404
    assert "Acme Widgets" not in text_of(response)


@pytest.mark.parametrize("path", POST_ROUTES)
def test_another_orgs_member_gets_404_on_every_post(intruder, victim, path, db_session):
    response = intruder.post(
        path.format(org=victim.id),
        data={"start": "2026-01-01", "end": "2026-01-02", "expense_default": "429"},
        headers=HX,
    )
    assert response.status_code == 404
    db_session.expire_all()
    org = db_session.get(Organisation, victim.id)
    assert (org.onboarding_step, org.sync_enabled) == (OnboardingStep.REVIEW, False)


@pytest.mark.parametrize("path", GET_ROUTES[:4])
def test_signed_out_visitors_are_sent_to_sign_in(client, victim, path):
    page = client.get(path.format(org=victim.id))
    assert page.status_code == 302
    fragment = client.get(path.format(org=victim.id), headers=HX)
    assert fragment.status_code == 401
    assert "HX-Redirect" in fragment.headers


@pytest.fixture
def csrf_client(app_config, make_app, make_member, redis_client, sign_in):
    """A member signed in on an app with CSRF protection on (as in production)."""
    from plugin.db import session_scope

    app = make_app({**app_config, "WTF_CSRF_ENABLED": True})
    with session_scope(app) as session:
        from plugin.models import Membership
        from plugin.models import User

        user = User(xero_user_id="csrf-user", email="c@example.com", name="C")
        org = Organisation(
            xero_tenant_id="tenant-csrf",
            name="Acme",
            base_currency="GBP",
            onboarding_step=OnboardingStep.REVIEW,
        )
        session.add_all([user, org])
        session.commit()
        session.add(Membership(user_id=user.id, organisation_id=org.id))
        session.commit()
        seed_chart(redis_client, org.id)
        client = sign_in_on(app, app.test_client(), user)
        return client, org.id


@pytest.mark.parametrize("path", POST_ROUTES)
def test_every_post_needs_the_csrf_token(csrf_client, path):
    client, org_id = csrf_client
    url = path.format(org=org_id)
    assert client.post(url, data={"expense_default": "429"}).status_code == 400
    assert client.post(url, data={"expense_default": "429"}, headers=HX).status_code == 400
    page = text_of(client.get(f"/orgs/{org_id}/setup/mapping"))
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    with_token = client.post(
        url, data={"expense_default": "429"}, headers={**HX, "X-CSRFToken": token}
    )
    assert with_token.status_code != 400


def test_no_token_or_secret_reaches_the_browser(app, client, victim, db_session, sign_in):
    from plugin.models import Membership
    from plugin.models import User

    secret_access, secret_refresh = "xero-access-SECRET-123", "xero-refresh-SECRET-456"
    org = db_session.get(Organisation, victim.id)
    org.xero_token_encrypted = token_cipher(app).encrypt_json(
        {"access_token": secret_access, "refresh_token": secret_refresh}
    )
    db_session.add(org)
    user = db_session.exec(
        __import__("sqlmodel").select(User).join(Membership, Membership.user_id == User.id)
    ).first()
    db_session.commit()
    sign_in(client, user)
    bodies = [text_of(client.get(path.format(org=victim.id))) for path in GET_ROUTES]
    for body in bodies:
        assert "SECRET" not in body
        assert org.xero_token_encrypted not in body
        assert app.config["TOKEN_ENCRYPTION_KEY"] not in body
        assert app.config["SECRET_KEY"] not in body
    # Fernet ciphertext starts with gAAAA: no encrypted blob either.
    assert not any("gAAAA" in body for body in bodies)
