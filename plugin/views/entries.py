"""One ledger entry: the page Xero documents link to (``Url``, "Go to ..." in Xero).

``GET /orgs/<org_id>/entries/<transaction_id>``: members of the organisation only (404 for
everyone else, and for a transaction the organisation does not have). Shows the state and the
reason in plain words, the Xero document, the amounts and the line items as Amazon sent them.

``GET …/state`` is the page's state section alone (HTMX polls it after a Retry, until the entry
is posted or held again, and then says why). ``POST …/retry`` sends a held or refused entry
back to be posted (the posting run re-checks it against the mapping and Xero).

``POST …/posted-by-hand`` marks a held or failed entry as posted in Xero by the user (final:
never posted by this app); ``POST …/posted-by-hand/undo`` takes the mark back and queues
posting. A card purchase held as a possible duplicate of a document already in Xero (the
bank-feed guard) has two answers: ``POST …/duplicate/confirm`` ("that is this purchase":
final, linked to that document) and ``POST …/duplicate/clear`` ("a different purchase":
posted). All answer with the entry page again (PRG) and a message; they post nothing but their
CSRF token (``ConfirmForm``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from datetime import datetime
from typing import Any

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required
from sqlmodel import Session
from sqlmodel import select
from werkzeug.wrappers import Response

from plugin.auth.access import current_organisation
from plugin.auth.access import load_organisation_from_url
from plugin.db import get_session
from plugin.infra.forms import ConfirmForm
from plugin.infra.forms import valid_or_400
from plugin.infra.placed_flash import flash_at
from plugin.manage.actions import clear_duplicate
from plugin.manage.actions import confirm_duplicate
from plugin.manage.actions import mark_posted_by_hand
from plugin.manage.actions import retry_entries
from plugin.manage.actions import unmark_posted_by_hand
from plugin.manage.corrections_view import entry_corrections
from plugin.manage.corrections_view import review_of
from plugin.manage.entries import BADGE_LABELS
from plugin.manage.entries import xero_short_code
from plugin.manage.entry import describe
from plugin.manage.entry_fix import fix_for
from plugin.manage.entry_lines import mapped_lines
from plugin.manage.entry_lines import xero_lines
from plugin.manage.entry_names import day_text
from plugin.manage.entry_names import purchase_name
from plugin.manage.org_actions import refusal_for
from plugin.models import EntryState
from plugin.models import LedgerEntry
from plugin.models import Organisation
from plugin.models import OrgStatus
from plugin.models import PaymentMethod
from plugin.work.card_bill_payments import card_payment_of
from plugin.xero.links import document_url

bp = Blueprint("entries", __name__, url_prefix="/orgs/<int:org_id>/entries")
load_organisation_from_url(bp)


@bp.app_template_filter("day")
def _day(moment: date | datetime | None) -> str:
    """A date as every page writes it: "30 Nov 2026" (no leading zero)."""
    return day_text(moment)


@bp.app_template_global("entry_badge")
def _entry_badge(state: str) -> str:
    """An entry's badge in the entries list: the name of the filter that shows it."""
    return BADGE_LABELS.get(EntryState(state), str(state).capitalize())


@bp.app_template_global("org_refusal")
def _org_refusal(org: Organisation, action: str) -> str | None:
    """Why ``action`` is off for this org (Xero disconnected or to reconnect), else None: the
    pages switch the action off and say this; the server refuses it with the same words."""
    return refusal_for(org, action)


@bp.get("/<transaction_id>")
@login_required
def entry(transaction_id: str) -> Any:
    """The ledger entry of one Amazon Business transaction."""
    org = current_organisation()
    session = get_session()
    found = _entry_or_404(session, org, transaction_id)
    method = session.exec(
        select(PaymentMethod).where(
            PaymentMethod.organisation_id == org.id,
            PaymentMethod.key == (found.payment_method_key or ""),
        )
    ).first()
    payment = card_payment_of(session, found)
    view = describe(found, method, payment)
    short_code = xero_short_code(current_app, org)
    return render_template(
        "entries/entry.html",
        org=org,
        view=view,
        name=purchase_name(found),
        xero_lines=xero_lines(session, current_app, org, found),
        mapped=mapped_lines(session, org, found),
        document_url=document_url(found.xero_document_type, found.xero_document_id, short_code),
        corrections=entry_corrections(session, int(found.id or 0)),
        review=review_of(session, found),
        **_state_context(org, found, view),
    )


@bp.get("/<transaction_id>/state")
@login_required
def state(transaction_id: str) -> Any:
    """The entry's state section (polled after a Retry until it settles)."""
    org = current_organisation()
    found = _entry_or_404(get_session(), org, transaction_id)
    view = describe(found, None)
    return render_template(
        "partials/entries/_state.html", org=org, view=view, **_state_context(org, found, view)
    )


