"""Manage Integrations (design §1 step 7): status, entries needing attention, imports, settings.

Routes (members of the organisation only; everyone else gets 404). Each GET that HTMX swaps
answers the full page to a plain request, so every URL can be bookmarked and reloaded.

- ``GET  /orgs/<id>/manage``: the page.
- ``GET  /orgs/<id>/manage/status``: connections' health, counts, sync (``#manage-status``).
- ``POST /orgs/<id>/manage/sync``: "Sync now".
- ``POST /orgs/<id>/manage/sync-enabled``: turn scheduled syncing on or off.
- ``GET  /orgs/<id>/manage/entries``: held / failed / posted entries, filtered, keyset-paginated.
- ``POST /orgs/<id>/manage/entries/retry``: retry one entry, or all entries of one reason.
- ``GET|POST /orgs/<id>/manage/import``: manual import of a date range (and its progress).
- ``POST /orgs/<id>/manage/import/<run_id>/post``: post the new entries of a manual import.
- ``GET  /orgs/<id>/manage/history``: import history.
- ``POST /orgs/<id>/manage/notify``: the signed-in member's daily digest on or off.
- ``GET  /orgs/<id>/manage/disconnect``: what disconnecting does, and the button to do it.

The organisation is loaded once for the blueprint (``plugin.auth.access``); the outbox page is
``plugin.views.outbox``.

The forms, the entries filter included, are ``plugin.manage.forms``; one no database could
read (an entry id or page cursor of 30 digits, say) answers 400.

Mutations answer HTMX with the updated fragment plus ``HX-Trigger: manage-changed`` (so the
status and history refresh), and plain forms with a redirect back to the page.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required
from sqlalchemy.exc import DBAPIError
from werkzeug.wrappers import Response as BaseResponse

from plugin.auth.access import current_organisation
from plugin.auth.access import load_organisation_from_url
from plugin.db import get_session
from plugin.infra import errors
from plugin.infra.forms import valid_or_400
from plugin.infra.htmx import is_htmx_request
from plugin.infra.htmx import render
from plugin.infra.placed_flash import flash_at
from plugin.manage import actions
from plugin.manage import manual_import
from plugin.manage.forms import MANUAL_IMPORT_WORDING
from plugin.manage.forms import EntryFilterForm
from plugin.manage.forms import NotifyForm
from plugin.manage.forms import RetryForm
from plugin.manage.forms import SyncEnabledForm
from plugin.manage.org_actions import refusal_for
from plugin.models import Organisation
from plugin.onboarding.forms import DateRangeForm
from plugin.security import set_security_headers
from plugin.views import manage_parts as parts
from plugin.views.amazon import consent_form_targets
from plugin.work.readiness import ready_to_post

bp = Blueprint("manage", __name__, url_prefix="/orgs/<int:org_id>/manage")
load_organisation_from_url(bp)

PAGE = "manage/page.html"
CHANGED = "manage-changed"


@bp.errorhandler(DBAPIError)
def _database_unavailable(error: DBAPIError) -> Any:
    """The friendly 503 page, also for a signed-in user.

    The error page's layout asks who is signed in; with the database down that would fail again
    inside the error handler, so the page is rendered as for a visitor.
    """
    g._login_user = current_app.login_manager.anonymous_user()  # type: ignore[attr-defined]
    return errors.handle_unavailable(error)


def _actor() -> str:
    return f"user:{current_user.id}"


def _answer(
    org: Organisation,
    fragment: str,
    fragment_context: dict[str, Any],
    status: int = 200,
    trigger: bool = False,
) -> Response:
    """The fragment for HTMX, else the whole page (with the fragment's context on top)."""
    if is_htmx_request():
        response = render(PAGE, fragment, status=status, **fragment_context)
    else:
        context = parts.page_context(org, fragment_context)
        response = render(PAGE, fragment, status=status, **context)
    if trigger:
        response.headers["HX-Trigger"] = CHANGED
    return response


def _kept_fragment(html: str) -> Response:
    """A part as ``plugin.views.manage_parts`` keeps it, answered as ``render`` would."""
    response = Response(html, mimetype="text/html")
    response.headers["Vary"] = "HX-Request"
    return response


def _back(org: Organisation, anchor: str = "") -> BaseResponse:
    return redirect(url_for("manage.page", org_id=org.id) + (f"#{anchor}" if anchor else ""))


# --- The page and its fragments ----------------------------------------------------------------


@bp.get("")
@login_required
def page() -> Response:
    """Manage Integrations: everything about the organisation's connection, on one page."""
    org = current_organisation()
    response = Response(parts.page_html(org), mimetype="text/html")
    response.headers["Vary"] = "HX-Request"
    # Its "Reconnect" / "Connect again" buttons end on Amazon's consent page.
    return set_security_headers(response, form_targets=consent_form_targets())


@bp.get("/status")
@login_required
def status() -> Response:
    """Connections, counts and sync (polled by the page)."""
    org = current_organisation()
    if is_htmx_request():
        return _kept_fragment(parts.status_html(org))
    return _answer(org, "partials/manage/_status.html", parts.status_context(org))


@bp.post("/sync")
@login_required
def sync_now() -> BaseResponse:
    """Queue a sync of the organisation now."""
    org = current_organisation()
    why_not = ready_to_post(org)
    if why_not is not None:
        message, category = f"Cannot sync now: {why_not}", "error"
    else:
        queued = actions.sync_now(current_app, org)
        message, category = {
            True: ("Sync started. New purchases appear here in a minute or two.", "success"),
            False: ("A sync is already on its way.", "success"),
            None: ("Background work is paused, so the sync cannot start now.", "error"),
        }[queued]
    if not is_htmx_request():
        flash_at(message, category, "status")
        return _back(org)
    context = {**parts.status_context(org), "status_message": message, "status_category": category}
    return _answer(org, "partials/manage/_status.html", context, trigger=True)


@bp.post("/sync-enabled")
@login_required
def sync_enabled() -> BaseResponse:
    """Turn scheduled syncing on or off."""
    org = current_organisation()
    form = valid_or_400(SyncEnabledForm())
    message = actions.set_sync_enabled(get_session(), org, bool(form.enabled.data), _actor())
    if not is_htmx_request():
        flash_at(message, "success", "status")
        return _back(org)
    context = {**parts.status_context(org), "status_message": message, "status_category": "success"}
    return _answer(org, "partials/manage/_status.html", context, trigger=True)


@bp.get("/entries")
@login_required
def entries() -> Response:
    """Entries by state and cause, a page at a time, by purchase date (newest first)."""
    org = current_organisation()
    wanted = valid_or_400(EntryFilterForm()).entry_filter(org.timezone)
    if is_htmx_request():
        return _kept_fragment(parts.entries_html(org, wanted))
    return _answer(org, "partials/manage/_entries.html", parts.entries_context(org, wanted))


@bp.post("/entries/retry")
@login_required
def retry() -> BaseResponse:
    """Retry one held or failed entry, or every one with a given reason."""
    org = current_organisation()
    form = valid_or_400(RetryForm())
    refusal = refusal_for(org, "retrying")
    if refusal is not None:
        if not is_htmx_request():
            flash_at(refusal, "error", "entries")
            return _back(org, "entries")
        return Response(refusal, status=409, mimetype="text/plain")
    count = actions.retry_entries(
        get_session(),
        current_app,
        org,
        _actor(),
        entry_ids=form.entry_ids(),
        reason_code=form.reason_code(),
    )
    message = (
        f"{count} {'entry goes' if count == 1 else 'entries go'} back to be posted; "
        "results appear here shortly."
        if count
        else "Nothing to retry: those entries have already moved on."
    )
    if not is_htmx_request():
        flash_at(message, "success", "entries")
        return _back(org, "entries")
    context = {**parts.entries_context(org, form.entry_filter()), "entries_message": message}
    return _answer(org, "partials/manage/_entries.html", context, trigger=True)


@bp.get("/import")
@login_required
def import_status() -> Response:
    """The manual import form, and the progress or result of the latest manual import."""
    org = current_organisation()
    context = parts.import_context(org)
    response = _answer(org, "partials/manage/_import.html", context)
    if request.args.get("polling") and not context["active"]:
        response.headers["HX-Trigger"] = CHANGED  # it just finished: refresh status, history
    return response


@bp.post("/import")
@login_required
def start_import() -> BaseResponse:
    """Import a date range from Amazon Business (nothing is posted before confirmation)."""
    org = current_organisation()
    dates = DateRangeForm(wording=MANUAL_IMPORT_WORDING)
    try:
        run = manual_import.start_manual_import(get_session(), current_app, org, dates, _actor())
    except manual_import.ImportFormError as exc:
        context = parts.import_context(org, error=str(exc), form=dates.entered())
        return _answer(org, "partials/manage/_import.html", context, status=400)
    message = manual_import.queued_message(run)
    if not is_htmx_request():
        flash_at(message, "success", "import")
        return _back(org, "import")
    context = parts.import_context(org, message=message)
    return _answer(org, "partials/manage/_import.html", context, trigger=True)


@bp.post("/import/<int:run_id>/post")
@login_required
def post_import(run_id: int) -> BaseResponse:
    """Post the new entries a manual import found."""
    org = current_organisation()
    session = get_session()
    run = manual_import.import_run_of(session, int(org.id or 0), run_id)
    if run is None:
        abort(404)
    error = ""
    why_not = ready_to_post(org)
    if why_not is not None:
        error = f"Cannot post yet: {why_not}"
    elif not manual_import.post_new(current_app, session, org, run, _actor()):
        error = "Background work is paused, so posting cannot start now. Try again shortly."
    message = "" if error else f"Posting started: {run.new} new purchases go to Xero."
    if not is_htmx_request():
        flash_at(error or message, "error" if error else "success", "import")
        return _back(org, "import")
    context = parts.import_context(org, error=error, message=message)
    status = 409 if error else 200
    return _answer(org, "partials/manage/_import.html", context, status=status, trigger=not error)


@bp.get("/history")
@login_required
def history() -> Response:
    """The organisation's latest imports."""
    org = current_organisation()
    return _answer(org, "partials/manage/_history.html", parts.history_context(org))


@bp.post("/notify")
@login_required
def notify() -> BaseResponse:
    """Turn the signed-in member's daily digest email on or off."""
    org = current_organisation()
    session = get_session()
    membership = actions.membership_of(session, int(org.id or 0), int(current_user.id))
    if membership is None:
        abort(404)
    actions.set_notify(session, membership, bool(valid_or_400(NotifyForm()).notify.data))
    message = "Saved: email digest " + ("on." if membership.notify else "off.")
    if not is_htmx_request():
        flash_at(message, "success", "notify")
        return _back(org, "notifications")
    context = {**parts.notify_context(org), "notify_message": message}
    return _answer(org, "partials/manage/_notify.html", context)


@bp.get("/disconnect")
@login_required
def confirm_disconnect() -> str:
    """Say what disconnecting does before doing it."""
    org = current_organisation()
    return render_template("manage/disconnect.html", org=org)
