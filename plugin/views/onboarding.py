"""The set-up wizard after Amazon Business is connected: import history, map accounts, then
review and finish. Members of the organisation only (404 otherwise; the organisation is loaded
once for the blueprint, see ``plugin.auth.access``).

Routes:

- ``GET /orgs/<org_id>/setup/history``: the date-range form, and the latest import's progress.
- ``POST /orgs/<org_id>/setup/history``: start a historical import (HTMX: the panel with its
  progress; a plain form: redirect back). A bad range answers 422 with the message in the form.
- ``GET /orgs/<org_id>/setup/history/runs/<run_id>``: the progress fragment; it polls itself
  every half second (plus its request's time: it moves at least every 2 s) while the import is
  queued or running, and stops when it is done.
- ``POST /orgs/<org_id>/setup/history/next``: Skip or Next: on to mapping.
- ``GET /orgs/<org_id>/setup/mapping``: the mapping page as a wizard step (the page itself is
  ``plugin.views.mapping``).
- ``POST /orgs/<org_id>/setup/mapping/next``: mapping done: on to review.
- ``GET /orgs/<org_id>/setup/review``: the mapping summary and what posting would create.
- ``POST /orgs/<org_id>/setup/review``: Finish: sync on, posting queued, on to Manage (HTMX:
  ``HX-Redirect``). Refused while Xero is disconnected, the answer beside the Finish button.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import flash
from flask import make_response
from flask import redirect
from flask import render_template
from flask import url_for
from flask_login import current_user
from flask_login import login_required
from werkzeug.wrappers import Response as BaseResponse

from plugin.amazon.connections import connections_of
from plugin.auth.access import current_organisation
from plugin.auth.access import load_organisation_from_url
from plugin.db import get_session
from plugin.infra.forms import first_error
from plugin.infra.htmx import is_htmx_request
from plugin.infra.htmx import render
from plugin.infra.keys import post_job_id
from plugin.infra.locks import AlreadyRunning
from plugin.infra.outages import OUTAGES
from plugin.infra.outages import explain
from plugin.infra.placed_flash import flash_at
from plugin.infra.queues import enqueue_once
from plugin.infra.queues import get_redis
from plugin.manage.org_actions import refusal_for
from plugin.mapping.page import load_inputs
from plugin.models import ConnectionStatus
from plugin.models import ImportRun
from plugin.models import ImportTrigger
from plugin.models import OnboardingStep
from plugin.models import Organisation
from plugin.models import utcnow
from plugin.onboarding import history
from plugin.onboarding import review
from plugin.onboarding import wizard
from plugin.onboarding.forms import DateRangeForm
from plugin.onboarding.steps import next_step_url
from plugin.views import mapping as mapping_views
from plugin.work.imports import ImportRangeError
from plugin.work.imports import start_import

bp = Blueprint("onboarding", __name__, url_prefix="/orgs/<int:org_id>/setup")
load_organisation_from_url(bp)

BUSY_POSTING = "Posting to Xero is running for this organisation; try again in a minute."
NO_AMAZON = "Connect an Amazon Business store first: there is nothing to import yet."


def _actor() -> str:
    return f"user:{current_user.id}"


def _org_at(step: OnboardingStep) -> tuple[Organisation, BaseResponse | None]:
    """The member's organisation, and a redirect when it has not reached ``step`` yet."""
    org = current_organisation()
    if not wizard.reached(org, step):
        return org, redirect(next_step_url(org))
    return org, None


# --- History ---------------------------------------------------------------------------------


def _has_amazon(org: Organisation) -> bool:
    return any(
        c.status == ConnectionStatus.ACTIVE for c in connections_of(get_session(), int(org.id or 0))
    )


def _history(
    org: Organisation,
    run: ImportRun | None,
    status: int = 200,
    error: str = "",
    note: str = "",
    form: dict[str, str] | None = None,
    fragment: str = "partials/onboarding/_history.html",
) -> Response:
    limits = history.bounds(utcnow().date())
    values = form or {
        "start": limits.default_start.isoformat(),
        "end": limits.default_end.isoformat(),
    }
    return render(
        "onboarding/history.html",
        fragment,
        status=status,
        org=org,
        steps=wizard.steps(org, OnboardingStep.IMPORT_HISTORY),
        limits=limits,
        values=values,
        error=error,
        note=note,
        has_amazon=_has_amazon(org),
        progress=history.progress_of(run, get_redis()) if run is not None else None,
    )


@bp.get("/history")
@login_required
def history_page() -> Any:
    """Choose a range to import (``work.imports.range_rule``), or skip."""
    org, elsewhere = _org_at(OnboardingStep.IMPORT_HISTORY)
    if elsewhere is not None:
        return elsewhere
    return _history(org, history.latest_historical_run(get_session(), int(org.id or 0)))


