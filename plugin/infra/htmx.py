"""Page-or-fragment rendering for HTMX (wrapping the small htmx-flask extension).

Each URL that HTMX polls or swaps answers with the fragment alone for HTMX requests and with
the full page otherwise; both come from the same partial template so they cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask import make_response
from flask import render_template
from flask import request
from htmx_flask import Htmx

htmx = Htmx()


def is_htmx_request() -> bool:
    """True for an HTMX request that wants a fragment (not a history restore)."""
    hx = getattr(request, "htmx", None)
    return bool(hx) and not getattr(hx, "history_restore_request", False)


def render(page: str, fragment: str, status: int = 200, **context: Any) -> Response:
    """Render ``fragment`` for HTMX requests and ``page`` otherwise, with ``Vary: HX-Request``."""
    template = fragment if is_htmx_request() else page
    response = make_response(render_template(template, **context), status)
    response.headers["Vary"] = "HX-Request"
    return response
