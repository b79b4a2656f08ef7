"""The change signal of Manage Integrations (``GET …/manage/signal``, issue 15 point 2): each
part's fingerprint changes when, and only when, what the part shows changed; a job of the
organisation that ends (run by the app's real worker class) changes it; members only."""

from __future__ import annotations

import json
import re

from plugin.infra.job_ends import job_ended
from plugin.infra.queues import get_queue
from plugin.infra.queues import get_redis
from plugin.models import EntryState
from plugin.models import ImportRun
from plugin.models import LedgerEntry
from plugin.models import PaymentMethod
from plugin.models import utcnow
from tests.common.manage import add_entries
from tests.common.manage import ready_org


def signal(client, org) -> dict:
    response = client.get(f"/orgs/{org.id}/manage/signal")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def changed(before: dict, after: dict) -> set[str]:
    return {part for part in before if before[part] != after[part]}


def test_each_part_changes_with_what_it_shows(app, client, make_member, db_session, sign_in):
    user, org = ready_org(make_member, db_session)
    sign_in(client, user)
    first = signal(client, org)
    assert set(first) == {"status", "entries", "methods", "import"}
    assert signal(client, org) == first  # nothing changed: nothing to refresh

    add_entries(db_session, org, 3)
    second = signal(client, org)
    assert changed(first, second) == {"status", "entries"}

    entry = db_session.exec(
        __import__("sqlmodel").select(LedgerEntry).where(LedgerEntry.organisation_id == org.id)
    ).first()
    entry.state = EntryState.POSTED
    db_session.add(entry)
    db_session.commit()
    third = signal(client, org)
    assert changed(second, third) == {"status", "entries"}

    db_session.add(PaymentMethod(organisation_id=org.id, key="Visa:9911", label="Visa 9911"))
    db_session.commit()
    fourth = signal(client, org)
    assert changed(third, fourth) == {"status", "methods"}

    now = utcnow()
    db_session.add(
        ImportRun(organisation_id=org.id, trigger="manual", range_start=now, range_end=now)
    )
    db_session.commit()
    fifth = signal(client, org)
    assert changed(fourth, fifth) == {"import"}

    job_ended(get_redis(app), int(org.id))
    assert changed(fifth, signal(client, org)) == {"status", "entries"}


def test_the_page_carries_the_fingerprints_it_was_rendered_with(
    client, make_member, db_session, sign_in
):
    user, org = ready_org(make_member, db_session)
    sign_in(client, user)
    page = client.get(f"/orgs/{org.id}/manage").get_data(as_text=True)
    initial = re.search(r'id="manage-signal"[^>]*data-initial="([^"]+)"', page, re.S).group(1)
    assert json.loads(initial.replace("&#34;", '"')) == signal(client, org)
    assert "js/manage_signal.js" in page


def ended_job(org_id: int) -> int:
    return org_id


def test_a_job_of_the_org_that_ends_bumps_the_signal(app, client, make_member, db_session, sign_in):
    from plugin.infra.metered_worker import MeteredWorker

    user, org = ready_org(make_member, db_session)
    sign_in(client, user)
    before = signal(client, org)
    queue = get_queue("default", app)
    queue.enqueue(ended_job, org_id=int(org.id))
    MeteredWorker([queue], connection=get_redis(app)).work(burst=True, with_scheduler=False)
    assert changed(before, signal(client, org)) == {"status", "entries"}


def test_another_orgs_member_gets_404(client, make_member, db_session, sign_in):
    _user, org = ready_org(make_member, db_session)
    stranger, _other = make_member("stranger", "tenant-other", "Other Ltd")
    sign_in(client, stranger)
    assert client.get(f"/orgs/{org.id}/manage/signal").status_code == 404
