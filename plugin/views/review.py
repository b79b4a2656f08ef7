"""The review page (issue 16 point 4): purchases waiting for the bookkeeper's approval, each with
the Xero document it would become; approve all, a selection or one; change one purchase's
coding; switch between posting automatically and reviewing first.

Routes (members of the organisation only; everyone else gets 404):

- ``GET  /orgs/<id>/review``: the page (``?before=`` pages the list; HTMX gets ``#review-list``).
- ``POST /orgs/<id>/review/approve``: approve ``only``, the ticked ``entry_ids``, or ``all``
  (``as_of`` the page's moment); then the posting run starts.
- ``GET  /orgs/<id>/review/<entry>/coding``: one purchase's coding form (``#review-item-<id>``).
- ``POST /orgs/<id>/review/<entry>/coding``: save it (``action=approve``: and approve it).
- ``GET  /orgs/<id>/review/<entry>``: one purchase of the list (cancelling the coding form).
- ``POST /orgs/<id>/review/mode``: review before posting on or off.

Mutations answer HTMX with the updated fragment plus ``HX-Trigger: manage-changed``, and plain
forms with a redirect back to the page.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import redirect
from flask import url_for
from flask_login import current_user
from flask_login import login_required
from werkzeug.wrappers import Response as BaseResponse

from plugin import ledger
from plugin.auth.access import current_organisation
from plugin.auth.access import load_organisation_from_url
from plugin.db import get_session
from plugin.infra.forms import first_error
from plugin.infra.forms import valid_or_400
from plugin.infra.htmx import is_htmx_request
from plugin.infra.htmx import render
from plugin.infra.placed_flash import flash_at
from plugin.ledger import review as ledger_review
from plugin.manage import review_actions
from plugin.manage import review_coding
from plugin.manage import review_list
from plugin.manage.review_forms import ApproveForm
from plugin.manage.review_forms import CodingForm
from plugin.manage.review_forms import ModeForm
from plugin.manage.review_forms import ReviewListForm
from plugin.models import LedgerEntry
from plugin.models import Organisation

bp = Blueprint("review", __name__, url_prefix="/orgs/<int:org_id>/review")
load_organisation_from_url(bp)

PAGE = "review/page.html"
LIST = "partials/review/_list.html"
ITEM = "partials/review/_item.html"
CODING = "partials/review/_coding.html"
MODE = "partials/review/_mode.html"
CHANGED = "manage-changed"


def _actor() -> str:
    return str(getattr(current_user, "email", "") or f"user:{current_user.id}")


def _list_context(org: Organisation, before: int | None = None, **extra: Any) -> dict[str, Any]:
    session = get_session()
    rules = review_list.rules_for(current_app, session, org)
    return {
        "org": org,
        "review_mode": ledger_review.mode_of(org) == ledger_review.REVIEW_FIRST,
        "listing": review_list.review_page(session, org, rules, before),
        "before": before,
        **extra,
    }


def _answer(org: Organisation, fragment: str, context: dict[str, Any], status: int = 200) -> Any:
    if is_htmx_request():
        response = render(PAGE, fragment, status=status, **context)
        response.headers["HX-Trigger"] = CHANGED
        return response
    return render(PAGE, PAGE, status=status, **{**_list_context(org), **context})


def _back(org: Organisation) -> BaseResponse:
    return redirect(url_for("review.page", org_id=org.id))


@bp.get("")
@login_required
def page() -> Response:
    """The purchases waiting for review, with the documents they would become."""
    org = current_organisation()
    before = valid_or_400(ReviewListForm()).before.data
    return render(PAGE, LIST, **_list_context(org, before))


@bp.post("/approve")
@login_required
def approve() -> BaseResponse:
    """Approve one, the ticked, or all purchases in review; they post at once."""
    org = current_organisation()
    form = valid_or_400(ApproveForm())
    chosen = form.chosen()
    if chosen is None and form.as_of.data is None:
        abort(400, description="Reload the page to approve what it shows.")
    outcome = review_actions.approve_entries(
        get_session(), current_app, org, _actor(), chosen, form.as_of.data
    )
    if not is_htmx_request():
        flash_at(outcome.message, "success" if outcome.approved else "error", "review")
        return _back(org)
    context = _list_context(org, review_message=outcome.message, approved=outcome.approved)
    return _answer(org, LIST, context)


def _entry_or_404(org: Organisation, entry_id: int) -> LedgerEntry:
    entry = get_session().get(LedgerEntry, entry_id)
    if entry is None or entry.organisation_id != org.id:
        abort(404)
    return entry


def _item_context(org: Organisation, entry_id: int, **extra: Any) -> dict[str, Any]:
    session = get_session()
    rules = review_list.rules_for(current_app, session, org)
    return {"org": org, "item": review_list.review_item(session, org, entry_id, rules), **extra}


def _coding_context(org: Organisation, entry: LedgerEntry, **extra: Any) -> dict[str, Any]:
    session = get_session()
    rules = review_list.rules_for(current_app, session, org)
    context = ledger.context_for(session, int(org.id or 0), [entry], rules.context)
    lines = review_coding.coding_lines(entry, rules, context)
    return {
        "org": org,
        "item": review_list.review_item(session, org, int(entry.id or 0), rules),
        "lines": lines,
        "choices": review_coding.choices_of(rules.chart, lines) if rules.chart else None,
        "problem": rules.problem,
        **extra,
    }


@bp.get("/<int:entry_id>")
@login_required
def item(entry_id: int) -> Response:
    """One purchase of the list."""
    org = current_organisation()
    _entry_or_404(org, entry_id)
    return render(PAGE, ITEM, **{**_list_context(org), **_item_context(org, entry_id)})


@bp.get("/<int:entry_id>/coding")
@login_required
def coding(entry_id: int) -> Response:
    """The form changing one purchase's account, tax rate and tracking."""
    org = current_organisation()
    entry = _entry_or_404(org, entry_id)
    context = _coding_context(org, entry)
    if is_htmx_request():
        return render(PAGE, CODING, **context)
    return render(PAGE, PAGE, **{**_list_context(org), "coding_item": context})


