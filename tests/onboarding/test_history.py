"""The import-history step: the date form (bounds, validation messages), starting an import, the
polling progress fragment, Skip/Next, resuming where the org was, and the Amazon hand-over."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from plugin.amazon.consent import next_step_after_amazon
from plugin.infra.queues import get_redis
from plugin.models import ImportRun
from plugin.models import OnboardingStep
from plugin.models import Organisation
from plugin.models import RunState
from plugin.models import utcnow
from tests.common.onboarding import HX
from tests.common.onboarding import make_org
from tests.common.onboarding import text_of


@pytest.fixture
def member(client, make_member, db_session, sign_in):
    """A signed-in member of an org at the import step, with Amazon Business UK connected."""
    user, org = make_org(make_member, db_session, step=OnboardingStep.IMPORT_HISTORY)
    sign_in(client, user)
    return org


def runs(db_session, org_id):
    db_session.expire_all()
    return list(db_session.exec(select(ImportRun).where(ImportRun.organisation_id == org_id)))


def step_of(db_session, org_id):
    db_session.expire_all()
    return db_session.get(Organisation, org_id).onboarding_step


def test_history_page_and_fragment(client, member):
    page = client.get(f"/orgs/{member.id}/setup/history")
    body = text_of(page)
    assert page.status_code == 200
    assert body.startswith("<!doctype html>")
    assert re.search(
        r'step-done">\s*<span class="step-mark" aria-hidden="true">✓</span>\s*<span>Connect Xero',
        body,
    )
    assert re.search(r'aria-current="step">.*?Import history', body, re.S)
    assert "Skip this step" in body
    fragment = text_of(client.get(f"/orgs/{member.id}/setup/history", headers=HX)).strip()
    assert fragment.startswith('<section id="import-history"')
    assert "<html" not in fragment


def test_date_inputs_follow_the_import_rule_and_default_to_30_days(client, member):
    body = text_of(client.get(f"/orgs/{member.id}/setup/history"))
    today = utcnow().date()
    start = re.search(r'<input type="date" id="start"[^>]*>', body, re.S).group(0)
    assert 'min="2015-04-28"' in start  # the rule Manage's import form has
    assert (
        "Any dates from 28 Apr 2015 (when Amazon Business opened) to today, at most 366 days in "
        "one import."
    ) in body
    assert f'max="{today.isoformat()}"' in start
    assert f'value="{(today - timedelta(days=30)).isoformat()}"' in start
    assert '<label for="start">' in body
    assert '<label for="end">' in body


def _days(n):
    return (utcnow().date() - timedelta(days=n)).isoformat()


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (_days(400), _days(0), "That range is 401 days; one import covers at most 366"),
        (_days(5), _days(-3), "The end date is in the future."),
        (_days(2), _days(10), "The start date is after the end date."),
        ("", _days(0), "Enter the start date."),
        ("31/02/2026", _days(0), "is not a date"),
        ("31/02/2026", "", "is not a date: choose it in the calendar"),
        (_days(3), " ", "Enter the end date."),
    ],
    ids=["too-old", "future", "reversed", "missing", "not-a-date", "first-problem", "no-end"],
)
def test_bad_dates_are_refused_with_a_clear_message(
    client, member, db_session, start, end, message
):
    response = client.post(
        f"/orgs/{member.id}/setup/history", data={"start": start, "end": end}, headers=HX
    )
    body = text_of(response)
    assert response.status_code == 422
    assert message in body
    assert 'id="range-error"' in body
    assert f'value="{start}"' in body  # what was entered is kept
    assert runs(db_session, member.id) == []


def test_starting_an_import_shows_a_polling_progress_bar(client, member, db_session, app):
    response = client.post(
        f"/orgs/{member.id}/setup/history",
        data={"start": _days(30), "end": _days(0)},
        headers=HX,
    )
    body = text_of(response)
    assert response.status_code == 200, body
    (run,) = runs(db_session, member.id)
    assert run.trigger == "historical"
    assert run.rq_job_id == f"import-{run.id}"
    poll = f"/orgs/{member.id}/setup/history/runs/{run.id}"
    assert f'hx-get="{poll}" hx-trigger="every 500ms"' in body
    assert "<progress aria-label" in body
    assert "Start import" not in body  # no second import while one runs
    assert step_of(db_session, member.id) == OnboardingStep.IMPORT_HISTORY  # nothing posted/moved


def test_a_plain_form_post_redirects_back_to_the_page(client, member):
    response = client.post(
        f"/orgs/{member.id}/setup/history", data={"start": _days(30), "end": _days(0)}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/orgs/{member.id}/setup/history")
    page = text_of(client.get(response.headers["Location"]))
    assert "The import has started." in page
    assert 'hx-trigger="every 500ms"' in page


def test_progress_stops_polling_when_done(client, member, db_session, app):
    client.post(
        f"/orgs/{member.id}/setup/history", data={"start": _days(30), "end": _days(0)}, headers=HX
    )
    (run,) = runs(db_session, member.id)
    url = f"/orgs/{member.id}/setup/history/runs/{run.id}"
    from rq.job import Job

    job = Job.fetch(run.rq_job_id, connection=get_redis(app))
    job.meta["progress"] = {
        "fetched": 40,
        "new": 30,
        "already_known": 10,
        "pages": 2,
        "done": False,
    }
    job.save_meta()
    running = text_of(client.get(url, headers=HX)).strip()
    assert running.startswith('<div id="import-progress"')
    assert 'hx-trigger="every 500ms"' in running
    assert re.search(r"<dt>Fetched</dt><dd>40</dd>", running)
    assert re.search(r"<dt>Already known</dt><dd>10</dd>", running)
    assert re.search(r"<dt>Pages</dt><dd>2</dd>", running)

    run.state, run.fetched, run.new, run.already_known = RunState.SUCCEEDED, 41, 31, 10
    db_session.add(run)
    db_session.commit()
    answer = client.get(url, headers=HX)
    done = text_of(answer)
    assert "hx-trigger" not in done
    assert '<progress value="100" max="100"' in done
    assert "Import finished.</strong> 31 new purchases imported, 10 already known." in done
    assert "Done: 100 %" not in done
    assert "Next: map accounts" in done
    # Finished: the whole section comes back, without "Skip this step" beside "Next".
    assert answer.headers["HX-Retarget"] == "#import-history"
    assert answer.headers["HX-Reswap"] == "outerHTML"
    assert done.strip().startswith('<section id="import-history"')
    assert "Skip this step" not in done


def test_a_failed_import_shows_its_error_and_stops(client, member, db_session):
    client.post(
        f"/orgs/{member.id}/setup/history", data={"start": _days(30), "end": _days(0)}, headers=HX
    )
    (run,) = runs(db_session, member.id)
    run.state, run.error = RunState.FAILED, "Amazon Business: the store needs reconnecting."
    db_session.add(run)
    db_session.commit()
    body = text_of(client.get(f"/orgs/{member.id}/setup/history/runs/{run.id}", headers=HX))
    assert "the store needs reconnecting" in body
    assert "hx-trigger" not in body


def test_a_run_whose_job_vanished_is_shown_as_stopped(client, member, db_session, app):
    client.post(
        f"/orgs/{member.id}/setup/history", data={"start": _days(30), "end": _days(0)}, headers=HX
    )
    (run,) = runs(db_session, member.id)
    get_redis(app).flushdb()
    body = text_of(client.get(f"/orgs/{member.id}/setup/history/runs/{run.id}", headers=HX))
    assert "stopped before it finished" in body
    assert "hx-trigger" not in body


def test_an_import_already_running_shows_its_progress(client, member, db_session, app):
    client.post(
        f"/orgs/{member.id}/setup/history", data={"start": _days(30), "end": _days(0)}, headers=HX
    )
    (run,) = runs(db_session, member.id)
    get_redis(app).set(f"lock:org-work:{member.id}", f"import-{run.id}")
    again = client.post(
        f"/orgs/{member.id}/setup/history", data={"start": _days(10), "end": _days(0)}, headers=HX
    )
    assert again.status_code == 200
    assert "An import is already running" in text_of(again)
    assert f"/setup/history/runs/{run.id}" in text_of(again)
    assert len(runs(db_session, member.id)) == 1
    get_redis(app).set(f"lock:org-work:{member.id}", f"post-{member.id}")
    busy = client.post(
        f"/orgs/{member.id}/setup/history", data={"start": _days(10), "end": _days(0)}, headers=HX
    )
    assert busy.status_code == 409
    assert "Posting to Xero is running" in text_of(busy)


def test_without_an_amazon_store_there_is_nothing_to_import(
    client, make_member, db_session, sign_in
):
    user, org = make_org(
        make_member,
        db_session,
        step=OnboardingStep.IMPORT_HISTORY,
        amazon=False,
        user="u2",
        tenant="t2",
    )
    sign_in(client, user)
    assert "No Amazon Business store is connected" in text_of(
        client.get(f"/orgs/{org.id}/setup/history")
    )
    response = client.post(
        f"/orgs/{org.id}/setup/history", data={"start": _days(30), "end": _days(0)}, headers=HX
    )
    assert response.status_code == 422
    assert "Connect an Amazon Business store first" in text_of(response)


@pytest.mark.parametrize("label", ["Skip this step", "Next: map accounts"])
def test_skip_and_next_move_on_to_mapping_and_never_back(client, member, db_session, label):
    response = client.post(f"/orgs/{member.id}/setup/history/next", data={"label": label})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/orgs/{member.id}/setup/mapping")
    assert step_of(db_session, member.id) == OnboardingStep.MAP_ACCOUNTS
    # Going back shows the page and keeps the org where it was.
    assert client.get(f"/orgs/{member.id}/setup/history").status_code == 200
    client.post(f"/orgs/{member.id}/setup/mapping/next")
    assert step_of(db_session, member.id) == OnboardingStep.REVIEW
    client.post(f"/orgs/{member.id}/setup/history/next")
    assert step_of(db_session, member.id) == OnboardingStep.REVIEW


def test_a_step_not_reached_yet_sends_the_user_where_setup_continues(
    client, make_member, db_session, sign_in
):
    user, org = make_org(
        make_member, db_session, step=OnboardingStep.CONNECT_AMAZON, user="c", tenant="t3"
    )
    sign_in(client, user)
    for path in ("setup/history", "setup/mapping", "setup/review"):
        response = client.get(f"/orgs/{org.id}/{path}")
        assert response.status_code == 302, path
        assert response.headers["Location"].endswith(f"/orgs/{org.id}/amazon")
    assert client.post(f"/orgs/{org.id}/setup/history/next").status_code == 302
    assert step_of(db_session, org.id) == OnboardingStep.CONNECT_AMAZON


def test_connecting_amazon_moves_the_org_to_the_import_step(app, make_member, db_session):
    _, org = make_org(make_member, db_session, step=OnboardingStep.CONNECT_AMAZON)
    with app.test_request_context():
        from plugin.db import get_session

        fresh = get_session().get(Organisation, org.id)
        assert next_step_after_amazon(fresh) == f"/orgs/{org.id}/setup/history"
    assert step_of(db_session, org.id) == OnboardingStep.IMPORT_HISTORY
    later = db_session.get(Organisation, org.id)
    later.onboarding_step = OnboardingStep.DONE
    db_session.add(later)
    db_session.commit()
    with app.test_request_context():
        from plugin.db import get_session

        fresh = get_session().get(Organisation, org.id)
        assert next_step_after_amazon(fresh) == f"/orgs/{org.id}/manage"
    assert step_of(db_session, org.id) == OnboardingStep.DONE
