"""Friendly error pages: no traceback ever reaches a user; unexpected errors get a reference id
that is also in the log, and an unreachable database or Redis gives a calm 503 page."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import redis
from flask import Flask
from flask import g
from flask import jsonify
from flask import render_template
from flask import request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from plugin.auth.login import login_manager
from plugin.infra.htmx import is_htmx_request

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith(("/healthz", "/webhooks/"))


def _page(template: str, status: int, **context: Any) -> Any:
    if _wants_json():
        return jsonify({"error": context.get("title", "error"), **context}), status
    if is_htmx_request():
        return render_template("errors/_inline.html", status=status, **context), status
    return render_template(template, status=status, **context), status


SHORT_MESSAGES = {
    400: "The form was not filled in right. Reload the page and try again.",
    403: "You cannot do that here.",
    404: "That is no longer here. Reload the page to see what changed.",
    405: "That cannot be done from here. Reload the page and try again.",
    409: "Something changed meanwhile. Reload the page and try again.",
    413: "That file is too large.",
    429: "Too many requests in a short time. Wait a minute and try again.",
}
"""Our words for an ``abort(code)`` that gave no reason of its own (instead of Werkzeug's)."""


def human_description(error: HTTPException) -> str:
    """The error's own reason, or our short message for its code (never Werkzeug's default)."""
    default = type(error).description
    if error.description and error.description != default:
        return str(error.description)
    return SHORT_MESSAGES.get(error.code or 500, "That did not work. Please try again.")


def handle_http_error(error: HTTPException) -> Any:
    """4xx/5xx raised on purpose (abort): a page (or, for HTMX, a short message) naming what
    happened."""
    message = human_description(error)
    title = error.name
    if error.code == 404 and not is_htmx_request() and message == SHORT_MESSAGES[404]:
        # A page opened from a link or the address bar (a short answer for a form says less).
        title = "Page not found"
        message = (
            "There is no page at this address, or it is not one you can see. Check the link, "
            "or start again from your organisations."
        )
    return _page("errors/error.html", error.code or 500, title=title, message=message)


def handle_csrf_error(error: CSRFError) -> Any:
    """A form or HTMX post without a valid CSRF token."""
    return _page(
        "errors/error.html",
        400,
        title="This form has expired",
        message="Please reload the page and try again. (" + str(error.description) + ")",
    )


def handle_unavailable(error: Exception) -> Any:
    """The database or Redis did not answer: a friendly 503, details in the log."""
    # The page header asks who is signed in, which would read the database that just failed:
    # render this page as for a signed-out visitor instead.
    g._login_user = login_manager.anonymous_user()
    g.pop("db_session", None)
    reference = uuid.uuid4().hex[:12]
    log.error("Service unavailable [ref %s]: %s", reference, type(error).__name__)
    return _page(
        "errors/error.html",
        503,
        title="We'll be right back",
        message="A service we depend on is not answering. Nothing was lost; please try again "
        "in a minute.",
        reference=reference,
    )


def handle_unexpected(error: Exception) -> Any:
    """Anything else: log it with a reference id and show only the id."""
    reference = uuid.uuid4().hex[:12]
    log.exception("Unexpected error [ref %s] on %s %s", reference, request.method, request.path)
    return _page(
        "errors/error.html",
        500,
        title="Something went wrong",
        message="The error has been logged. If it keeps happening, quote the reference below.",
        reference=reference,
    )


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(OperationalError, handle_unavailable)
    app.register_error_handler(DBAPIError, handle_unavailable)
    app.register_error_handler(redis.ConnectionError, handle_unavailable)
    app.register_error_handler(redis.TimeoutError, handle_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
