"""The rollback page and form of an import run: CSRF on the form, the preview lists what the run
brought in, and a run of another organisation is not found."""

from __future__ import annotations

from datetime import timedelta

from plugin.models import EntryState
from plugin.models import ImportRun
from plugin.models import ImportTrigger
from plugin.models import LedgerEntry
from plugin.models import OnboardingStep
from plugin.models import RunState
from plugin.models import utcnow
from tests.common.web import sign_in_on


def finished_run(db_session, org_id: int) -> ImportRun:
    now = utcnow()
    run = ImportRun(
        organisation_id=org_id,
        trigger=ImportTrigger.MANUAL,
        range_start=now - timedelta(days=3),
        range_end=now,
        state=RunState.SUCCEEDED,
        started_at=now - timedelta(minutes=1),
        new=1,
    )
    db_session.add(run)
    db_session.add(
        LedgerEntry(
            organisation_id=org_id,
            amazon_transaction_id="TX-ROLL-1",
            amount="12.50",
            currency="GBP",
            state=EntryState.POSTED,
            xero_document_type="BankTransactions",
            xero_document_id="doc-1",
        )
    )
    db_session.commit()
    run.finished_at = utcnow() + timedelta(seconds=1)
    db_session.add(run)
    db_session.commit()
    return run


def test_the_form_needs_its_csrf_token(app_config, make_app, make_member):
    app_config["WTF_CSRF_ENABLED"] = True
    app = make_app(app_config)
    from plugin.db import session_scope

    with session_scope(app) as db:
        user, org = make_member(onboarding_step=OnboardingStep.DONE)
        run = finished_run(db, org.id)
        run_id, org_id = run.id, org.id
    client = app.test_client()
    sign_in_on(app, client, user)
    url = f"/orgs/{org_id}/manage/imports/{run_id}/rollback"
    page = client.get(url).get_data(as_text=True)
    assert "Roll back this import (1 documents)" in page
    assert 'name="csrf_token"' in page
    assert client.post(url).status_code == 400  # no token: refused, nothing queued


def test_preview_and_another_orgs_run(client, make_member, db_session, sign_in):
    user, org = make_member(onboarding_step=OnboardingStep.DONE)
    _other_user, other = make_member("user-2", "tenant-2", "Other Ltd")
    run = finished_run(db_session, org.id)
    sign_in(client, user)
    page = client.get(f"/orgs/{org.id}/manage/imports/{run.id}/rollback").get_data(as_text=True)
    assert "TX-ROLL-1" in page
    assert "To be removed from Xero, unless reconciled or paid" in page
    other_run = finished_run(db_session, other.id)
    assert client.get(f"/orgs/{org.id}/manage/imports/{other_run.id}/rollback").status_code == 404
    assert client.post(f"/orgs/{other.id}/manage/imports/{other_run.id}/rollback").status_code in (
        403,
        404,
    )