def _state_context(org: Organisation, found: LedgerEntry, view: Any) -> dict[str, Any]:
    retried = request.args.get("retried") == "1"
    short_code = xero_short_code(current_app, org)
    return {
        "duplicate_url": document_url("BankTransactions", found.duplicate_of, short_code),
        "fix": fix_for(int(org.id or 0), found.reason_code, found.reason),
        "retried": retried,
        "settling": found.state in SETTLING,
        "org_active": org.status == OrgStatus.ACTIVE,
    }


@bp.post("/<transaction_id>/retry")
@login_required
def retry(transaction_id: str) -> Response:
    """Send a held or refused entry back to be posted; its page then follows it."""
    org = current_organisation()
    valid_or_400(ConfirmForm())
    session = get_session()
    found = _entry_or_404(session, org, transaction_id)
    refusal = refusal_for(org)
    if refusal is not None:
        flash_at(refusal, "error", ENTRY_PLACE)
        return _back_to(org, transaction_id)
    if found.state not in RETRYABLE:
        flash_at(NOT_HELD, "error", ENTRY_PLACE)
        return _back_to(org, transaction_id)
    retry_entries(session, current_app, org, _actor(), entry_ids=[int(found.id or 0)])
    # No flash: the state section says it ("Checking it again…") and then how it ended.
    return redirect(
        url_for("entries.entry", org_id=org.id, transaction_id=transaction_id, retried=1)
    )


ENTRY_PLACE = "entry"  # the entry page's forms say what happened in its state section
SETTLING = (EntryState.FETCHED, EntryState.READY, EntryState.POSTING)
RETRYABLE = (EntryState.HELD, EntryState.FAILED)
NOT_HELD = "Nothing changed: this purchase is no longer held (reload to see where it is)."
NOT_A_DUPLICATE = "Nothing changed: this purchase is no longer held as a possible duplicate."


@bp.post("/<transaction_id>/posted-by-hand")
@login_required
def posted_by_hand(transaction_id: str) -> Response:
    """Mark a held or failed entry as posted in Xero by the user."""
    return _act(
        transaction_id,
        lambda session, org, found: mark_posted_by_hand(
            session, org, found, _actor(), _user_name()
        ),
        "Marked as posted by hand. This app will never post it.",
        NOT_HELD,
    )


@bp.post("/<transaction_id>/posted-by-hand/undo")
@login_required
def posted_by_hand_undo(transaction_id: str) -> Response:
    """Take back "posted by hand": the entry is evaluated and posted again if it can be."""
    return _act(
        transaction_id,
        lambda session, org, found: unmark_posted_by_hand(
            session, current_app, org, found, _actor()
        ),
        "The mark is taken back: this purchase is checked and posted again.",
        "Nothing changed: this purchase is not marked as posted by hand.",
    )


@bp.post("/<transaction_id>/duplicate/confirm")
@login_required
def duplicate_confirm(transaction_id: str) -> Response:
    """ "That is this purchase": the document found in Xero is this one; never posted."""
    return _act(
        transaction_id,
        lambda session, org, found: confirm_duplicate(session, org, found, _actor(), _user_name()),
        "Linked to the document already in Xero. This app will never post it.",
        NOT_A_DUPLICATE,
    )


@bp.post("/<transaction_id>/duplicate/clear")
@login_required
def duplicate_clear(transaction_id: str) -> Response:
    """ "It is a different purchase: post it"."""
    return _act(
        transaction_id,
        lambda session, org, found: clear_duplicate(session, current_app, org, found, _actor()),
        "Understood: a different purchase. It is posted now.",
        NOT_A_DUPLICATE,
    )


def _act(
    transaction_id: str,
    action: Callable[[Session, Organisation, LedgerEntry], bool],
    done: str,
    nothing: str,
) -> Response:
    """Run one of the entry's actions (CSRF checked) and come back to its page with a message."""
    org = current_organisation()
    valid_or_400(ConfirmForm())
    session = get_session()
    found = _entry_or_404(session, org, transaction_id)
    if action(session, org, found):
        flash_at(done, "success", ENTRY_PLACE)
    else:
        flash_at(nothing, "error", ENTRY_PLACE)
    return _back_to(org, transaction_id)


def _actor() -> str:
    return f"user:{current_user.id}"


def _user_name() -> str:
    return str(current_user.name or current_user.email or f"user {current_user.id}")


def _entry_or_404(session: Session, org: Organisation, transaction_id: str) -> LedgerEntry:
    found = session.exec(
        select(LedgerEntry).where(
            LedgerEntry.organisation_id == org.id,
            LedgerEntry.amazon_transaction_id == transaction_id,
        )
    ).first()
    if found is None:
        abort(404)
    return found


def _back_to(org: Organisation, transaction_id: str) -> Response:
    return redirect(url_for("entries.entry", org_id=org.id, transaction_id=transaction_id))