@bp.post("/<int:entry_id>/coding")
@login_required
def save_coding(entry_id: int) -> BaseResponse:
    """Save one purchase's coding (and approve it when asked)."""
    org = current_organisation()
    entry = _entry_or_404(org, entry_id)
    form = CodingForm()
    if not form.validate():
        abort(400, description=first_error(form))
    context = _coding_context(org, entry)
    if context["choices"] is None:
        return _answer(org, CODING, {**context, "coding_error": context["problem"]}, 503)
    session = get_session()
    try:
        chosen = review_coding.coding_from_choices(
            context["lines"], form.choices(), context["choices"]
        )
        review_actions.save_coding(session, org, entry_id, chosen, _actor())
    except review_coding.CodingRefused as refused:
        return _answer(org, CODING, {**context, "coding_error": str(refused)}, 400)
    except ledger_review.NotInReview:
        message = "This purchase is no longer waiting for review, so its coding stays as it was."
        return _answer(org, ITEM, _item_context(org, entry_id, item_message=message), 409)
    message = "Coding saved: the document below is what approving posts."
    if form.then_approve:
        outcome = review_actions.approve_entries(session, current_app, org, _actor(), [entry_id])
        message = "Coding saved. " + outcome.message
    if not is_htmx_request():
        flash_at(message, "success", "review")
        return _back(org)
    return _answer(org, ITEM, _item_context(org, entry_id, item_message=message))


@bp.post("/mode")
@login_required
def mode() -> BaseResponse:
    """Post automatically, or review purchases first."""
    org = current_organisation()
    form = valid_or_400(ModeForm())
    message = review_actions.set_mode(get_session(), org, bool(form.review.data), _actor())
    if not is_htmx_request():
        flash_at(message, "success", "review")
        return _back(org)
    return _answer(org, LIST, _list_context(org, mode_message=message))