@bp.post("/history")
@login_required
def start_history() -> Any:
    """Start the historical import of the chosen range."""
    org, elsewhere = _org_at(OnboardingStep.IMPORT_HISTORY)
    if elsewhere is not None:
        return elsewhere
    session = get_session()
    dates = DateRangeForm()
    form = {"start": "", "end": "", **dates.entered()}
    latest = history.latest_historical_run(session, int(org.id or 0))
    if not _has_amazon(org):
        return _history(org, latest, 422, NO_AMAZON, form=form)
    if not dates.validate():
        return _history(org, latest, 422, first_error(dates), form=form)
    start, end = dates.chosen()
    note = ""
    try:
        run = start_import(
            session, current_app, org, start, end, ImportTrigger.HISTORICAL, _actor()
        )
    except ImportRangeError as exc:
        return _history(org, latest, 422, str(exc), form=form)
    except AlreadyRunning as busy:
        found = history.run_of_org(session, int(org.id or 0), busy.run_id or 0)
        if found is None:
            return _history(org, latest, 409, BUSY_POSTING, form=form)
        run, note = found, "An import is already running; here is its progress."
    if not is_htmx_request():
        flash(note or "The import has started.", "success")
        return redirect(url_for("onboarding.history_page", org_id=org.id), code=303)
    return _history(org, run, note=note)


@bp.get("/history/runs/<int:run_id>")
@login_required
def import_progress(run_id: int) -> Any:
    """The progress of one import (polled by the progress bar while it runs)."""
    org = current_organisation()
    run = history.run_of_org(get_session(), int(org.id or 0), run_id)
    if run is None:
        abort(404)
    if is_htmx_request() and not history.progress_of(run, get_redis()).active:
        # Finished: the whole section again, so "Skip this step" and the range form follow it.
        response = _history(org, run)
        response.headers["HX-Retarget"] = "#import-history"
        response.headers["HX-Reswap"] = "outerHTML"
        return response
    return _history(org, run, fragment="partials/onboarding/_import_progress.html")


@bp.post("/history/next")
@login_required
def history_done() -> Any:
    """Skip or finish the import step: on to mapping."""
    org, elsewhere = _org_at(OnboardingStep.IMPORT_HISTORY)
    if elsewhere is not None:
        return elsewhere
    wizard.advance(get_session(), org, OnboardingStep.MAP_ACCOUNTS, _actor())
    return redirect(url_for("onboarding.mapping_page", org_id=org.id), code=303)


@bp.get("/mapping")
@login_required
def mapping_page() -> Any:
    """The mapping step of the wizard."""
    return mapping_views.show_page(current_organisation())


@bp.post("/mapping/next")
@login_required
def mapping_done() -> Any:
    """Mapping done: on to review."""
    org, elsewhere = _org_at(OnboardingStep.MAP_ACCOUNTS)
    if elsewhere is not None:
        return elsewhere
    wizard.advance(get_session(), org, OnboardingStep.REVIEW, _actor())
    return redirect(url_for("onboarding.review_page", org_id=org.id), code=303)


# --- Review ----------------------------------------------------------------------------------


@bp.get("/review")
@login_required
def review_page() -> Any:
    """The mapping summary and the preview of what Finish will post."""
    org, elsewhere = _org_at(OnboardingStep.REVIEW)
    if elsewhere is not None:
        return elsewhere
    session = get_session()
    steps = wizard.steps(org, OnboardingStep.REVIEW)
    try:
        inputs = load_inputs(current_app, session, org)
    except OUTAGES as exc:
        current_app.logger.warning("review page of org %s: %s", org.id, type(exc).__name__)
        return render(
            "onboarding/review.html",
            "onboarding/review.html",
            status=503,
            org=org,
            steps=steps,
            outage=explain(exc),
        )
    preview = review.preview(current_app, session, org, inputs.stored, inputs.chart)
    return render(
        "onboarding/review.html",
        "onboarding/review.html",
        org=org,
        steps=steps,
        outage=None,
        preview=preview,
        summary=review.mapping_summary(inputs.stored, inputs.chart, inputs.methods),
    )


@bp.post("/review")
@login_required
def finish() -> Any:
    """Finish set-up: turn sync on and post the ledger to Xero."""
    org, elsewhere = _org_at(OnboardingStep.REVIEW)
    if elsewhere is not None:
        return elsewhere
    refused = refusal_for(org, "finishing set-up")
    if refused:  # the answer beside the Finish button, not at the top of the page
        if is_htmx_request():
            return make_response(
                render_template("partials/onboarding/_finish.html", org=org, finish_error=refused),
                409,
            )
        flash_at(refused, "error", "finish")
        return redirect(url_for("onboarding.review_page", org_id=org.id), code=303)
    session = get_session()
    org.sync_enabled = True
    session.add(org)
    wizard.advance(session, org, OnboardingStep.DONE, _actor())
    session.commit()
    enqueue_once("high", "jobs.posting.post_ready", post_job_id(int(org.id or 0)), org.id)
    flash(
        "Set-up is finished. Your Amazon Business purchases are being posted to Xero, and new "
        "ones will follow by themselves.",
        "success",
    )
    if is_htmx_request():  # on to Manage Integrations, which says so first
        response = make_response("", 200)
        response.headers["HX-Redirect"] = next_step_url(org)
        return response
    return redirect(next_step_url(org), code=303)
