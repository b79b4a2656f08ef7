"""The Legal entities section's views (issue 16 point 3): nothing to show for one legal entity
taken here, the account's entities with who takes each, a choice saved (the review told to
read its preview again), an entity that is no choice refused (400). Members only and CSRF: see
``test_onboarding_security``."""

from __future__ import annotations

from sqlmodel import select

from plugin.amazon.legal_entity_table import LegalEntity
from plugin.models import AmazonConnection
from plugin.models import OnboardingStep
from tests.common.onboarding import HX

KEY = "payer:amzn1.account.PAYER"
LTD, SCOT = "Thames Stationery Ltd", "Thames Stationery (Scotland) Ltd"


def _setup(db_session, make_member, sign_in, client, *entities):
    user, org = make_member("alice", "tenant-thames", "Thames Stationery Ltd")
    org.onboarding_step = OnboardingStep.DONE
    db_session.add(org)
    db_session.add(
        AmazonConnection(organisation_id=org.id, store="UK", region="EU", account_key=KEY)
    )
    for name, owner in entities:
        db_session.add(LegalEntity(account_key=KEY, name=name, organisation_id=owner))
    db_session.commit()
    sign_in(client, user)
    return org


def page_text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def test_one_legal_entity_taken_here_shows_nothing(app, client, db_session, make_member, sign_in):
    org = _setup(db_session, make_member, sign_in, client)
    db_session.add(LegalEntity(account_key=KEY, name=LTD, organisation_id=org.id))
    db_session.commit()
    response = client.get(f"/orgs/{org.id}/legal-entities", headers=HX)
    assert response.status_code == 200
    assert "Legal entities" not in page_text(response)


def test_the_section_lists_each_entity_and_saves_a_choice(
    app, client, db_session, make_member, sign_in
):
    org = _setup(db_session, make_member, sign_in, client, (SCOT, None))
    db_session.add(LegalEntity(account_key=KEY, name=LTD, organisation_id=org.id))
    db_session.commit()
    shown = page_text(client.get(f"/orgs/{org.id}/legal-entities", headers=HX))
    assert "Your Amazon Business account buys for 2 legal entities" in shown
    assert f"taken by no organisation: {SCOT}" in shown
    saved = client.post(f"/orgs/{org.id}/legal-entities", data={"entity": [SCOT]}, headers=HX)
    assert saved.status_code == 200
    assert saved.headers["HX-Trigger"] == "legal-entities-changed"
    assert f"now takes {SCOT} and no longer takes {LTD}" in page_text(saved)
    owners = {e.name: e.organisation_id for e in db_session.exec(select(LegalEntity))}
    assert owners == {SCOT: org.id, LTD: None}


def test_an_entity_of_no_account_of_ours_is_refused(app, client, db_session, make_member, sign_in):
    org = _setup(db_session, make_member, sign_in, client, (SCOT, None))
    answer = client.post(f"/orgs/{org.id}/legal-entities", data={"entity": ["Other Corp"]})
    assert answer.status_code == 400
    assert db_session.exec(select(LegalEntity)).one().organisation_id is None
